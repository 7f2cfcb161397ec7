//! apibuilder's type language: primitives, `[T]`, `map[T]`, `map`, and names.

use crate::ir::Primitive;

/// A type as written, before names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    Primitive(Primitive),
    List(Box<TypeExpr>),
    Map(Box<TypeExpr>),
    /// A user type: a local name (`user`) or a qualified one
    /// (`io.flow.common.v0.models.user`).
    Named(String),
}

/// How deeply `[T]`/`map[T]` may nest; deeper is certainly a mistake, and the
/// bound keeps parsing (and everything recursing over types) off the stack limit.
pub const MAX_NESTING: usize = 16;

/// Parse a type expression; surrounding whitespace is ignored as apibuilder does.
pub fn parse(text: &str) -> Result<TypeExpr, String> {
    parse_nested(text, 0)
}

fn parse_nested(text: &str, depth: usize) -> Result<TypeExpr, String> {
    let t = text.trim();
    if depth > MAX_NESTING {
        return Err(format!(
            "the type nests lists and maps more than {MAX_NESTING} deep"
        ));
    }
    if t.is_empty() {
        return Err("the type is empty".into());
    }
    if let Some(inner) = t.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("`{t}` opens `[` without closing it"))?;
        return Ok(TypeExpr::List(Box::new(parse_nested(inner, depth + 1)?)));
    }
    if t == "map" {
        return Ok(TypeExpr::Map(Box::new(TypeExpr::Primitive(
            Primitive::String,
        ))));
    }
    if let Some(inner) = t.strip_prefix("map[") {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("`{t}` opens `map[` without closing it"))?;
        return Ok(TypeExpr::Map(Box::new(parse_nested(inner, depth + 1)?)));
    }
    if let Some(p) = Primitive::parse(t) {
        return Ok(TypeExpr::Primitive(p));
    }
    let valid = t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !t.ends_with('.');
    if !valid {
        return Err(format!(
            "`{t}` is not a type: expected a primitive, `[T]`, `map[T]` or a type name"
        ));
    }
    Ok(TypeExpr::Named(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_type_language() {
        use TypeExpr as T;
        assert_eq!(parse(" string "), Ok(T::Primitive(Primitive::String)));
        assert_eq!(
            parse("[map[user]]"),
            Ok(T::List(Box::new(T::Map(Box::new(T::Named("user".into()))))))
        );
        assert_eq!(
            parse("map"),
            Ok(T::Map(Box::new(T::Primitive(Primitive::String))))
        );
        assert!(parse("[user").is_err());
        assert!(parse("map[").is_err());
        assert!(parse("us er").is_err());
        assert!(parse("").is_err());
        let deep = format!("{}string{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
    }
}
