//! Fields, parameters and headers: one set of rules for removals, additions, type,
//! required, default and bounds, judged by the direction the owner travels in.

use blueprint_spec::Span;
use blueprint_spec::ir::{
    Bound, Documented, Field, Header, Parameter, ParameterLocation, Primitive, TypeRef,
};

use super::{Differ, Loc, Owner, join_path};
use crate::ChangeKind::{Breaking, NonBreaking};
use crate::category::{Category, Scope};

impl Differ<'_> {
    pub(super) fn members(
        &mut self,
        kind: MemberKind,
        owner: &Owner,
        old: &[Member],
        new: &[Member],
        parent: Loc,
    ) {
        let scope = owner.scope();
        for o in old {
            let path = join_path(&owner.path, &format!("{}.{}", kind.plural(), o.name));
            let Some(n) = new.iter().find(|n| n.name == o.name) else {
                let (k, cat) = match kind {
                    // A header the server no longer reads costs clients nothing (apibuilder).
                    MemberKind::Header => (NonBreaking, Category::HeaderRemoved),
                    MemberKind::Field => (Breaking, Category::FieldRemoved),
                    MemberKind::Parameter => (Breaking, Category::ParameterRemoved),
                };
                let mut message =
                    format!("{} `{}` removed from {}", kind.label(), o.name, owner.label);
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; consumers of {} that read it break",
                        owner.streams()
                    ));
                }
                let loc = Loc::removed(o.span, parent.new);
                self.push(k, scope, cat, path, message, loc);
                continue;
            };
            self.member(kind, owner, &path, o, n);
        }
        for n in new.iter().filter(|n| !old.iter().any(|o| o.name == n.name)) {
            let path = join_path(&owner.path, &format!("{}.{}", kind.plural(), n.name));
            let loc = Loc::new(n.span);
            if n.required && n.default.is_none() {
                let cat = kind.pick(
                    Category::FieldAddedRequired,
                    Category::ParameterAddedRequired,
                    Category::HeaderAddedRequired,
                );
                let mut message = format!(
                    "required {} `{}` added to {} without a default",
                    kind.label(),
                    n.name,
                    owner.label
                );
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; events already stored on {} lack it",
                        owner.streams()
                    ));
                } else if kind == MemberKind::Field {
                    message.push_str("; writers of the old shape omit it");
                }
                self.push(Breaking, scope, cat, path, message, loc);
            } else {
                let cat = kind.pick(
                    Category::FieldAdded,
                    Category::ParameterAdded,
                    Category::HeaderAdded,
                );
                let how = match n.default {
                    Some(d) if n.required => format!("required with default {d}"),
                    Some(d) => format!("optional, default {d}"),
                    None => "optional".into(),
                };
                let message = format!(
                    "{} `{}` added to {} ({how})",
                    kind.label(),
                    n.name,
                    owner.label
                );
                self.push(NonBreaking, scope, cat, path, message, loc);
            }
        }
    }

    pub(super) fn member(
        &mut self,
        kind: MemberKind,
        owner: &Owner,
        path: &str,
        o: &Member,
        n: &Member,
    ) {
        let scope = owner.scope();
        let loc = Loc::both(o.span, n.span);
        let what = format!("{} `{}` of {}", kind.label(), o.name, owner.label);
        let (ot, nt) = (self.old_type(o.type_), self.new_type(n.type_));
        if ot != nt {
            let cat = kind.pick(
                Category::FieldTypeChanged,
                Category::ParameterTypeChanged,
                Category::HeaderTypeChanged,
            );
            let mut message = format!("{what} changed type from `{ot}` to `{nt}`");
            match (numeric_rank(o.type_), numeric_rank(n.type_)) {
                (Some(a), Some(b)) if b < a => {
                    message.push_str(" (narrowed: old values may not fit)")
                }
                (Some(a), Some(b)) if b > a => {
                    message.push_str(" (widened: old readers may not fit new values)")
                }
                _ => {}
            }
            if scope == Scope::Event {
                message.push_str(&format!(
                    "; events already stored on {} were written as `{ot}`",
                    owner.streams()
                ));
            }
            self.push(
                Breaking,
                scope,
                cat,
                format!("{path}.type"),
                message,
                Loc::both(o.type_span, n.type_span),
            );
        }
        if let (Some(a), Some(b)) = (o.location, n.location)
            && a != b
        {
            let message = format!(
                "{what} moved from {} to {}",
                location_name(a),
                location_name(b)
            );
            self.push(
                Breaking,
                scope,
                Category::ParameterLocationChanged,
                format!("{path}.location"),
                message,
                loc,
            );
        }
        match (o.required, n.required) {
            (false, true) => {
                let cat = kind.pick(
                    Category::FieldNowRequired,
                    Category::ParameterNowRequired,
                    Category::HeaderNowRequired,
                );
                let mut message = format!("{what} is now required");
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; events already stored on {} may lack it",
                        owner.streams()
                    ));
                }
                self.push(
                    Breaking,
                    scope,
                    cat,
                    format!("{path}.required"),
                    message,
                    loc,
                );
            }
            (true, false) => {
                let cat = kind.pick(
                    Category::FieldNowOptional,
                    Category::ParameterNowOptional,
                    Category::HeaderNowOptional,
                );
                // Optional in what clients send is relief; in what they read it is a hole.
                let readers = kind == MemberKind::Field && owner.usage.is_read_by_clients();
                let (k, why) = if readers {
                    let who = if scope == Scope::Event {
                        "consumers of new events"
                    } else {
                        "clients reading responses"
                    };
                    (Breaking, format!("; {who} that rely on it break"))
                } else {
                    (NonBreaking, String::new())
                };
                self.push(
                    k,
                    scope,
                    cat,
                    format!("{path}.required"),
                    format!("{what} is no longer required{why}"),
                    loc,
                );
            }
            _ => {}
        }
        let dpath = format!("{path}.default");
        match (o.default, n.default) {
            (Some(a), None) => {
                let message = format!("{what} lost its default {a}: callers that omit it now fail");
                self.push(
                    Breaking,
                    scope,
                    Category::DefaultRemoved,
                    dpath,
                    message,
                    loc,
                );
            }
            (None, Some(b)) => {
                let message = format!("{what} now defaults to {b}");
                self.push(
                    NonBreaking,
                    scope,
                    Category::DefaultAdded,
                    dpath,
                    message,
                    loc,
                );
            }
            (Some(a), Some(b)) if a != b => {
                // The default is what an omitted value means: for requests and stored
                // events that meaning changes silently; readers of responses see values.
                let request_side =
                    kind != MemberKind::Field || owner.usage.request || owner.usage.is_event();
                let k = if request_side { Breaking } else { NonBreaking };
                let message =
                    format!("{what} default changed from {a} to {b}: omitted values now mean {b}");
                self.push(k, scope, Category::DefaultChanged, dpath, message, loc);
            }
            _ => {}
        }
        self.bounds(scope, path, &what, o, n, loc);
        self.metadata(&owner.child(path, what), o.meta, n.meta, loc);
    }

    pub(super) fn bounds(
        &mut self,
        scope: Scope,
        path: &str,
        what: &str,
        o: &Member,
        n: &Member,
        loc: Loc,
    ) {
        let min_path = format!("{path}.minimum");
        match (o.minimum, n.minimum) {
            (None, Some(b)) => self.push(
                Breaking,
                scope,
                Category::MinimumRaised,
                min_path,
                format!("{what} now has minimum {b}"),
                loc,
            ),
            (Some(a), None) => self.push(
                NonBreaking,
                scope,
                Category::MinimumLowered,
                min_path,
                format!("{what} minimum {a} removed"),
                loc,
            ),
            (Some(a), Some(b)) if b.value > a.value => self.push(
                Breaking,
                scope,
                Category::MinimumRaised,
                min_path,
                format!("{what} minimum raised from {a} to {b}"),
                loc,
            ),
            (Some(a), Some(b)) if b.value < a.value => self.push(
                NonBreaking,
                scope,
                Category::MinimumLowered,
                min_path,
                format!("{what} minimum lowered from {a} to {b}"),
                loc,
            ),
            _ => {}
        }
        let max_path = format!("{path}.maximum");
        match (o.maximum, n.maximum) {
            (None, Some(b)) => self.push(
                Breaking,
                scope,
                Category::MaximumLowered,
                max_path,
                format!("{what} now has maximum {b}"),
                loc,
            ),
            (Some(a), None) => self.push(
                NonBreaking,
                scope,
                Category::MaximumRaised,
                max_path,
                format!("{what} maximum {a} removed"),
                loc,
            ),
            (Some(a), Some(b)) if b.value < a.value => self.push(
                Breaking,
                scope,
                Category::MaximumLowered,
                max_path,
                format!("{what} maximum lowered from {a} to {b}"),
                loc,
            ),
            (Some(a), Some(b)) if b.value > a.value => self.push(
                NonBreaking,
                scope,
                Category::MaximumRaised,
                max_path,
                format!("{what} maximum raised from {a} to {b}"),
                loc,
            ),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MemberKind {
    Field,
    Parameter,
    Header,
}

impl MemberKind {
    fn label(self) -> &'static str {
        match self {
            MemberKind::Field => "field",
            MemberKind::Parameter => "parameter",
            MemberKind::Header => "header",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            MemberKind::Field => "fields",
            MemberKind::Parameter => "parameters",
            MemberKind::Header => "headers",
        }
    }

    fn pick(self, field: Category, parameter: Category, header: Category) -> Category {
        match self {
            MemberKind::Field => field,
            MemberKind::Parameter => parameter,
            MemberKind::Header => header,
        }
    }
}

/// What fields, parameters and headers have in common, for one set of rules.
#[derive(Debug, Clone)]
pub(super) struct Member<'a> {
    pub(super) name: &'a str,
    type_: &'a TypeRef,
    required: bool,
    default: Option<&'a serde_json::Value>,
    minimum: Option<&'a Bound>,
    maximum: Option<&'a Bound>,
    /// Description, example, deprecation and attributes.
    meta: &'a dyn Documented,
    location: Option<ParameterLocation>,
    span: Span,
    type_span: Span,
}

impl<'a> Member<'a> {
    pub(super) fn field(f: &'a Field) -> Self {
        Member {
            name: &f.name,
            type_: &f.type_,
            required: f.required,
            default: f.default.as_ref(),
            minimum: f.minimum.as_ref(),
            maximum: f.maximum.as_ref(),
            meta: f,
            location: None,
            span: f.span,
            type_span: if f.type_span.is_empty() {
                f.span
            } else {
                f.type_span
            },
        }
    }

    pub(super) fn parameter(p: &'a Parameter) -> Self {
        Member {
            name: &p.name,
            type_: &p.type_,
            required: p.required,
            default: p.default.as_ref(),
            minimum: p.minimum.as_ref(),
            maximum: p.maximum.as_ref(),
            meta: p,
            location: Some(p.location),
            span: p.span,
            type_span: p.span,
        }
    }

    pub(super) fn header(h: &'a Header) -> Self {
        Member {
            name: &h.name,
            type_: &h.type_,
            required: h.required,
            default: h.default.as_ref(),
            minimum: None,
            maximum: None,
            meta: h,
            location: None,
            span: h.span,
            type_span: h.span,
        }
    }
}

fn location_name(l: ParameterLocation) -> &'static str {
    match l {
        ParameterLocation::Path => "path",
        ParameterLocation::Query => "query",
        ParameterLocation::Form => "form",
        ParameterLocation::Header => "header",
    }
}

/// Ordering of numeric types by the values they hold, to say narrowed or widened.
fn numeric_rank(t: &TypeRef) -> Option<u8> {
    match t {
        TypeRef::Primitive(Primitive::Integer) => Some(0),
        TypeRef::Primitive(Primitive::Long) => Some(1),
        TypeRef::Primitive(Primitive::Double) => Some(2),
        TypeRef::Primitive(Primitive::Decimal) => Some(3),
        _ => None,
    }
}
