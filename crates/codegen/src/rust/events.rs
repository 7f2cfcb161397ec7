//! The `events` module: a typed publisher per stream (a `*_event` union), and, per
//! journaled table that publishes, how its journal records become events.
//!
//! For the users service (`user_event` with `user_upserted` and `user_deleted`,
//! table `users` of model `user`):
//! ```text
//! impl StreamEvent for models::UserEvent        stream settings, each member's envelope
//! pub type UserEventPublisher = EventPublisher<models::UserEvent>
//! pub fn journaled() -> Vec<Journaled>          every publishing table, for the Publisher
//! pub mod users { JOURNALED, to_event(&JournalRecord) -> Event }
//! ```
//! Which table publishes what is the IR's decision (`DbTable::events`); a union
//! gets a typed publisher when each member is a model with `event_id` (string)
//! and `timestamp` (date-time), the fields its envelope is read from.

use std::path::Path;

use blueprint_spec::ir::{
    DbTable, Field, Model, NamedType, Primitive, TableEvents, TypeKind, TypeRef, Union,
};
use blueprint_spec::wire::MemberForm;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::models::{Presence, default_expr, field_idents, presence, union_variants};
use super::naming;
use super::{Ctx, Place, ident};
use crate::sql::{self, postgres, sqlite};
use crate::{CodegenError, GeneratedFile};

/// Whether `events` has anything to generate for this spec: a local stream.
pub(crate) fn wanted(spec: &blueprint_spec::Spec) -> bool {
    spec.service.streams().next().is_some()
}

/// Whether the generated events module publishes journaled tables (and so needs
/// the runtime's `publish` feature).
pub(crate) fn publishes_tables(spec: &blueprint_spec::Spec) -> bool {
    spec.service
        .models
        .iter()
        .any(|m| m.db.as_ref().is_some_and(|db| db.events.is_some()))
}

/// `events.rs` beside `models`; `None` when the service has no stream.
pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<Option<GeneratedFile>, CodegenError> {
    let service = &ctx.spec.service;
    if !wanted(ctx.spec) {
        return Ok(None);
    }
    let mut items = Vec::new();
    let mut typed: Vec<&str> = Vec::new();
    for (u, _) in service.streams() {
        if let Some(tokens) = stream_event(ctx, u) {
            items.push(tokens);
            typed.push(&u.name);
        }
    }

    let schema = sql::schema(ctx.spec).map_err(CodegenError::Tables)?;
    let mut modules = naming::Scope::with_reserved(&["models", "journaled"]);
    let mut registrations = Vec::new();
    for model in &service.models {
        let Some((db, events)) = model
            .db
            .as_ref()
            .and_then(|db| db.events.as_ref().map(|e| (db, e)))
        else {
            continue;
        };
        if !typed.contains(&events.union.as_str()) {
            return Err(CodegenError::Events(format!(
                "table `{}` publishes on `{}`, but not every member of `{}` is an event model (`event_id` string, `timestamp` date-time)",
                db.table, events.union, events.union
            )));
        }
        // Invariant: every `db` model is a table of the schema.
        let Some(table) = schema.table(&db.table) else {
            continue;
        };
        let module = modules.claim_ident(&naming::snake(&db.table));
        items.push(table_module(ctx, model, db, events, table, &module));
        registrations.push(quote!(#module::JOURNALED));
    }

    let journaled = (!registrations.is_empty()).then(|| {
        quote! {
            /// Every journaled table that publishes, for `blueprint::publish::Publisher::new`.
            pub fn journaled() -> Vec<::blueprint::publish::Journaled> {
                vec![#(#registrations),*]
            }
        }
    });
    let doc = format!(
        " Event streams of `{}`: a typed publisher per stream, and what each journaled table publishes.",
        service.name
    );
    if items.is_empty() {
        return Ok(None);
    }
    ctx.file(
        path,
        quote! {
            #![doc = #doc]

            // Named `models::...` here, `super::models::...` in the table modules.
            use super::models;

            #journaled
            #(#items)*
        },
    )
    .map(Some)
}

/// A member model's field holding `name`, as `(field, its Rust identifier)`.
fn field<'m>(model: &'m Model, name: &str) -> Option<(&'m Field, Ident)> {
    model
        .fields
        .iter()
        .zip(field_idents(&model.fields))
        .find(|(f, _)| f.name == name)
        .map(|(f, id)| (f, ident(&id)))
}

/// Required (or defaulted: held as the type itself) and of type `ty`.
fn plain_field(model: &Model, name: &str, ty: Primitive) -> Option<Ident> {
    let (f, id) = field(model, name)?;
    let held_plain = !matches!(presence(f), Presence::Optional);
    (held_plain && f.type_ == TypeRef::Primitive(ty)).then_some(id)
}

/// `impl StreamEvent` for a stream union whose members are all event models, and
/// its publisher type; `None` for other unions.
fn stream_event(ctx: &Ctx<'_>, u: &Union) -> Option<TokenStream> {
    let service = &ctx.spec.service;
    let stream = u.stream.as_ref()?;
    let t = service.named(TypeKind::Union, &u.name);
    let union_ty = ctx.named_path(&t, Place::WithModels);
    let variants = union_variants(ctx, service, u);
    let mut arms = Vec::new();
    for v in &variants.variants {
        let TypeRef::Named(member) = &v.member.type_ else {
            return None;
        };
        let model = ctx.spec.resolve_model(member)?;
        if !matches!(v.form, MemberForm::Object) {
            return None;
        }
        let id = plain_field(model, "event_id", Primitive::String)?;
        let timestamp = plain_field(model, "timestamp", Primitive::DateTimeIso8601)?;
        let variant = format_ident!("{}", v.ident);
        let event_type = v.tags.first()?;
        let key = match &stream.partition_key {
            Some(k) => {
                let (_, k) = field(model, k)?;
                quote!(.partition_key(&m.#k))
            }
            None => TokenStream::new(),
        };
        arms.push(quote! {
            Self::#variant(m) => Envelope::new(&m.#id, #event_type, m.#timestamp) #key,
        });
    }
    let undefined = format_ident!("{}", variants.undefined);
    let name = &stream.name;
    let max_age = proc_macro2::Literal::u64_unsuffixed(u64::from(stream.retention_hours) * 3600);
    let replicas = proc_macro2::Literal::u8_unsuffixed(stream.replicas);
    let partition_key = match &stream.partition_key {
        Some(k) => quote!(Some(#k.to_owned())),
        None => quote!(None),
    };
    let publisher = format_ident!(
        "{}Publisher",
        ctx.type_name(&t)
            .map_or_else(|| naming::camel(&u.name), |n| n.ident.clone())
    );
    let publisher_doc = format!(" Publishes `{}` events on `{name}`.", u.name);
    Some(quote! {
        #[doc = #publisher_doc]
        pub type #publisher = ::blueprint::stream::EventPublisher<#union_ty>;

        impl ::blueprint::stream::StreamEvent for #union_ty {
            fn stream() -> ::blueprint::stream::StreamConfig {
                ::blueprint::stream::StreamConfig {
                    max_age: Some(::std::time::Duration::from_secs(#max_age)),
                    replicas: #replicas,
                    partition_key: #partition_key,
                    ..::blueprint::stream::StreamConfig::new(#name)
                }
            }

            fn envelope(&self) -> Result<::blueprint::stream::Envelope, ::blueprint::stream::StreamError> {
                use ::blueprint::stream::Envelope;
                Ok(match self {
                    #(#arms)*
                    Self::#undefined(_) => return Envelope::undefined(#name),
                })
            }
        }
    })
}

/// `field: value`, or the shorthand when the value is a local of that name.
fn init(field: &Ident, value: TokenStream) -> TokenStream {
    if *field == value.to_string() {
        quote!(#field)
    } else {
        quote!(#field: #value)
    }
}

/// The fields of a member the journal has nothing for: `None`, or their default.
fn unfilled(ctx: &Ctx<'_>, member: &Model, filled: &[&str]) -> Vec<TokenStream> {
    member
        .fields
        .iter()
        .zip(field_idents(&member.fields))
        .filter(|(f, _)| !filled.contains(&f.name.as_str()))
        .map(|(f, id)| {
            let id = ident(&id);
            match presence(f) {
                Presence::Default(value) => {
                    let value = default_expr(ctx, &f.type_, &value, Place::Sibling);
                    quote!(#id: #value)
                }
                // The loader refuses required fields the publisher cannot fill.
                Presence::Optional | Presence::Required => quote!(#id: None),
            }
        })
        .collect()
}

/// `value` as the member field `f` holds it: boxed, or in `Some`.
fn held(ctx: &Ctx<'_>, member: &NamedType, f: &Field, value: TokenStream) -> TokenStream {
    let value = if ctx.needs_box(member, &f.type_) {
        quote!(Box::new(#value))
    } else {
        value
    };
    match presence(f) {
        Presence::Optional => quote!(Some(#value)),
        _ => value,
    }
}

fn table_module(
    ctx: &Ctx<'_>,
    model: &Model,
    db: &DbTable,
    events: &TableEvents,
    table: &sql::Table,
    module: &Ident,
) -> TokenStream {
    let service = &ctx.spec.service;
    let local = |kind, name: &str| service.named(kind, name);
    let model_ty = ctx.named_path(&local(TypeKind::Model, &model.name), Place::Sibling);
    let union_ty = ctx.named_path(&local(TypeKind::Union, &events.union), Place::Sibling);
    let upserted_t = local(TypeKind::Model, &events.upserted);
    let deleted_t = local(TypeKind::Model, &events.deleted);
    let upserted_ty = ctx.named_path(&upserted_t, Place::Sibling);
    let deleted_ty = ctx.named_path(&deleted_t, Place::Sibling);
    // Invariant: the loader checked both members and their fields.
    let (Some(upserted), Some(deleted)) = (
        service.model(&events.upserted),
        service.model(&events.deleted),
    ) else {
        return TokenStream::new();
    };
    let event_type = |name: &str| {
        ctx.spec
            .service
            .unions
            .iter()
            .find(|u| u.name == events.union)
            .and_then(|u| {
                u.types
                    .iter()
                    .find(|m| m.type_.named().is_some_and(|n| n.name == name))
            })
            .map(|m| m.wire_value(&service.namespace))
            .unwrap_or_else(|| name.to_string())
    };
    let upserted_type = event_type(&events.upserted);
    let deleted_type = event_type(&events.deleted);

    // The row's key fields, read before the row moves into the event.
    let row_field = |name: &str| field(model, name).map(|(_, id)| id);
    let keys: Vec<Ident> = db.primary_key.iter().filter_map(|k| row_field(k)).collect();
    let key = match keys.as_slice() {
        [one] => quote!(&row.#one),
        many => quote!(&(#(&row.#many),*)),
    };

    let envelope = |member: &Model| {
        let id = field(member, "event_id").map(|(_, id)| id);
        let ts = field(member, "timestamp").map(|(_, id)| id);
        (id, ts)
    };
    let (Some(up_id), Some(up_ts)) = envelope(upserted) else {
        return TokenStream::new();
    };
    let (Some(del_id), Some(del_ts)) = envelope(deleted) else {
        return TokenStream::new();
    };
    let Some((row_f, row_id)) = field(upserted, &events.row_field) else {
        return TokenStream::new();
    };
    let row_value = held(ctx, &upserted_t, row_f, quote!(row));
    let mut up_fields = vec![
        init(&up_id, quote!(record.event_id())),
        init(&up_ts, quote!(record.timestamp)),
        init(&row_id, row_value),
    ];
    up_fields.extend(unfilled(
        ctx,
        upserted,
        &["event_id", "timestamp", events.row_field.as_str()],
    ));
    let mut del_fields = vec![
        init(&del_id, quote!(record.event_id())),
        init(&del_ts, quote!(record.timestamp)),
    ];
    for k in &db.primary_key {
        let (Some((f, id)), Some(from)) = (field(deleted, k), row_field(k)) else {
            continue;
        };
        del_fields.push(init(&id, held(ctx, &deleted_t, f, quote!(row.#from))));
    }
    let mut filled: Vec<&str> = vec!["event_id", "timestamp"];
    filled.extend(db.primary_key.iter().map(String::as_str));
    del_fields.extend(unfilled(ctx, deleted, &filled));

    let statement = |pg: String, lite: String| quote!(Statement { postgres: #pg, sqlite: #lite });
    let queued = statement(
        postgres::journal_queued(table),
        sqlite::journal_queued(table),
    );
    let table_name = &table.name;
    let journal = table.journal_table();
    let module_doc = format!(
        " Table `{}`: each journal record as a `{}` event, `{upserted_type}` (the row) or `{deleted_type}` (its key).",
        table.name, events.union
    );
    let registration_doc = format!(" The registration of `{}` for the publisher.", table.name);
    let to_event_doc = format!(
        " A journal record of `{}` as its event: deterministic id, the record's timestamp, the row's key as partition key (unless the stream names one).",
        table.name
    );
    // A table named like this file's module (`events`) is `events::events`.
    let inception = (*module == "events").then(|| quote!(#[allow(clippy::module_inception)]));
    quote! {
        #[doc = #module_doc]
        #inception
        pub mod #module {
            use ::blueprint::db::Statement;
            use ::blueprint::publish::{JournalRecord, Journaled, Operation};
            use ::blueprint::stream::{Event, StreamError, StreamEvent};

            /// The oldest queued records, in journal order (`LIMIT` bound).
            const QUEUED: Statement = #queued;

            #[doc = #registration_doc]
            pub const JOURNALED: Journaled = Journaled {
                table: #table_name,
                journal: #journal,
                stream: <#union_ty as StreamEvent>::stream,
                queued: QUEUED,
                event: to_event,
            };

            #[doc = #to_event_doc]
            pub fn to_event(record: &JournalRecord) -> Result<Event, StreamError> {
                let row: #model_ty = record.row()?;
                let key = ::blueprint::stream::key_text(#key);
                let event = match record.operation {
                    Operation::Insert | Operation::Update => #union_ty::from(#upserted_ty { #(#up_fields),* }),
                    Operation::Delete => #union_ty::from(#deleted_ty { #(#del_fields),* }),
                };
                record.event(&event, key)
            }
        }
    }
}
