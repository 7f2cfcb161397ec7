//! Type definitions: models, interfaces, enums (wire values), unions
//! (discriminators, members, defaults) and streams.

use blueprint_spec::Span;
use blueprint_spec::ir::{Enum, Interface, Model, Service, Stream, TypeKind, Union};

use super::members::{Member, MemberKind};
use super::{Differ, Loc, Owner, event_note};
use crate::ChangeKind::{Breaking, NonBreaking};
use crate::category::{Category, Scope};
use crate::usage::stream_name;

impl Differ<'_> {
    /// Compare the type definitions of one service (`local`) or one import.
    pub(super) fn types(&mut self, old: &Service, new: &Service, local: bool) {
        let prefix = if local {
            String::new()
        } else {
            format!("{}.", old.namespace)
        };
        macro_rules! each_kind {
            ($field:ident, $kind:expr, $diff:ident) => {
                for o in &old.$field {
                    let key = self.type_key(old, local, $kind, &o.name);
                    if !local && !self.usage.is_reached(&key) {
                        continue;
                    }
                    let owner = Owner::new(
                        format!("{prefix}{}.{}", $kind.plural(), o.name),
                        format!("{} `{}`", kind_label($kind), key),
                        self.usage.get(&key),
                    );
                    let found = new.$field.iter().find(|n| n.name == o.name);
                    for owner in owner.audiences() {
                        match found {
                            Some(n) => self.$diff(&owner, o, n),
                            None => self.type_removed(&owner, o.span),
                        }
                    }
                }
                if local {
                    for n in new
                        .$field
                        .iter()
                        .filter(|n| !old.$field.iter().any(|o| o.name == n.name))
                    {
                        self.push(
                            NonBreaking,
                            Scope::Api,
                            Category::TypeAdded,
                            format!("{prefix}{}.{}", $kind.plural(), n.name),
                            format!("{} `{}` added", kind_label($kind), n.name),
                            Loc::new(n.span),
                        );
                    }
                }
            };
        }
        each_kind!(enums, TypeKind::Enum, enum_);
        each_kind!(interfaces, TypeKind::Interface, interface);
        each_kind!(models, TypeKind::Model, model);
        each_kind!(unions, TypeKind::Union, union);
    }

    /// The usage key of a type: as the referencing spec writes it.
    pub(super) fn type_key(
        &self,
        service: &Service,
        local: bool,
        kind: TypeKind,
        name: &str,
    ) -> String {
        if local {
            name.to_string()
        } else {
            service.named(kind, name).qualified()
        }
    }

    pub(super) fn type_removed(&mut self, owner: &Owner, old_span: Span) {
        let mut message = format!("{} removed", owner.label);
        if owner.usage.is_event() {
            message.push_str(&format!(
                "; consumers of {} can no longer read events that contain it",
                owner.streams()
            ));
        }
        let loc = Loc::old(old_span);
        self.push(
            Breaking,
            owner.scope(),
            Category::TypeRemoved,
            &owner.path,
            message,
            loc,
        );
    }

    pub(super) fn model(&mut self, owner: &Owner, old: &Model, new: &Model) {
        let loc = Loc::both(old.span, new.span);
        self.plural(owner, &old.plural, &new.plural, loc);
        self.metadata(owner, old, new, loc);
        self.implements(owner, &old.interfaces, &new.interfaces, loc);
        let old_f: Vec<Member> = old.fields.iter().map(Member::field).collect();
        let new_f: Vec<Member> = new.fields.iter().map(Member::field).collect();
        self.members(MemberKind::Field, owner, &old_f, &new_f, loc);
    }

    pub(super) fn interface(&mut self, owner: &Owner, old: &Interface, new: &Interface) {
        let loc = Loc::both(old.span, new.span);
        self.plural(owner, &old.plural, &new.plural, loc);
        self.metadata(owner, old, new, loc);
        let old_f: Vec<Member> = old.fields.iter().map(Member::field).collect();
        let new_f: Vec<Member> = new.fields.iter().map(Member::field).collect();
        self.members(MemberKind::Field, owner, &old_f, &new_f, loc);
    }

    pub(super) fn enum_(&mut self, owner: &Owner, old: &Enum, new: &Enum) {
        let loc = Loc::both(old.span, new.span);
        self.plural(owner, &old.plural, &new.plural, loc);
        self.metadata(owner, old, new, loc);
        let scope = owner.scope();
        // A value renamed in the spec but written the same on the wire is not a
        // wire change; pair those up first so they are not "removed" + "added".
        let renamed: Vec<(&str, &str)> = old
            .values
            .iter()
            .filter(|o| !new.values.iter().any(|n| n.name == o.name))
            .filter_map(|o| {
                new.values
                    .iter()
                    .find(|n| n.wire() == o.wire() && !old.values.iter().any(|x| x.name == n.name))
                    .map(|n| (o.name.as_str(), n.name.as_str()))
            })
            .collect();
        for o in &old.values {
            let path = format!("{}.values.{}", owner.path, o.name);
            match new.values.iter().find(|n| n.name == o.name) {
                Some(n) => {
                    let vloc = Loc::both(o.span, n.span);
                    if o.wire() != n.wire() {
                        let message = format!(
                            "{} value `{}` is now written `{}` on the wire instead of `{}`{}",
                            owner.label,
                            o.name,
                            n.wire(),
                            o.wire(),
                            event_note(owner, "stored events still carry the old value")
                        );
                        self.push(
                            Breaking,
                            scope,
                            Category::EnumValueWireChanged,
                            &path,
                            message,
                            vloc,
                        );
                    }
                    let value = owner.child(&path, format!("{} value `{}`", owner.label, o.name));
                    self.metadata(&value, o, n, vloc);
                }
                None => match renamed.iter().find(|(from, _)| *from == o.name) {
                    Some((_, to)) => {
                        let n_span = new.values.iter().find(|n| n.name == *to).map(|n| n.span);
                        let message = format!(
                            "{} value `{}` renamed to `{to}`; the wire value `{}` is unchanged",
                            owner.label,
                            o.name,
                            o.wire()
                        );
                        let vloc = Loc {
                            old: Some(o.span),
                            new: n_span,
                        };
                        self.push(
                            NonBreaking,
                            scope,
                            Category::EnumValueRenamed,
                            &path,
                            message,
                            vloc,
                        );
                    }
                    None => {
                        let message = format!(
                            "{} value `{}` removed{}",
                            owner.label,
                            o.name,
                            event_note(owner, "stored events that carry it no longer decode")
                        );
                        let vloc = Loc::removed(o.span, Some(new.span));
                        self.push(
                            Breaking,
                            scope,
                            Category::EnumValueRemoved,
                            &path,
                            message,
                            vloc,
                        );
                    }
                },
            }
        }
        for n in &new.values {
            let is_new = !old.values.iter().any(|o| o.name == n.name);
            if is_new && !renamed.iter().any(|(_, to)| *to == n.name) {
                let mut message = format!("{} value `{}` added", owner.label, n.name);
                if owner.usage.is_read_by_clients() {
                    message.push_str(" (readers must tolerate values they do not know)");
                }
                let path = format!("{}.values.{}", owner.path, n.name);
                self.push(
                    NonBreaking,
                    scope,
                    Category::EnumValueAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    pub(super) fn union(&mut self, owner: &Owner, old: &Union, new: &Union) {
        let loc = Loc::both(old.span, new.span);
        let scope = owner.scope();
        let discriminator = match (&old.discriminator, &new.discriminator) {
            (None, Some(d)) => Some((
                Category::DiscriminatorAdded,
                format!(
                    "{} now has discriminator `{d}`: members are written flattened instead of wrapped",
                    owner.label
                ),
            )),
            (Some(d), None) => Some((
                Category::DiscriminatorRemoved,
                format!(
                    "{} lost discriminator `{d}`: members are written wrapped instead of flattened",
                    owner.label
                ),
            )),
            (Some(a), Some(b)) if a != b => Some((
                Category::DiscriminatorChanged,
                format!("{} discriminator renamed from `{a}` to `{b}`", owner.label),
            )),
            _ => None,
        };
        if let Some((category, message)) = discriminator {
            let path = format!("{}.discriminator", owner.path);
            self.push(Breaking, scope, category, path, message, loc);
        }
        self.implements(owner, &old.interfaces, &new.interfaces, loc);
        self.plural(owner, &old.plural, &new.plural, loc);
        self.metadata(owner, old, new, loc);

        let old_default = old.default_type().map(|t| self.old_type(&t.type_));
        let new_default = new.default_type().map(|t| self.new_type(&t.type_));
        let path = format!("{}.default", owner.path);
        let default = match (&old_default, &new_default) {
            (None, Some(b)) => Some((
                NonBreaking,
                Category::UnionDefaultAdded,
                format!("{} default type set to `{b}`", owner.label),
            )),
            (Some(a), None) => Some((
                Breaking,
                Category::UnionDefaultChanged,
                format!(
                    "{} default type `{a}` removed: payloads without a discriminator no longer decode",
                    owner.label
                ),
            )),
            (Some(a), Some(b)) if a != b => Some((
                Breaking,
                Category::UnionDefaultChanged,
                format!("{} default type changed from `{a}` to `{b}`", owner.label),
            )),
            _ => None,
        };
        if let Some((kind, category, message)) = default {
            self.push(kind, scope, category, path, message, loc);
        }

        if let (Some(a), Some(b)) = (&old.stream, &new.stream) {
            self.stream(owner, a, b, loc);
        }
        let is_stream = stream_name(self.new_ns, new).is_some();
        for o in &old.types {
            let name = self.old_type(&o.type_);
            let path = format!("{}.types.{name}", owner.path);
            match new
                .types
                .iter()
                .find(|n| self.same_type(&o.type_, &n.type_))
            {
                Some(n) => {
                    let (a, b) = (o.wire_value(self.old_ns), n.wire_value(self.new_ns));
                    let tloc = Loc::both(o.span, n.span);
                    if a != b {
                        let message = format!(
                            "{} member `{name}` is now tagged `{b}` on the wire instead of `{a}`{}",
                            owner.label,
                            event_note(owner, "stored events carry the old tag")
                        );
                        self.push(
                            Breaking,
                            scope,
                            Category::UnionDiscriminatorValueChanged,
                            &path,
                            message,
                            tloc,
                        );
                    }
                    let member = owner.child(&path, format!("{} member `{name}`", owner.label));
                    self.metadata(&member, o, n, tloc);
                }
                None => {
                    let message = if is_stream {
                        format!(
                            "event type `{name}` removed from stream {}: consumers can no longer read events of this type already stored",
                            owner.streams()
                        )
                    } else {
                        format!("{} member `{name}` removed", owner.label)
                    };
                    let tloc = Loc::removed(o.span, Some(new.span));
                    self.push(
                        Breaking,
                        scope,
                        Category::UnionTypeRemoved,
                        path,
                        message,
                        tloc,
                    );
                }
            }
        }
        for n in &new.types {
            if !old.types.iter().any(|o| self.same_type(&o.type_, &n.type_)) {
                let name = self.new_type(&n.type_);
                let message = if is_stream {
                    format!("event type `{name}` added (consumers skip types they do not know)")
                } else {
                    format!("{} member `{name}` added", owner.label)
                };
                let path = format!("{}.types.{name}", owner.path);
                self.push(
                    NonBreaking,
                    scope,
                    Category::UnionTypeAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    pub(super) fn stream(&mut self, owner: &Owner, old: &Stream, new: &Stream, loc: Loc) {
        let scope = owner.scope();
        if old.partition_key != new.partition_key {
            let show = |k: &Option<String>| {
                k.as_deref()
                    .map_or("none".to_string(), |k| format!("`{k}`"))
            };
            let message = format!(
                "stream `{}` partition key changed from {} to {}: events of one key may now be read out of order",
                new.name,
                show(&old.partition_key),
                show(&new.partition_key)
            );
            let path = format!("{}.stream.partition_key", owner.path);
            self.push(
                Breaking,
                scope,
                Category::StreamPartitionKeyChanged,
                path,
                message,
                loc,
            );
        }
        let path = format!("{}.stream.retention_hours", owner.path);
        let (a, b) = (old.retention_hours, new.retention_hours);
        if b < a {
            let message = format!(
                "stream `{}` retention lowered from {a}h to {b}h: consumers down for longer than that lose events",
                new.name
            );
            self.push(
                Breaking,
                scope,
                Category::StreamRetentionLowered,
                path,
                message,
                loc,
            );
        } else if b > a {
            let message = format!("stream `{}` retention raised from {a}h to {b}h", new.name);
            self.push(
                NonBreaking,
                scope,
                Category::StreamRetentionRaised,
                path,
                message,
                loc,
            );
        }
    }

    pub(super) fn implements(&mut self, owner: &Owner, old: &[String], new: &[String], loc: Loc) {
        let added: Vec<&String> = new.iter().filter(|i| !old.contains(i)).collect();
        let removed: Vec<&String> = old.iter().filter(|i| !new.contains(i)).collect();
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let list = |v: &[&String]| {
            v.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("now implements {}", list(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("no longer implements {}", list(&removed)));
        }
        let message = format!("{} {}", owner.label, parts.join(" and "));
        let path = format!("{}.interfaces", owner.path);
        self.push(
            Breaking,
            owner.scope(),
            Category::ImplementsChanged,
            path,
            message,
            loc,
        );
    }
}

fn kind_label(kind: TypeKind) -> &'static str {
    match kind {
        TypeKind::Enum => "enum",
        TypeKind::Interface => "interface",
        TypeKind::Model => "model",
        TypeKind::Union => "union",
    }
}
