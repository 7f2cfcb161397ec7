//! Consumers: for each stream the service consumes (`consumes`), a trait with one
//! async method per event type of the stream's union, plus `undefined` for event
//! types newer than this code, and the glue running it on the runtime's driver
//! (`blueprint::consume::Handler`).
//!
//! For `io.acme.users.v0.unions.user_event` consumed by `events`:
//! ```text
//! pub trait UserEventConsumer {
//!     fn user_upserted(&self, tx: &mut Tx, event: UserUpserted, meta: &EventMeta) -> impl Future<..>;
//!     fn user_deleted(&self, tx: &mut Tx, event: UserDeleted, meta: &EventMeta) -> impl Future<..>;
//!     fn undefined(&self, tx: &mut Tx, event: RawObject, meta: &EventMeta) -> impl Future<..> { skip }
//! }
//! pub struct UserEventHandler<C>(pub C);   // impl Handler: decode, dispatch
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use blueprint_spec::ir::{Consume, NamedType, Service, TypeRef};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::models::union_variants;
use super::{Ctx, Place, docs, naming};
use crate::{CodegenError, GeneratedFile};

/// `consumers.rs` beside `models`; `None` when the service consumes nothing.
pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<Option<GeneratedFile>, CodegenError> {
    let consumes = &ctx.spec.service.blueprint.consumes;
    if consumes.is_empty() {
        return Ok(None);
    }
    let consumer = blueprint_spec::application_key(&ctx.spec.service.name);
    // The file's own names (imports, the generic parameter) are taken first.
    let mut names = naming::Scope::with_reserved(&[
        "ConsumeError",
        "Delivery",
        "EventMeta",
        "Handler",
        "Tx",
        "RawObject",
        "Future",
        "C",
    ]);
    let mut modules = BTreeSet::new();
    let mut items = Vec::new();
    let mut handlers = Vec::new();
    for consume in consumes {
        if let Some((handler, tokens)) = stream(ctx, consume, &consumer, &mut names, &mut modules) {
            handlers.push(handler);
            items.push(tokens);
        }
    }
    let modules = modules.iter().map(|m| format_ident!("{}", m));
    let doc = [
        format!(
            " Consumers of the streams `{}` subscribes to: per stream, a trait with one",
            ctx.spec.service.name
        ),
        " method per event type, and the handler running it on `blueprint::consume::Driver`:"
            .into(),
        format!(
            " `driver.start({}(my_consumer))`. Each method gets the transaction the event",
            handlers.first().map_or("Handler", String::as_str)
        ),
        " is applied in: write through it, and the writes commit with the event's".into(),
        " \"applied\" mark, or not at all.".into(),
    ];
    ctx.file(
        path,
        quote! {
            #(#![doc = #doc])*

            use std::future::Future;

            use ::blueprint::consume::{ConsumeError, Delivery, EventMeta, Handler};
            use ::blueprint::db::Tx;
            use ::blueprint::union::RawObject;

            #(use super::models::#modules;)*

            #(#items)*
        },
    )
    .map(Some)
}

/// The trait and handler of one consumed stream.
fn stream(
    ctx: &Ctx<'_>,
    consume: &Consume,
    consumer: &str,
    names: &mut naming::Scope,
    modules: &mut BTreeSet<String>,
) -> Option<(String, TokenStream)> {
    let union = ctx.spec.resolve_union(&consume.type_)?;
    let service: &Service = ctx
        .services()
        .find(|s| s.namespace == consume.type_.namespace)?;
    let union_path = type_path(ctx, &consume.type_, modules);
    let base = naming::camel(&consume.type_.name);
    let trait_ident = format_ident!("{}", names.claim(format!("{base}Consumer")));
    let handler_name = names.claim(format!("{base}Handler"));
    let handler_ident = format_ident!("{}", handler_name);

    let variants = union_variants(ctx, service, union);
    let undefined_variant = format_ident!("{}", variants.undefined);
    let mut methods = naming::Scope::with_reserved(&["undefined"]);
    let mut signatures = Vec::new();
    let mut arms = Vec::new();
    for v in &variants.variants {
        let wire = v.member.wire_value(&service.namespace);
        let method: Ident = methods.claim_ident(&naming::field_name(&wire));
        let ty = member_type(ctx, &v.member.type_, modules);
        let mut doc_text = v.member.description.clone().unwrap_or_default();
        if doc_text.is_empty() {
            doc_text = format!("A `{wire}` event.");
        }
        let doc = docs(Some(&doc_text), v.member.deprecation.as_ref());
        signatures.push(quote! {
            #doc
            fn #method(&self, tx: &mut Tx, event: #ty, meta: &EventMeta) -> impl Future<Output = Result<(), ConsumeError>> + Send;
        });
        let variant = format_ident!("{}", v.ident);
        let union_type = consume.type_.clone();
        let event = if ctx.needs_box(&union_type, &v.member.type_) {
            quote!(*event)
        } else {
            quote!(event)
        };
        arms.push(quote! {
            #union_path::#variant(event) => self.0.#method(tx, #event, meta).await,
        });
    }

    let stream = &consume.stream;
    let trait_doc = format!(" The events of `{stream}`, one method per event type.");
    let union_doc = union
        .description
        .as_deref()
        .map(|d| {
            let lines = d.lines().map(|l| format!(" {}", l.trim_end()));
            quote!(#[doc = ""] #(#[doc = #lines])*)
        })
        .unwrap_or_default();
    let handler_doc = format!(
        " Runs a [`{trait_ident}`] on `blueprint::consume::Driver`: decodes each event of `{stream}` and calls its method."
    );
    Some((
        handler_name,
        quote! {
            #[doc = #trait_doc]
            #union_doc
            pub trait #trait_ident: Send + Sync + 'static {
                #(#signatures)*

                /// An event type this code does not know (the producer's spec is newer):
                /// skipped by default.
                fn undefined(&self, tx: &mut Tx, event: RawObject, meta: &EventMeta) -> impl Future<Output = Result<(), ConsumeError>> + Send {
                    let _ = (tx, event, meta);
                    std::future::ready(Ok(()))
                }
            }

            #[doc = #handler_doc]
            #[derive(Debug, Clone)]
            pub struct #handler_ident<C>(pub C);

            impl<C: #trait_ident> Handler for #handler_ident<C> {
                const STREAM: &'static str = #stream;
                const CONSUMER: &'static str = #consumer;

                async fn handle(&self, tx: &mut Tx, delivery: &Delivery) -> Result<(), ConsumeError> {
                    let meta = &delivery.meta;
                    match delivery.decode()? {
                        #(#arms)*
                        #union_path::#undefined_variant(event) => self.0.undefined(tx, event, meta).await,
                    }
                }
            }
        },
    ))
}

/// A named type as `<namespace module>::<Type>`, the module imported at the top.
fn type_path(ctx: &Ctx<'_>, t: &NamedType, modules: &mut BTreeSet<String>) -> TokenStream {
    match ctx.type_name(t) {
        Some(name) => {
            let ident = format_ident!("{}", name.ident);
            match &name.module {
                Some(m) => {
                    modules.insert(m.clone());
                    let m = format_ident!("{}", m);
                    quote!(#m::#ident)
                }
                None => quote!(super::models::#ident),
            }
        }
        None => ctx.named_path(t, Place::Sibling),
    }
}

fn member_type(ctx: &Ctx<'_>, t: &TypeRef, modules: &mut BTreeSet<String>) -> TokenStream {
    match t {
        TypeRef::Named(n) => type_path(ctx, n, modules),
        other => ctx.rust_type(other, Place::Sibling),
    }
}
