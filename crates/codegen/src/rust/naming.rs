//! Rust names for spec names. The conventions are documented in the crate docs;
//! the db helper's DAO generator reuses these so names agree across files.
//!
//! # Hygiene
//!
//! Generated code binds names of its own (locals and arguments such as `inputs`,
//! `request`, `conn`; generic parameters; imported items) in the same scopes as
//! names derived from the spec (fields, parameters, operations, types). They never
//! collide because every spec-derived name is handed out by a [`Scope`], and a
//! scope starts with the names the generated code uses there already taken
//! ([`Scope::with_reserved`]): a parameter named `inputs` becomes the local
//! `inputs_2`, a model named `d` the type `DModel`. Keywords are raw identifiers
//! ([`ident`]) or get a `_` when they cannot be (`self_`).

use std::collections::HashSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Strict and reserved keywords (2015-2024 editions) that need `r#` in identifier position.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type names the models modules use unqualified (the prelude's, their imports, the
/// generic parameters of serde functions); a spec type named like one gets its kind
/// appended instead.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Serialize",
    "Deserialize",
    "NonBlank",
    "Default",
    "From",
    // `fn deserialize<D: Deserializer>`, `fn serialize<S: Serializer>`.
    "D",
    "S",
];

/// Replace everything but ASCII letters and digits by `_`, so heck sees word
/// boundaries and no non-ASCII identifier reaches the output.
fn ascii_words(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `UpperCamelCase`, never empty, never starting with a digit (prefix `N`).
pub fn camel(name: &str) -> String {
    let mut s = ascii_words(name).to_upper_camel_case();
    if s.is_empty() {
        s = "Unnamed".to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'N');
    }
    if s == "Self" {
        // The one UpperCamelCase keyword; it cannot be a raw identifier.
        s.push_str("Value");
    }
    s
}

/// `snake_case`, never empty; leading digit gets `_`; keywords escaped (see [`ident`]).
pub fn snake(name: &str) -> String {
    let mut s = ascii_words(name).to_snake_case();
    if s.is_empty() {
        s = "unnamed".to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The Rust name of a model, enum, union or interface: `camel(name)`, with the kind
/// appended when it would shadow a name generated code uses (`result` model →
/// `ResultModel`, `d` enum → `DEnum`).
pub fn type_name(name: &str, kind_suffix: &str) -> String {
    let s = camel(name);
    if RESERVED_TYPES.contains(&s.as_str()) {
        format!("{s}{kind_suffix}")
    } else {
        s
    }
}

/// A field or method name: `snake(name)`.
pub fn field_name(name: &str) -> String {
    snake(name)
}

/// An enum or union variant: `camel(name)`.
pub fn variant_name(name: &str) -> String {
    camel(name)
}

/// The module for a namespace: `io.flow.common.v0` → `io_flow_common_v0`.
pub fn module_name(namespace: &str) -> String {
    snake(&namespace.replace('.', "_"))
}

/// An identifier token, raw (`r#type`) when the name is a keyword.
pub fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Hands out names unique within one scope: a repeat gets `2`, `3`... appended
/// (`_2` for snake_case names).
#[derive(Debug, Default)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    pub fn new() -> Self {
        Scope::default()
    }

    /// A scope where `reserved` names are already taken: the names generated code
    /// binds or reads unqualified in this scope besides the spec-derived ones.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Scope {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn claim(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        let sep = if name.contains('_') || name.starts_with(|c: char| c.is_ascii_lowercase()) {
            "_"
        } else {
            ""
        };
        (2..)
            .map(|i| format!("{name}{sep}{i}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .unwrap_or(name)
    }

    /// [`claim`](Self::claim) as an identifier (raw when it is a keyword).
    pub fn claim_ident(&mut self, name: &str) -> Ident {
        ident(&self.claim(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("user_form", "Model"), "UserForm");
        assert_eq!(type_name("result", "Model"), "ResultModel");
        assert_eq!(type_name("3ds-challenge", "Model"), "N3dsChallenge");
        assert_eq!(variant_name("Self"), "SelfValue");
        assert_eq!(variant_name("not-ok"), "NotOk");
        assert_eq!(field_name("userId"), "user_id");
        assert_eq!(field_name("type"), "type");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("x-flow-auth"), "x_flow_auth");
        assert_eq!(field_name("1st"), "_1st");
        assert_eq!(field_name("café"), "caf");
        assert_eq!(module_name("io.flow.common.v0"), "io_flow_common_v0");
        let mut scope = Scope::new();
        assert_eq!(scope.claim("user_id".into()), "user_id");
        assert_eq!(scope.claim("user_id".into()), "user_id_2");
        assert_eq!(scope.claim("User".into()), "User");
        assert_eq!(scope.claim("User".into()), "User2");
        let mut locals = Scope::with_reserved(&["inputs"]);
        assert_eq!(locals.claim_ident("inputs").to_string(), "inputs_2");
        assert_eq!(locals.claim_ident("type").to_string(), "r#type");
        assert_eq!(type_name("d", "Enum"), "DEnum");
    }
}
