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

use std::fmt::Write as _;

pub mod inbox;
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
        if schema.is_empty() {
            return out;
        }
        out.push_str(&self.support());
        for table in &schema.tables {
            out.push_str(&self.create_table(table));
        }
        if schema.inbox {
            out.push_str(&inbox::create(*self));
        }
        if *self == Dialect::Postgres {
            out.push_str(postgres::MAINTAIN_NOW);
        }
        out
    }

    /// Objects shared by every table (key guard), journal and the inbox
    /// (registries, maintenance); idempotent.
    pub fn support(&self) -> String {
        match self {
            Dialect::Postgres => postgres::support(),
            Dialect::Sqlite => sqlite::support(),
        }
    }

    /// A table with its indexes, key guard, and journal when it has one.
    pub fn create_table(&self, table: &Table) -> String {
        let mut out = self.table_statement(table);
        out.push_str(&self.table_extras(table));
        if table.journal.is_some() {
            out.push_str(&self.create_journal(table));
        }
        out.push('\n');
        out
    }

    /// `CREATE TABLE` alone (SQLite tables are `STRICT`: a column holds only its
    /// declared storage class).
    pub fn table_statement(&self, table: &Table) -> String {
        let mut out = String::new();
        writeln!(out, "CREATE TABLE {} (", ident(&table.name)).ok();
        for column in &table.columns {
            writeln!(out, "    {},", self.column_def(table, column)).ok();
        }
        let options = match self {
            Dialect::Postgres => "",
            Dialect::Sqlite => " STRICT",
        };
        writeln!(
            out,
            "    CONSTRAINT {} PRIMARY KEY ({})\n){options};",
            ident(&format!("{}_pkey", table.name)),
            ident_list(table.primary_key.iter().map(String::as_str))
        )
        .ok();
        out
    }

    /// What a table has besides its columns: indexes and the primary-key guard.
    pub fn table_extras(&self, table: &Table) -> String {
        let mut out = String::new();
        for index in &table.indexes {
            out.push_str(&self.create_index(table, index));
        }
        out.push_str(&self.key_guard(table));
        out
    }

    /// The trigger refusing an update of the primary key.
    pub fn key_guard(&self, table: &Table) -> String {
        match self {
            Dialect::Postgres => postgres::key_guard(table),
            Dialect::Sqlite => sqlite::key_guard(table),
        }
    }

    fn column_def(&self, table: &Table, column: &Column) -> String {
        match self {
            Dialect::Postgres => postgres::column_def(table, column),
            Dialect::Sqlite => sqlite::column_def(table, column),
        }
    }

    pub fn add_column(&self, table: &Table, column: &Column) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {};\n",
            ident(&table.name),
            self.column_def(table, column)
        )
    }

    pub fn create_index(&self, table: &Table, index: &Index) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({});\n",
            if index.unique { "UNIQUE " } else { "" },
            ident(&index.name),
            ident(&table.name),
            ident_list(index.columns.iter().map(String::as_str))
        )
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
