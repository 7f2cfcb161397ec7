//! The service itself: namespace, metadata, headers, imports, consumed streams,
//! annotations.

use blueprint_spec::ir::{Annotation, Import, Service};

use super::members::{Member, MemberKind};
use super::{Differ, Edit, Loc, Owner, edits};
use crate::ChangeKind::{Breaking, NonBreaking};
use crate::category::{Category, Scope};
use crate::usage::Usage;

impl Differ<'_> {
    pub(super) fn service(&mut self, old: &Service, new: &Service) {
        let loc = Loc::both(old.span, new.span);
        if old.namespace != new.namespace {
            self.push(
                Breaking,
                Scope::Api,
                Category::NamespaceChanged,
                "namespace",
                format!(
                    "namespace changed from `{}` to `{}`: generated types and stream names move",
                    old.namespace, new.namespace
                ),
                loc,
            );
        }
        let meta = [
            ("name", Some(&old.name), Some(&new.name)),
            (
                "organization",
                old.organization.as_ref(),
                new.organization.as_ref(),
            ),
            (
                "application",
                Some(&old.application),
                Some(&new.application),
            ),
            ("version", Some(&old.version), Some(&new.version)),
            ("base_url", old.base_url.as_ref(), new.base_url.as_ref()),
        ];
        for (what, a, b) in meta {
            if let Some(message) = text_change(what, a.map(String::as_str), b.map(String::as_str)) {
                let cat = Category::ServiceMetadataChanged;
                self.push(NonBreaking, Scope::Api, cat, what, message, loc);
            }
        }
        if old.info != new.info {
            let cat = Category::ServiceMetadataChanged;
            self.push(
                NonBreaking,
                Scope::Api,
                cat,
                "info",
                "info (contact, license) changed",
                loc,
            );
        }
        let owner = Owner::new(String::new(), "service", Usage::default());
        self.metadata(&owner, old, new, loc);

        let headers = Owner::new(
            String::new(),
            "service",
            Usage {
                request: true,
                ..Usage::default()
            },
        );
        let old_h: Vec<Member> = old.headers.iter().map(Member::header).collect();
        let new_h: Vec<Member> = new.headers.iter().map(Member::header).collect();
        self.members(MemberKind::Header, &headers, &old_h, &new_h, Loc::default());

        let changed = |a: &Import, b: &Import| a.version != b.version || a.namespace != b.namespace;
        for edit in edits(&old.imports, &new.imports, |i| &i.uri, changed) {
            let (uri, how, loc) = match edit {
                Edit::Removed(i) => (
                    &i.uri,
                    "removed".to_string(),
                    Loc::removed(i.span, Some(new.span)),
                ),
                Edit::Changed(i, n) => {
                    let how = format!(
                        "changed from {} {} to {} {}",
                        i.namespace, i.version, n.namespace, n.version
                    );
                    (&i.uri, how, Loc::both(i.span, n.span))
                }
                Edit::Added(n) => (&n.uri, "added".to_string(), Loc::new(n.span)),
            };
            let (cat, path) = (Category::ImportChanged, format!("imports.{uri}"));
            let message = format!("import `{uri}` {how}");
            self.push(NonBreaking, Scope::Api, cat, path, message, loc);
        }

        let consumed = |s: &Service| -> Vec<String> {
            s.blueprint
                .consumes
                .iter()
                .map(|c| c.stream.clone())
                .collect()
        };
        let (was, now) = (consumed(old), consumed(new));
        for stream in was.iter().filter(|s| !now.contains(s)) {
            let message = format!("no longer consumes stream `{stream}`");
            let path = format!("consumes.{stream}");
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ConsumesChanged,
                path,
                message,
                loc,
            );
        }
        for c in new
            .blueprint
            .consumes
            .iter()
            .filter(|c| !was.contains(&c.stream))
        {
            let message = format!("now consumes stream `{}`", c.stream);
            let path = format!("consumes.{}", c.stream);
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ConsumesChanged,
                path,
                message,
                Loc::new(c.span),
            );
        }

        // By content: an annotation that only moved in the file is unchanged.
        let changed = |a: &Annotation, b: &Annotation| {
            a.description != b.description || a.deprecation != b.deprecation
        };
        for edit in edits(&old.annotations, &new.annotations, |a| &a.name, changed) {
            let (name, how, loc) = match edit {
                Edit::Removed(a) => (&a.name, "removed", Loc::old(a.span)),
                Edit::Changed(a, n) => (&a.name, "changed", Loc::both(a.span, n.span)),
                Edit::Added(n) => (&n.name, "added", Loc::new(n.span)),
            };
            let (cat, path) = (Category::AnnotationChanged, format!("annotations.{name}"));
            let message = format!("annotation `{name}` {how}");
            self.push(NonBreaking, Scope::Api, cat, path, message, loc);
        }
    }
}

fn text_change(what: &str, old: Option<&str>, new: Option<&str>) -> Option<String> {
    match (old, new) {
        (a, b) if a == b => None,
        (None, Some(b)) => Some(format!("{what} set to `{b}`")),
        (Some(a), None) => Some(format!("{what} `{a}` removed")),
        (Some(a), Some(b)) => Some(format!("{what} changed from `{a}` to `{b}`")),
        (None, None) => None,
    }
}
