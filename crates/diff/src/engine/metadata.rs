//! What never breaks a client: plurals, descriptions, examples, deprecations and
//! plain attributes. Reported so reviews see them.

use blueprint_spec::ir::{Attribute, Deprecation, Documented};

use super::{Differ, Edit, Loc, Owner, edits, join_path};
use crate::ChangeKind::NonBreaking;
use crate::category::Category;

impl Differ<'_> {
    /// Compare what every element carries: description, example, deprecation and
    /// plain attributes.
    pub(super) fn metadata<T: Documented + ?Sized>(
        &mut self,
        owner: &Owner,
        old: &T,
        new: &T,
        loc: Loc,
    ) {
        if owner.repeat {
            return;
        }
        self.text(
            owner,
            "description",
            old.description(),
            new.description(),
            loc,
        );
        self.text(owner, "example", old.example(), new.example(), loc);
        self.deprecation(owner, old.deprecation(), new.deprecation(), loc);
        self.attributes(owner, old.attributes(), new.attributes(), loc);
    }

    /// The plural a type or resource is generated under.
    pub(super) fn plural(&mut self, owner: &Owner, old: &str, new: &str, loc: Loc) {
        if old != new && !owner.repeat {
            let message = format!("{} plural changed from `{old}` to `{new}`", owner.label);
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
    }

    /// Documentation (`description`, `example`): reported, never breaking.
    fn text<T: PartialEq + ?Sized>(
        &mut self,
        owner: &Owner,
        what: &str,
        old: Option<&T>,
        new: Option<&T>,
        loc: Loc,
    ) {
        if old != new {
            let message = format!("{} {what} changed", owner.label);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::DescriptionChanged,
                join_path(&owner.path, what),
                message,
                loc,
            );
        }
    }

    fn deprecation(
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

    fn attributes(&mut self, owner: &Owner, old: &[Attribute], new: &[Attribute], loc: Loc) {
        // Attributes with typed meaning are compared by their meaning elsewhere.
        let (old, new) = (plain_attributes(old), plain_attributes(new));
        let differ = |a: &&Attribute, b: &&Attribute| {
            a.value != b.value || a.description != b.description || a.deprecation != b.deprecation
        };
        for edit in edits(&old, &new, |a| &a.name, differ) {
            let (attribute, how, loc) = match edit {
                Edit::Removed(a) => (a, "removed", Loc::removed(a.span, loc.new)),
                Edit::Changed(a, b) => (a, "changed", Loc::both(a.span, b.span)),
                Edit::Added(b) => (b, "added", Loc::new(b.span)),
            };
            let path = join_path(&owner.path, &format!("attributes.{}", attribute.name));
            let message = format!("{} attribute `{}` {how}", owner.label, attribute.name);
            let category = Category::AttributeChanged;
            self.push(NonBreaking, owner.scope(), category, path, message, loc);
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
