//! The `pattern` the OpenAPI export gives a `sort` parameter matches exactly the
//! expressions generated servers (and `dev mock`) accept: a client or API tester
//! that follows the schema is never refused, and what the schema refuses is a 422.

use blueprint::sort;
use blueprint_spec::http::sort_pattern;
use proptest::prelude::*;
use regex::Regex;

const COLUMNS: [&str; 3] = ["id", "created_at", "e.mail"];

/// Text made of the pieces sort expressions are made of, and of what is near them.
fn expression() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("id".to_string()),
        Just("created_at".to_string()),
        Just("e.mail".to_string()),
        Just("eXmail".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        // Rust's white space and characters other dialects count as white space.
        Just("\t".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{1c}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\n".to_string()),
        "[a-z_]{1,3}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

fn pattern() -> Regex {
    Regex::new(&sort_pattern(&COLUMNS)).expect("the pattern is a regular expression")
}

proptest! {
    #[test]
    fn the_pattern_is_the_servers_grammar(text in expression()) {
        prop_assert_eq!(
            pattern().is_match(&text),
            sort::check(&text, &COLUMNS).is_ok(),
            "{:?}", text
        );
    }
}

#[test]
fn examples() {
    let pattern = pattern();
    for accepted in ["id", "-created_at,id", " +id , ,-e.mail ", ",id,"] {
        assert!(sort::check(accepted, &COLUMNS).is_ok(), "{accepted:?}");
        assert!(pattern.is_match(accepted), "{accepted:?}");
    }
    for refused in ["", " , ", "eXmail", "- id", "--id", "id;", "name"] {
        assert!(sort::check(refused, &COLUMNS).is_err(), "{refused:?}");
        assert!(!pattern.is_match(refused), "{refused:?}");
    }
}
