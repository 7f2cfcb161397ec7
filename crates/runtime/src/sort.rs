//! Sort expressions with Flow's conventions: a comma-separated list of names,
//! `-` in front for descending (`-created_at,id`). Generated servers refuse a
//! `sort` naming anything the DAO cannot sort by (a 422 naming what it can);
//! the DAO reads the same expression into `ORDER BY`.

/// One element of a sort expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey<'a> {
    pub column: &'a str,
    pub descending: bool,
}

impl<'a> SortKey<'a> {
    pub fn parse(s: &'a str) -> SortKey<'a> {
        match s.strip_prefix('-') {
            Some(column) => SortKey {
                column,
                descending: true,
            },
            None => SortKey {
                column: s.strip_prefix('+').unwrap_or(s),
                descending: false,
            },
        }
    }
}

/// The keys of `expression` (blank elements skipped), each naming one of
/// `sortable`; `Err` is the element that does not, or the whole expression when
/// it has no key.
pub fn keys<'a>(expression: &'a str, sortable: &[&str]) -> Result<Vec<SortKey<'a>>, &'a str> {
    let mut keys = Vec::new();
    for part in expression
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let key = SortKey::parse(part);
        if !sortable.contains(&key.column) {
            return Err(part);
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(expression);
    }
    Ok(keys)
}

/// Check a sort expression; the error is a message for a 422 violation.
pub fn check(expression: &str, sortable: &[&str]) -> Result<(), String> {
    keys(expression, sortable).map(drop).map_err(|bad| {
        format!(
            "cannot sort by {bad:?}; sortable: {} (`-` in front sorts descending)",
            sortable.join(", ")
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_sortable_columns() {
        let cols = ["id", "created_at"];
        assert_eq!(
            keys("-created_at, +id", &cols),
            Ok(vec![
                SortKey {
                    column: "created_at",
                    descending: true
                },
                SortKey {
                    column: "id",
                    descending: false
                }
            ])
        );
        assert_eq!(keys("id,password", &cols), Err("password"));
        assert_eq!(keys(" , ", &cols), Err(" , "));
        assert_eq!(
            check("name", &cols).unwrap_err(),
            "cannot sort by \"name\"; sortable: id, created_at (`-` in front sorts descending)"
        );
    }
}
