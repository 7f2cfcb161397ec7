//! The DAO: one Rust module per table, over the generated model types.
//!
//! For a table `users` of model `user` (key `id`, unique index on `email`):
//! ```text
//! dao::users::insert(conn, &user)            -> Result<(), DbError>
//! dao::users::upsert(conn, &user)            -> Result<Write, DbError>  Changed | Unchanged
//! dao::users::update(conn, &user)            -> Result<Write, DbError>  Changed | Unchanged | NotFound
//! dao::users::delete_by_id(conn, id)         -> Result<bool, DbError>
//! dao::users::find_by_id(conn, id)           -> Result<Option<User>, DbError>
//! dao::users::find_by_email(conn, email)     -> Result<Option<User>, DbError>   (unique index)
//! dao::users::list(conn, &Filter, &Page)     -> Result<Vec<User>, DbError>      (indexed fields)
//! dao::users::list_after(conn, &Filter, &Keyset) -> Result<Slice<User>, DbError> (cursor paging)
//! dao::users::erase_personal_data(conn, &Filter) -> Result<u64, DbError>  (fields annotated `personal_data`)
//! ```
//! `Filter` has each indexed field (equality) and, for indexed numbers, dates and
//! date-times, `<field>_from` (inclusive) and `<field>_to` (exclusive) bounds.
//! `list_after` pages by keyset: the rows after the cursor the previous page gave, in
//! the sort's order then the primary key's, so inserts between pages never shift
//! the rows to come (see `blueprint::db::Keyset`).
//! A table with a tenant scope (the `auth` scope of its resource, e.g. `agency_id` =
//! claim `a-id`) gets a `Scope` struct, and every function takes `&Scope` after
//! `conn`: lookups, deletes, updates and lists match the scope's columns too (a row
//! of another tenant is not found), writes refuse a row outside the scope
//! ([`DbError::OutOfScope`]) and an upsert never overwrites another tenant's row.
//! `Scope::from_claims` builds it from a verified caller.
//! `conn` is anything that converts into `blueprint::db::Conn`: the `Db`, a `Tx`, or a
//! caller's sqlx connection or transaction, so calls compose into transactions.
//! Writes carry the row's `hash_code`; a write of unchanged content touches no row and
//! so journals nothing. A write that journals something wakes the publisher after its
//! commit (`Conn::execute_journaled`). SQL text for both dialects is generated (see [`crate::sql`]);
//! the runtime picks the one of the connection's dialect.

use std::path::Path;

use blueprint_spec::ir::{AuthScope, Primitive, TypeKind, TypeRef};
use heck::ToSnakeCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::rust::naming;
use crate::rust::{Ctx, Place};
use crate::sql::schema::CREATED_AT;
use crate::sql::{self, Table, postgres, sqlite};
use crate::{CodegenError, GeneratedFile};

/// `dao.rs` beside `models`, for every table of the service; `None` when the
/// service has no tables.
pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<Option<GeneratedFile>, CodegenError> {
    let schema = sql::schema(ctx.spec).map_err(CodegenError::Tables)?;
    if schema.tables.is_empty() {
        return Ok(None);
    }
    // Table modules sit beside the `models` import they name the models through.
    let mut modules = naming::Scope::with_reserved(&["models"]);
    let tables: Vec<TokenStream> = schema
        .tables
        .iter()
        .map(|t| table_module(ctx, t, modules.claim_ident(&naming::snake(&t.name))))
        .collect();
    let doc = format!(
        " Data access for the tables of `{}`: one module per table.",
        ctx.spec.service.name
    );
    ctx.file(
        path,
        quote! {
            #![doc = #doc]

            // Table modules name the models as `super::models::...`.
            use super::models;

            #(#tables)*
        },
    )
    .map(Some)
}

fn ident(name: &str) -> Ident {
    naming::ident(&naming::field_name(name))
}

fn statement(postgres: &str, sqlite: &str) -> TokenStream {
    quote! {
        Statement { postgres: #postgres, sqlite: #sqlite }
    }
}

/// How a key is passed: `&str` for strings, `&T` otherwise.
fn param_type(ctx: &Ctx<'_>, t: &TypeRef) -> TokenStream {
    match t {
        TypeRef::Primitive(Primitive::String) => quote!(&str),
        other => {
            let t = ctx.rust_type(other, Place::Sibling);
            quote!(&#t)
        }
    }
}

/// The key of a cursor's values in a `list_after` document (`blueprint::db::AFTER`).
const AFTER: &str = "_after";
/// The annotation marking a field as personal data, erased by `erase_personal_data`.
const PERSONAL_DATA: &str = "personal_data";

/// The names a lookup function binds or reads besides its key parameters.
const LOOKUP_LOCALS: &[&str] = &["conn", "lookup", "sql", "decode"];
/// The same for a scoped table's, which also take `scope`.
const SCOPED_LOOKUP_LOCALS: &[&str] = &["conn", "scope", "lookup", "sql", "decode"];

fn table_module(ctx: &Ctx<'_>, table: &Table, module: Ident) -> TokenStream {
    let spec = ctx.spec;
    let model = ctx.named_path(
        &spec.service.named(TypeKind::Model, &table.model),
        Place::Sibling,
    );
    // Invariant: the schema was built from these models.
    let fields = spec
        .service
        .model(&table.model)
        .map(|m| m.fields.clone())
        .unwrap_or_default();
    let field_type = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.type_.clone())
            .unwrap_or(TypeRef::Primitive(Primitive::String))
    };
    let scope: Vec<AuthScope> = spec
        .service
        .model(&table.model)
        .and_then(|m| m.db.as_ref())
        .map(|db| db.scope.clone())
        .unwrap_or_default();
    let scope_columns: Vec<String> = scope.iter().map(|s| s.field.clone()).collect();
    let scoped = !scope.is_empty();
    // Columns that pick one row: the primary key, and within the scope.
    let with_scope = |columns: &[String]| -> Vec<String> {
        let mut out = columns.to_vec();
        out.extend(
            scope_columns
                .iter()
                .filter(|c| !columns.contains(c))
                .cloned(),
        );
        out
    };
    let row_key = with_scope(&table.primary_key);
    let scope_param = scoped.then(|| quote!(scope: &Scope,));
    let scope_names: Vec<&String> = scope_columns.iter().collect();
    // The model's field identifiers (unique within the struct), for the row's fields.
    let model_idents = spec
        .service
        .model(&table.model)
        .map(|m| crate::rust::models::field_idents(&m.fields))
        .unwrap_or_default();
    let scope_idents: Vec<Ident> = scope_columns
        .iter()
        .map(|c| {
            fields
                .iter()
                .position(|f| f.name == *c)
                .and_then(|i| model_idents.get(i))
                .map_or_else(|| ident(c), |name| naming::ident(name))
        })
        .collect();
    // `.field("agency_id", &scope.agency_id)?` on a key document.
    let scope_doc = quote! { #(.field(#scope_names, &scope.#scope_idents)?)* };
    // Writes refuse a row of another tenant before touching the database.
    let scope_check = quote! {
        #(
            if row.#scope_idents != scope.#scope_idents {
                return Err(DbError::OutOfScope(#scope_names));
            }
        )*
    };

    // Statements are module constants, named after what they do.
    let mut consts: Vec<TokenStream> = Vec::new();
    let mut constant = |name: String, postgres: String, sqlite: String| -> Ident {
        let name = format_ident!("{}", name.to_uppercase());
        let value = statement(&postgres, &sqlite);
        consts.push(quote! { const #name: Statement = #value; });
        name
    };
    let insert = constant(
        "insert".into(),
        postgres::insert(table),
        sqlite::insert(table),
    );
    let upsert = constant(
        "upsert".into(),
        postgres::upsert(table, &scope_columns),
        sqlite::upsert(table, &scope_columns),
    );
    let update = constant(
        "update".into(),
        postgres::update(table, &row_key),
        sqlite::update(table, &row_key),
    );
    let exists = constant(
        "exists".into(),
        postgres::exists(table, &row_key),
        sqlite::exists(table, &row_key),
    );
    let list = constant("list".into(), postgres::list(table), sqlite::list(table));
    let doc_table = &table.name;
    // A write to a journaled table wakes the publisher after its commit.
    let execute = if table.journal.is_some() {
        quote!(execute_journaled)
    } else {
        quote!(execute)
    };

    // Lookups: the primary key, then each unique index.
    let mut lookups = vec![(table.primary_key.clone(), true)];
    for index in table.indexes.iter().filter(|i| i.unique) {
        if !lookups.iter().any(|(cols, _)| *cols == index.columns) {
            lookups.push((index.columns.clone(), false));
        }
    }
    let mut key_fns = Vec::new();
    for (columns, primary) in &lookups {
        let suffix = columns
            .iter()
            .map(|c| c.to_snake_case())
            .collect::<Vec<_>>()
            .join("_and_");
        let by = format_ident!("find_by_{suffix}");
        let find = constant(
            format!("find_by_{suffix}"),
            postgres::find_by(table, &with_scope(columns)),
            sqlite::find_by(table, &with_scope(columns)),
        );
        let mut locals = naming::Scope::with_reserved(if scoped {
            SCOPED_LOOKUP_LOCALS
        } else {
            LOOKUP_LOCALS
        });
        let params: Vec<Ident> = columns
            .iter()
            .map(|c| locals.claim_ident(&naming::field_name(c)))
            .collect();
        let types: Vec<TokenStream> = columns
            .iter()
            .map(|c| param_type(ctx, &field_type(c)))
            .collect();
        let names = columns.iter();
        let doc = format!(
            " The row of `{doc_table}` with this {}, if any{}.",
            columns.join(", "),
            if scoped { " in the scope" } else { "" }
        );
        let delete_const = primary.then(|| {
            constant(
                format!("delete_by_{suffix}"),
                postgres::delete(table, &row_key),
                sqlite::delete(table, &row_key),
            )
        });
        let delete = delete_const.map(|delete| {
            let delete_fn = format_ident!("delete_by_{suffix}");
            let names = columns.iter();
            let ddoc = format!(
                " Delete the row of `{doc_table}` with this key{}; whether there was one. Journals a DELETE with the old values.",
                if scoped { " in the scope" } else { "" }
            );
            quote! {
                #[doc = #ddoc]
                pub async fn #delete_fn<'c>(conn: impl Into<Conn<'c>>, #scope_param #(#params: #types),*) -> Result<bool, DbError> {
                    let lookup = Doc::new() #(.field(#names, #params)?)* #scope_doc .finish();
                    let conn = conn.into();
                    let sql = #delete.get(conn.dialect());
                    Ok(conn.#execute(sql.into(), &lookup, &[]).await? > 0)
                }
            }
        });
        key_fns.push(quote! {
            #[doc = #doc]
            pub async fn #by<'c>(conn: impl Into<Conn<'c>>, #scope_param #(#params: #types),*) -> Result<Option<#model>, DbError> {
                let lookup = Doc::new() #(.field(#names, #params)?)* #scope_doc .finish();
                let conn = conn.into();
                let sql = #find.get(conn.dialect());
                conn.fetch_optional(sql.into(), &lookup, &[]).await?.as_deref().map(decode).transpose()
            }
            #delete
        });
    }

    // List filters: every indexed column (primary key included), in column order;
    // scope columns are not filters, the scope always applies.
    let indexed: Vec<&sql::Column> = table
        .model_columns()
        .filter(|c| {
            table.is_primary_key(&c.name)
                || table.indexes.iter().any(|i| i.columns.contains(&c.name))
        })
        .collect();
    let filtered: Vec<&sql::Column> = indexed
        .iter()
        .copied()
        .filter(|c| !scope_columns.contains(&c.name))
        .collect();
    // Range bounds for indexed columns whose order means something on both
    // dialects (SQLite keeps decimals as text): `<field>_from` <= value < `<field>_to`.
    let ranged: Vec<&sql::Column> = filtered
        .iter()
        .copied()
        .filter(|c| {
            matches!(
                c.ty,
                sql::ColumnType::Integer
                    | sql::ColumnType::Long
                    | sql::ColumnType::Double
                    | sql::ColumnType::Date
                    | sql::ColumnType::DateTime
            ) && table.column(&format!("{}_from", c.name)).is_none()
                && table.column(&format!("{}_to", c.name)).is_none()
        })
        .collect();
    let filter_fields = filtered.iter().map(|c| {
        let name = ident(&c.name);
        let ty = ctx.rust_type(&field_type(&c.name), Place::Sibling);
        let wire = &c.name;
        quote! {
            #[serde(rename = #wire, skip_serializing_if = "Option::is_none")]
            pub #name: Option<#ty>,
        }
    });
    let range_fields = ranged.iter().flat_map(|c| {
        let ty = ctx.rust_type(&field_type(&c.name), Place::Sibling);
        [("from", "at or after"), ("to", "before")].map(|(end, what)| {
            let wire = format!("{}_{end}", c.name);
            let name = ident(&wire);
            let doc = format!(" Rows whose `{}` is {what} this.", c.name);
            quote! {
                #[doc = #doc]
                #[serde(rename = #wire, skip_serializing_if = "Option::is_none")]
                pub #name: Option<#ty>,
            }
        })
    });
    let mut filter_clauses: Vec<TokenStream> = filtered
        .iter()
        .map(|c| {
            let name = ident(&c.name);
            let clause = constant(
                format!("filter_{}", c.name.to_snake_case()),
                postgres::filter(&c.name),
                sqlite::filter(table, &c.name),
            );
            quote! {
                if filter.#name.is_some() {
                    clauses.push(#clause.get(dialect));
                }
            }
        })
        .collect();
    for c in &ranged {
        for (end, op) in [("from", ">="), ("to", "<")] {
            let wire = format!("{}_{end}", c.name);
            let name = ident(&wire);
            let clause = constant(
                format!("filter_{}", wire.to_snake_case()),
                postgres::bound(c, op, &wire),
                sqlite::bound(c, op, &wire),
            );
            filter_clauses.push(quote! {
                if filter.#name.is_some() {
                    clauses.push(#clause.get(dialect));
                }
            });
        }
    }
    let scope_clauses: Vec<TokenStream> = scope_columns
        .iter()
        .map(|c| {
            let clause = constant(
                format!("scope_{}", c.to_snake_case()),
                postgres::filter(c),
                sqlite::filter(table, c),
            );
            quote!(#clause.get(dialect))
        })
        .collect();
    // The indexed columns and the timestamps: `Model::sortable`, which the
    // server's `sort` check reads too.
    let sortable: Vec<&str> = ctx
        .spec
        .service
        .model(&table.model)
        .and_then(|m| m.sortable())
        .unwrap_or_default();
    let default_sort = format!("-{CREATED_AT}");
    let filter_doc = format!(
        " Filters of the rows of `{}`: its indexed fields (and bounds of the ordered ones); `None` matches every row.",
        table.name
    );
    let list_doc = format!(
        " Rows of `{}` matching `filter`, one page (limit 25 by default, at most 100), sorted by `page.sort` over {} (default `{default_sort}`).",
        table.name,
        sortable
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Keyset paging: the sortable columns every row has a value of (required
    // model fields; not JSON, not the scope's, which is one value per scope), each
    // with its cursor value read from the document's `_after` object.
    let keyset_columns: Vec<&sql::Column> = sortable
        .iter()
        .filter_map(|name| table.column(name))
        .filter(|c| c.field && !c.nullable && !c.ty.is_json() && !scope_columns.contains(&c.name))
        .collect();
    let keyset_entries = keyset_columns.iter().map(|c| {
        let name = c.name.as_str();
        let value = statement(
            &postgres::value_at(c, &[AFTER, name]),
            &sqlite::value_at(c, &[AFTER, name]),
        );
        quote! { (#name, #value) }
    });
    let keyset_key: Vec<&str> = table
        .primary_key
        .iter()
        .filter(|k| !scope_columns.contains(k))
        .map(String::as_str)
        .collect();
    let keyset_default = if keyset_columns.iter().any(|c| c.name == CREATED_AT) {
        default_sort.clone()
    } else {
        keyset_key.join(",")
    };
    let keyset_usable = !keyset_key.is_empty()
        && keyset_key
            .iter()
            .all(|k| keyset_columns.iter().any(|c| c.name == *k));
    // Erasure: the fields annotated `personal_data`, when every one may be null.
    let personal: Vec<&sql::Column> = fields
        .iter()
        .filter(|f| f.annotations.iter().any(|a| a == PERSONAL_DATA))
        .filter_map(|f| table.column(&f.name))
        .collect();
    let erasable = !personal.is_empty() && personal.iter().all(|c| c.nullable);
    let module_doc = format!(" Table `{}`: rows of model `{}`.", table.name, table.model);
    let scope_items = scoped.then(|| scope_struct(ctx, table, &scope, &field_type));
    // A list's document: the scope's values and the filter's.
    let query = if scoped {
        quote!(Query { scope, filter })
    } else {
        quote!(filter)
    };
    let query_struct = scoped.then(|| {
        quote! {
            /// A list's statement document: the scope's values and the filter's.
            #[derive(::blueprint::serde::Serialize)]
            #[serde(crate = "::blueprint::serde")]
            struct Query<'a> {
                #[serde(flatten)]
                scope: &'a Scope,
                #[serde(flatten)]
                filter: &'a Filter,
            }
        }
    });
    // The scope's clauses always apply, then the filter's.
    let clauses = if scoped {
        quote! {
            let mut clauses = vec![#(#scope_clauses),*];
            clauses.extend(filter_clauses(dialect, filter));
        }
    } else {
        quote!(let clauses = filter_clauses(dialect, filter);)
    };
    let filter_clauses_fn = if filter_clauses.is_empty() {
        quote! {
            fn filter_clauses(_dialect: Dialect, _filter: &Filter) -> Vec<&'static str> {
                Vec::new()
            }
        }
    } else {
        quote! {
            fn filter_clauses(dialect: Dialect, filter: &Filter) -> Vec<&'static str> {
                let mut clauses = Vec::new();
                #(#filter_clauses)*
                clauses
            }
        }
    };
    let keyset_items = keyset_usable.then(|| {
        let doc = format!(
            " Rows of `{}` matching `filter`, the page after `page.after` (the cursor the previous page gave; the first page without), at most `page.limit` (25 by default, at most 100) sorted by `page.sort` over {} (default `{keyset_default}`) then the primary key; with the cursor of the next page, `None` after the last.",
            table.name,
            keyset_columns
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        quote! {
            /// The columns a keyset page may sort by, each with its cursor value.
            const KEYSET: &[(&str, Statement)] = &[#(#keyset_entries),*];
            const KEYSET_DEFAULT_SORT: &str = #keyset_default;
            const KEY: &[&str] = &[#(#keyset_key),*];

            #[doc = #doc]
            pub async fn list_after<'c>(conn: impl Into<Conn<'c>>, #scope_param filter: &Filter, page: &Keyset) -> Result<Slice<#model>, DbError> {
                let order = page.resolve::<Filter>(KEYSET, KEYSET_DEFAULT_SORT, KEY)?;
                let conn = conn.into();
                let dialect = conn.dialect();
                #clauses
                let sql = order.sql(dialect, #list.get(dialect), &clauses);
                let doc = order.document(&#query)?;
                let rows = conn
                    .fetch_all(sql.into(), &doc, &[order.fetch()])
                    .await?
                    .iter()
                    .map(|r| decode(r))
                    .collect::<Result<Vec<#model>, DbError>>()?;
                order.slice(rows)
            }
        }
    });
    let erase_items = erasable.then(|| {
        let erase = constant(
            "erase".into(),
            postgres::erase(table, &personal, false),
            sqlite::erase(table, &personal, false),
        );
        let names = personal
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let journal = table.journal.is_some().then(|| {
            let erase_journal = constant(
                "erase_journal".into(),
                postgres::erase(table, &personal, true),
                sqlite::erase(table, &personal, true),
            );
            quote! {
                let sql = ::blueprint::db::all_of(#erase_journal.get(dialect), &clauses);
                Conn::from(&mut conn).execute(sql.into(), &doc, &[]).await?;
            }
        });
        let doc = format!(
            " Erase the personal data of the rows of `{}` matching `filter`{}: {names} (the fields annotated `personal_data`) become null{}; the rows are kept. How many rows changed: a second call changes none, and a changed row is journaled like any write. A filter matching every row is [`DbError::Unfiltered`].",
            table.name,
            if scoped { ", in every scope (the person is erased wherever they are)" } else { "" },
            if table.journal.is_some() { ", in the table and in its journal" } else { "" },
        );
        quote! {
            #[doc = #doc]
            pub async fn erase_personal_data<'c>(conn: impl Into<Conn<'c>>, filter: &Filter) -> Result<u64, DbError> {
                let mut conn = conn.into();
                let dialect = conn.dialect();
                let clauses = filter_clauses(dialect, filter);
                if clauses.is_empty() {
                    return Err(DbError::Unfiltered);
                }
                let doc = ::blueprint::db::to_doc(filter)?;
                #journal
                let sql = ::blueprint::db::all_of(#erase.get(dialect), &clauses);
                conn.execute(sql.into(), &doc, &[]).await
            }
        }
    });
    let mut imports = vec![
        "decode",
        "Conn",
        "DbError",
        "Dialect",
        "Doc",
        "Page",
        "Row",
        "Statement",
        "Write",
    ];
    if keyset_usable {
        imports.extend(["Keyset", "Slice"]);
    }
    imports.sort_by_key(|name| (name.starts_with(char::is_uppercase), *name));
    let imports = imports.iter().map(|name| format_ident!("{name}"));
    // An upsert that wrote nothing either found the same content in the scope, or
    // met a row of another tenant with this key.
    let upsert_body = if scoped {
        quote! {
            let mut conn = conn.into();
            let dialect = conn.dialect();
            let n = Conn::from(&mut conn)
                .#execute(#upsert.get(dialect).into(), &row.json, &[row.hash_code])
                .await?;
            if n > 0 {
                return Ok(Write::Changed);
            }
            let found = conn.exists(#exists.get(dialect).into(), &row.json).await?;
            Ok(if found { Write::Unchanged } else { Write::NotFound })
        }
    } else {
        quote! {
            let conn = conn.into();
            let sql = #upsert.get(conn.dialect());
            let n = conn.#execute(sql.into(), &row.json, &[row.hash_code]).await?;
            Ok(if n > 0 { Write::Changed } else { Write::Unchanged })
        }
    };
    let upsert_doc = if scoped {
        " Insert, or replace the row with the same key when its content differs; `NotFound` when the key belongs to a row outside the scope."
    } else {
        " Insert, or replace the row with the same key when its content differs."
    };

    quote! {
        #[doc = #module_doc]
        pub mod #module {
            use ::blueprint::db::{#(#imports),*};

            #(#consts)*

            const SORTABLE: &[&str] = &[#(#sortable),*];
            const DEFAULT_SORT: &str = #default_sort;

            #scope_items

            /// Insert a new row; a duplicate key or unique value is [`DbError::Unique`].
            pub async fn insert<'c>(conn: impl Into<Conn<'c>>, #scope_param row: &#model) -> Result<(), DbError> {
                #scope_check
                let row = Row::new(row)?;
                let conn = conn.into();
                let sql = #insert.get(conn.dialect());
                conn.#execute(sql.into(), &row.json, &[row.hash_code]).await?;
                Ok(())
            }

            #[doc = #upsert_doc]
            pub async fn upsert<'c>(conn: impl Into<Conn<'c>>, #scope_param row: &#model) -> Result<Write, DbError> {
                #scope_check
                let row = Row::new(row)?;
                #upsert_body
            }

            /// Replace the row with the same key when its content differs.
            pub async fn update<'c>(conn: impl Into<Conn<'c>>, #scope_param row: &#model) -> Result<Write, DbError> {
                #scope_check
                let row = Row::new(row)?;
                let mut conn = conn.into();
                let dialect = conn.dialect();
                let n = Conn::from(&mut conn)
                    .#execute(#update.get(dialect).into(), &row.json, &[row.hash_code])
                    .await?;
                if n > 0 {
                    return Ok(Write::Changed);
                }
                let found = conn.exists(#exists.get(dialect).into(), &row.json).await?;
                Ok(if found { Write::Unchanged } else { Write::NotFound })
            }

            #(#key_fns)*

            #[doc = #filter_doc]
            #[derive(Debug, Clone, Default, PartialEq, ::blueprint::serde::Serialize, ::blueprint::serde::Deserialize)]
            #[serde(crate = "::blueprint::serde")]
            pub struct Filter {
                #(#filter_fields)*
                #(#range_fields)*
            }

            /// The `WHERE` fragments of the filters that are set (values are bound
            /// from the document, never written into the SQL).
            #filter_clauses_fn

            #query_struct

            #[doc = #list_doc]
            pub async fn list<'c>(conn: impl Into<Conn<'c>>, #scope_param filter: &Filter, page: &Page) -> Result<Vec<#model>, DbError> {
                let conn = conn.into();
                let dialect = conn.dialect();
                #clauses
                let sql = ::blueprint::db::list_sql(dialect, #list.get(dialect), &clauses, page, SORTABLE, DEFAULT_SORT)?;
                let doc = ::blueprint::db::to_doc(&#query)?;
                conn.fetch_all(sql.into(), &doc, &[page.effective_limit(), page.effective_offset()])
                    .await?
                    .iter()
                    .map(|r| decode(r))
                    .collect()
            }

            #keyset_items

            #erase_items
        }
    }
}

/// The `Scope` of a scoped table: its scope fields, and how a verified caller's
/// claims give them.
fn scope_struct(
    ctx: &Ctx<'_>,
    table: &Table,
    scope: &[AuthScope],
    field_type: &dyn Fn(&str) -> TypeRef,
) -> TokenStream {
    let fields = scope.iter().map(|s| {
        let name = ident(&s.field);
        let wire = &s.field;
        let ty = ctx.rust_type(&field_type(&s.field), Place::Sibling);
        let doc = format!(" Claim `{}`.", s.claim);
        quote! {
            #[doc = #doc]
            #[serde(rename = #wire)]
            pub #name: #ty,
        }
    });
    let values = scope.iter().map(|s| {
        let name = ident(&s.field);
        let is_string = field_type(&s.field) == TypeRef::Primitive(Primitive::String);
        let value = match (s.claim.as_str(), is_string) {
            ("a-id", false) => quote!(claims.agency_id),
            ("u-id", false) => quote!(claims.user_id),
            ("a-id", true) => quote!(claims.agency_id.to_string()),
            ("u-id", true) => quote!(claims.user_id.to_string()),
            (claim, _) => {
                let missing = format!("this operation needs the claim `{claim}`");
                quote! {
                    claims
                        .text(#claim)
                        .ok_or_else(|| ::blueprint::auth::AuthError::Forbidden(#missing.to_owned()))?
                        .to_owned()
                }
            }
        };
        quote! { #name: #value, }
    });
    let doc = format!(
        " The tenant the rows of `{}` are confined to: every call reads and writes only rows whose {} match the scope's.",
        table.name,
        scope
            .iter()
            .map(|s| format!("`{}`", s.field))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let from_doc = format!(
        " The scope of a verified caller: {}.",
        scope
            .iter()
            .map(|s| format!("`{}` = claim `{}`", s.field, s.claim))
            .collect::<Vec<_>>()
            .join(", ")
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, ::blueprint::serde::Serialize)]
        #[serde(crate = "::blueprint::serde")]
        pub struct Scope {
            #(#fields)*
        }

        impl Scope {
            #[doc = #from_doc]
            pub fn from_claims(claims: &::blueprint::auth::Claims) -> Result<Self, ::blueprint::auth::AuthError> {
                Ok(Scope { #(#values)* })
            }
        }
    }
}
