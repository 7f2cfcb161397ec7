//! Small helpers shared by the rules.

use blueprint_spec::ir::{Method, Operation, Parameter, ParameterLocation, ResponseCode, TypeRef};

/// `lower_snake_case`: a lower-case letter, then lower-case letters and digits in
/// words joined by single underscores.
pub(crate) fn is_snake_case(s: &str) -> bool {
    let mut words = s.split('_');
    let starts_with_letter = s.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    starts_with_letter
        && words.all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// What a name would be in snake_case, for hints.
pub(crate) fn to_snake_case(s: &str) -> String {
    heck::ToSnakeCase::to_snake_case(s)
}

/// Whether a path belongs to the standard internal endpoints (`/_internal_/...`),
/// which follow their own fixed shape.
pub(crate) fn is_internal(op: &Operation) -> bool {
    op.path.starts_with("/_internal_")
}

/// `GET` answering `200` with a list: a collection that needs paging.
pub(crate) fn is_collection_get(op: &Operation) -> bool {
    op.method == Method::Get
        && !is_internal(op)
        && op
            .response(ResponseCode::Status(200))
            .is_some_and(|r| matches!(r.type_, TypeRef::List(_)))
}

pub(crate) fn query_param<'a>(op: &'a Operation, name: &str) -> Option<&'a Parameter> {
    op.parameters
        .iter()
        .find(|p| p.location == ParameterLocation::Query && p.name == name)
}

/// A JSON default as a number (apibuilder specs also write numbers as strings).
pub(crate) fn json_number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Words of a name, path or sentence: split on anything not alphanumeric, lower-cased.
pub(crate) fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The candidate closest to `name` by edit distance, if close enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        let ids = ["path-lowercase", "collection-sort"];
        assert_eq!(
            closest("path-lowercse", ids.into_iter()),
            Some("path-lowercase")
        );
        assert_eq!(closest("sort", ids.into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn snake_case() {
        for ok in ["a", "user", "user_form", "v2", "address_line_1"] {
            assert!(is_snake_case(ok), "{ok}");
        }
        for bad in [
            "",
            "User",
            "userForm",
            "_a",
            "a_",
            "a__b",
            "1a",
            "a-b",
            "user Name",
        ] {
            assert!(!is_snake_case(bad), "{bad}");
        }
    }
}
