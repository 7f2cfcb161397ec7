//! SQL for the two databases a service can run on: SQLite (embedded default) and
//! PostgreSQL (production).
//!
//! [`schema`] turns the models that carry the `db` attribute into a dialect-neutral
//! [`Schema`]; [`postgres`] and [`sqlite`] render it as DDL (tables, checks, indexes,
//! journal tables and triggers) and as the statements the generated DAO runs;
//! [`migrations`] compares a schema with the previous snapshot and writes the
//! versioned migration files.
//!
//! Values cross the driver boundary as one JSON document per statement (the row as
//! the model serialises it); each database converts it into typed columns with its
//! own rules (`jsonb_populate_record` on PostgreSQL, `->>` plus normalisation on
//! SQLite). So the DAO needs no per-type codec, and what is stored is exactly what
//! the model's serde form says.

pub mod migrations;
pub mod postgres;
pub mod schema;
pub mod sqlite;

pub use schema::{Column, ColumnType, Index, Schema, Table, schema};

/// The SQL dialects Blueprint generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

    /// Folder name under `migrations/`, and the `--generators` suffix (`sql-postgres`).
    pub fn name(&self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// DDL creating every table of `schema` in an empty database, after the support
    /// objects (journal registry, key guard, maintenance).
    pub fn create_all(&self, schema: &Schema) -> String {
        let mut out = String::new();
        if schema.tables.is_empty() {
            return out;
        }
        out.push_str(&self.support());
        for table in &schema.tables {
            out.push_str(&self.create_table(table));
        }
        if *self == Dialect::Postgres {
            out.push_str(postgres::MAINTAIN_NOW);
        }
        out
    }

    /// Objects shared by every table (key guard) and journal (registry,
    /// maintenance); idempotent.
    pub fn support(&self) -> String {
        match self {
            Dialect::Postgres => postgres::support(),
            Dialect::Sqlite => sqlite::support(),
        }
    }

    /// A table with its indexes, key guard, and journal when it has one.
    pub fn create_table(&self, table: &Table) -> String {
        match self {
            Dialect::Postgres => postgres::create_table(table),
            Dialect::Sqlite => sqlite::create_table(table),
        }
    }

    pub fn add_column(&self, table: &Table, column: &Column) -> String {
        match self {
            Dialect::Postgres => postgres::add_column(table, column),
            Dialect::Sqlite => sqlite::add_column(table, column),
        }
    }

    pub fn create_index(&self, table: &Table, index: &Index) -> String {
        match self {
            Dialect::Postgres => postgres::create_index(table, index),
            Dialect::Sqlite => sqlite::create_index(table, index),
        }
    }

    pub fn drop_index(&self, index: &Index) -> String {
        format!("DROP INDEX IF EXISTS {};\n", ident(&index.name))
    }

    /// Journal table and triggers for a table that was not journaled before.
    pub fn create_journal(&self, table: &Table) -> String {
        match self {
            Dialect::Postgres => postgres::create_journal(table),
            Dialect::Sqlite => sqlite::create_journal(table),
        }
    }

    /// (Re)create the triggers filling the journal, after the table's columns changed.
    pub fn journal_triggers(&self, table: &Table) -> String {
        match self {
            Dialect::Postgres => postgres::journal_trigger(table),
            Dialect::Sqlite => sqlite::journal_triggers(table),
        }
    }

    /// Add a column to a table's journal (its copy of the row).
    pub fn add_journal_column(&self, table: &Table, column: &Column) -> String {
        let ty = match self {
            Dialect::Postgres => postgres::sql_type(&column.ty),
            Dialect::Sqlite => sqlite::sql_type(&column.ty),
        };
        format!(
            "ALTER TABLE {} ADD COLUMN {} {ty};\n",
            ident(&table.journal_table()),
            ident(&column.name)
        )
    }
}

/// A quoted identifier: every name is quoted, so fields named like keywords
/// (`order`, `user`) work.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"a", "b"`
fn ident_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(ident).collect::<Vec<_>>().join(", ")
}

/// The checks a column's values must pass, as one boolean SQL expression, given how
/// the dialect writes string length, array length and the enum/boolean domains.
fn checks(column: &Column, length: &str, array_length: &str) -> Vec<String> {
    let c = ident(&column.name);
    let mut out = Vec::new();
    if column.non_empty {
        out.push(format!("trim({c}) <> ''"));
    }
    if let ColumnType::Enum { values } = &column.ty {
        let values: Vec<String> = values.iter().map(|v| literal(v)).collect();
        out.push(format!("{c} IN ({})", values.join(", ")));
    }
    let measured = match column.ty {
        ColumnType::String => format!("{length}({c})"),
        ColumnType::JsonArray => format!("{array_length}({c})"),
        _ => c.clone(),
    };
    if let Some(min) = &column.minimum {
        out.push(format!("{measured} >= {min}"));
    }
    if let Some(max) = &column.maximum {
        out.push(format!("{measured} <= {max}"));
    }
    out
}

fn check_name(table: &Table, column: &Column) -> String {
    ident(&format!("{}_{}_check", table.name, column.name))
}

#[cfg(test)]
mod tests;
