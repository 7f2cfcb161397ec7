//! Paging and sorting for generated `list` calls, with Flow's conventions:
//! `limit` 25 by default and at most 100, `offset` from 0, and `sort` as a
//! comma-separated list of column names, `-` for descending (`-created_at`).

use super::DbError;
pub use crate::sort::SortKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
    /// Flow-style sort expression; `None` for the table's default (`-created_at`).
    pub sort: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: u32 = 25;
    pub const MAX_LIMIT: u32 = 100;

    pub fn new(limit: u32, offset: u64) -> Page {
        Page {
            limit,
            offset,
            sort: None,
        }
    }

    pub fn sorted(mut self, sort: impl Into<String>) -> Page {
        self.sort = Some(sort.into());
        self
    }

    /// The limit actually used: at least 1, at most [`Page::MAX_LIMIT`].
    pub fn effective_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT))
    }

    pub fn effective_offset(&self) -> i64 {
        i64::try_from(self.offset).unwrap_or(i64::MAX)
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
