//! The service itself: namespace, metadata, headers, imports, consumed streams,
//! annotations.

use blueprint_spec::ir::Service;

use super::members::{Member, MemberKind};
use super::{Differ, Loc, Owner};
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
        let owner = Owner {
            path: String::new(),
            label: "service".into(),
            usage: Usage::default(),
        };
        self.metadata(&owner, old, new, loc);

        let headers = Owner {
            path: String::new(),
            label: "service".into(),
            usage: Usage {
                request: true,
                ..Usage::default()
            },
        };
        let old_h: Vec<Member> = old.headers.iter().map(Member::header).collect();
        let new_h: Vec<Member> = new.headers.iter().map(Member::header).collect();
        self.members(MemberKind::Header, &headers, &old_h, &new_h, Loc::default());

        for i in &old.imports {
            match new.imports.iter().find(|n| n.uri == i.uri) {
                None => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ImportChanged,
                    format!("imports.{}", i.uri),
                    format!("import `{}` removed", i.uri),
                    Loc {
                        old: Some(i.span),
                        new: Some(new.span),
                    },
                ),
                Some(n) if n.version != i.version || n.namespace != i.namespace => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ImportChanged,
                    format!("imports.{}", i.uri),
                    format!(
                        "import `{}` changed from {} {} to {} {}",
                        i.uri, i.namespace, i.version, n.namespace, n.version
                    ),
                    Loc::both(i.span, n.span),
                ),
                Some(_) => {}
            }
        }
        for n in new
            .imports
            .iter()
            .filter(|n| !old.imports.iter().any(|i| i.uri == n.uri))
        {
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ImportChanged,
                format!("imports.{}", n.uri),
                format!("import `{}` added", n.uri),
                Loc::new(n.span),
            );
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

        for a in &old.annotations {
            match new.annotations.iter().find(|n| n.name == a.name) {
                None => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::AnnotationChanged,
                    format!("annotations.{}", a.name),
                    format!("annotation `{}` removed", a.name),
                    Loc::old(a.span),
                ),
                Some(n) if n != a => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::AnnotationChanged,
                    format!("annotations.{}", a.name),
                    format!("annotation `{}` changed", a.name),
                    Loc::both(a.span, n.span),
                ),
                Some(_) => {}
            }
        }
        for n in new
            .annotations
            .iter()
            .filter(|n| !old.annotations.iter().any(|a| a.name == n.name))
        {
            self.push(
                NonBreaking,
                Scope::Api,
                Category::AnnotationChanged,
                format!("annotations.{}", n.name),
                format!("annotation `{}` added", n.name),
                Loc::new(n.span),
            );
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
