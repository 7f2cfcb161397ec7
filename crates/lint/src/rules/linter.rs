//! The `linter` attribute itself.

use blueprint_spec::ir::linter_ignores;

use super::support::closest;
use crate::rule::{Context, Finding};
use crate::rules;
use crate::suppress::for_each_element;

/// Flow api-lint names with no Blueprint equivalent: accepted silently in
/// `linter` ignores, since they come from specs written for Flow's linter.
const FLOW_ONLY: &[&str] = &[
    "bad_names",
    "common_parameters_have_no_descriptions",
    "expandable_unions_are_consistent",
    "get_by_id_is_expandable",
    "mapping_models",
    "models_with_organization_field",
    "proxy_query_parameters",
    "published_event_models",
    "references",
    "sort_attribute",
    "version_models",
];

pub(super) fn linter_ignore_known(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // The loader has checked the shape (`{"ignore": [string, ...]}`); only the
    // names are ours to check.
    for_each_element(cx.service, |element| {
        for a in element.attributes().iter().filter(|a| a.name == "linter") {
            for name in linter_ignores(std::slice::from_ref(a)) {
                let known = rules::all().iter().any(|r| r.is_named(name))
                    || FLOW_ONLY.contains(&name.replace('-', "_").as_str());
                if !known {
                    let hint = match closest(name, rules::all().iter().map(|r| r.id)) {
                        Some(id) => format!("did you mean `{id}`?"),
                        None => "`dev lint --list-rules` lists the rule ids".to_string(),
                    };
                    out.push(
                        Finding::new(
                            a.span,
                            format!("`linter` ignores `{name}`, which is not a rule"),
                        )
                        .hint(hint),
                    );
                }
            }
        }
    });
}
