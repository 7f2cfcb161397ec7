//! What never breaks a client: plurals, descriptions, examples, deprecations and
//! plain attributes. Reported so reviews see them.

use blueprint_spec::ir::{Attribute, Deprecation};

use super::{Differ, Loc, Owner, join_path};
use crate::ChangeKind::NonBreaking;
use crate::category::Category;

impl Differ<'_> {
    #[allow(clippy::too_many_arguments)] // the shared parts of every type definition
    pub(super) fn common(
        &mut self,
        owner: &Owner,
        old_plural: &str,
        new_plural: &str,
        old_desc: Option<&str>,
        new_desc: Option<&str>,
        old_dep: Option<&Deprecation>,
        new_dep: Option<&Deprecation>,
        old_attrs: &[Attribute],
        new_attrs: &[Attribute],
        loc: Loc,
    ) {
        if old_plural != new_plural {
            let message = format!(
                "{} plural changed from `{old_plural}` to `{new_plural}`",
                owner.label
            );
            let path = format!("{}.plural", owner.path);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::PluralChanged,
                path,
                message,
                loc,
            );
        }
        self.docs(owner, old_desc, new_desc, None, None, loc);
        self.deprecation(owner, old_dep, new_dep, loc);
        self.attributes(owner, old_attrs, new_attrs, loc);
    }

    pub(super) fn docs(
        &mut self,
        owner: &Owner,
        old_desc: Option<&str>,
        new_desc: Option<&str>,
        old_example: Option<&str>,
        new_example: Option<&str>,
        loc: Loc,
    ) {
        let sub = |s: &str| join_path(&owner.path, s);
        if old_desc != new_desc {
            let message = format!("{} description changed", owner.label);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::DescriptionChanged,
                sub("description"),
                message,
                loc,
            );
        }
        if old_example != new_example {
            let message = format!("{} example changed", owner.label);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::DescriptionChanged,
                sub("example"),
                message,
                loc,
            );
        }
    }

    pub(super) fn deprecation(
        &mut self,
        owner: &Owner,
        old: Option<&Deprecation>,
        new: Option<&Deprecation>,
        loc: Loc,
    ) {
        let message = match (old, new) {
            (None, Some(d)) => match &d.description {
                Some(why) => format!("{} deprecated: {why}", owner.label),
                None => format!("{} deprecated", owner.label),
            },
            (Some(_), None) => format!("{} no longer deprecated", owner.label),
            _ => return,
        };
        let path = join_path(&owner.path, "deprecation");
        self.push(
            NonBreaking,
            owner.scope(),
            Category::DeprecationChanged,
            path,
            message,
            loc,
        );
    }

    pub(super) fn attributes(
        &mut self,
        owner: &Owner,
        old: &[Attribute],
        new: &[Attribute],
        loc: Loc,
    ) {
        // Attributes with typed meaning are compared by their meaning elsewhere.
        let (old, new) = (plain_attributes(old), plain_attributes(new));
        for a in &old {
            let path = join_path(&owner.path, &format!("attributes.{}", a.name));
            match new.iter().find(|b| b.name == a.name) {
                None => {
                    let message = format!("{} attribute `{}` removed", owner.label, a.name);
                    let aloc = Loc {
                        old: Some(a.span),
                        new: loc.new,
                    };
                    self.push(
                        NonBreaking,
                        owner.scope(),
                        Category::AttributeChanged,
                        path,
                        message,
                        aloc,
                    );
                }
                Some(b)
                    if a.value != b.value
                        || a.description != b.description
                        || a.deprecation != b.deprecation =>
                {
                    let message = format!("{} attribute `{}` changed", owner.label, a.name);
                    self.push(
                        NonBreaking,
                        owner.scope(),
                        Category::AttributeChanged,
                        path,
                        message,
                        Loc::both(a.span, b.span),
                    );
                }
                Some(_) => {}
            }
        }
        for b in new.iter().filter(|b| !old.iter().any(|a| a.name == b.name)) {
            let path = join_path(&owner.path, &format!("attributes.{}", b.name));
            let message = format!("{} attribute `{}` added", owner.label, b.name);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::AttributeChanged,
                path,
                message,
                Loc::new(b.span),
            );
        }
    }
}

/// Blueprint attributes diffed by meaning (`auth` as auth-tightened/-relaxed,
/// `stream` as stream-*, `consumes` as consumes-changed).
const SEMANTIC_ATTRIBUTES: &[&str] = &["auth", "stream", "consumes"];

fn plain_attributes(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|a| !SEMANTIC_ATTRIBUTES.contains(&a.name.as_str()))
        .collect()
}
