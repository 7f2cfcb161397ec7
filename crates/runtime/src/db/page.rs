//! Paging and sorting for generated `list` calls, with Flow's conventions:
//! `limit` 25 by default and at most 100, `offset` from 0, and `sort` as a
//! comma-separated list of column names, `-` for descending (`-created_at`).

use super::DbError;
pub use crate::sort::SortKey;

/// One page of a `list`. `limit` and `offset` have the type of Flow's `limit` and
/// `offset` parameters (`long`), so a generated operation's request fills a page
/// as is: `Page::new(request.limit, request.offset).sorted(request.sort)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
    /// Flow-style sort expression; `None` for the table's default (`-created_at`).
    pub sort: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 25;
    pub const MAX_LIMIT: i64 = 100;

    /// A page of `limit` rows from `offset` (an `integer` parameter converts too).
    pub fn new(limit: impl Into<i64>, offset: impl Into<i64>) -> Page {
        Page {
            limit: limit.into(),
            offset: offset.into(),
            sort: None,
        }
    }

    pub fn sorted(mut self, sort: impl Into<String>) -> Page {
        self.sort = Some(sort.into());
        self
    }

    /// The limit actually used: at least 1, at most [`Page::MAX_LIMIT`].
    pub fn effective_limit(&self) -> i64 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }

    /// The offset actually used: at least 0.
    pub fn effective_offset(&self) -> i64 {
        self.offset.max(0)
    }

    /// `ORDER BY` for this page, given the columns the table may be sorted by and
    /// its default; unknown columns are an error, never interpolated.
    pub fn order_by(&self, sortable: &[&str], default: &str) -> Result<String, DbError> {
        let spec = self.sort.as_deref().unwrap_or(default);
        let keys = crate::sort::keys(spec, sortable)
            .map_err(|bad| DbError::InvalidSort(bad.to_string()))?;
        let keys: Vec<String> = keys
            .iter()
            .map(|key| {
                let order = if key.descending { "DESC" } else { "ASC" };
                // The column is one of `sortable`: a name from the spec, quoted.
                format!("t.\"{}\" {order}", key.column)
            })
            .collect();
        Ok(format!(" ORDER BY {}", keys.join(", ")))
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(Self::DEFAULT_LIMIT, 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_flow() {
        assert_eq!(Page::default().effective_limit(), 25);
        assert_eq!(Page::new(1000, 0).effective_limit(), 100);
        assert_eq!(Page::new(0, 0).effective_limit(), 1);
        assert_eq!(Page::new(25, -3).effective_offset(), 0);
        // The types of generated `long` and `integer` parameters, as they are.
        let (limit, offset): (i64, i32) = (50, 100);
        assert_eq!(Page::new(limit, offset), Page::new(50, 100));
    }

    #[test]
    fn sort_is_validated() {
        let cols = ["id", "email", "created_at"];
        let p = Page::default().sorted("-created_at, id");
        assert_eq!(
            p.order_by(&cols, "-created_at").unwrap(),
            " ORDER BY t.\"created_at\" DESC, t.\"id\" ASC"
        );
        let bad = Page::default().sorted("password; drop table users");
        assert!(matches!(
            bad.order_by(&cols, "id"),
            Err(DbError::InvalidSort(_))
        ));
        assert_eq!(
            Page::default().order_by(&cols, "email").unwrap(),
            " ORDER BY t.\"email\" ASC"
        );
    }
}
