//! Server: the service trait (one async method per operation) and `router()`,
//! which routes, extracts and validates inputs, calls the trait and encodes the
//! answer. Hand-written code implements only the trait.

use std::collections::BTreeMap;
use std::path::Path;

use blueprint_spec::ir::{Method, ParameterLocation, ResponseCode};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::operations::{Op, ParamShape, operations};
use super::{Ctx, Place, bound, ident, naming};
use crate::{CodegenError, GeneratedFile};

/// `UsersService` for a service named `users`.
pub(crate) fn trait_name(ctx: &Ctx<'_>) -> proc_macro2::Ident {
    format_ident!("{}Service", naming::camel(&ctx.spec.service.name))
}

/// The route of a path in axum syntax, and its shape (params as `{}`) to group by.
fn route(path: &str) -> (String, String) {
    let mut route = String::new();
    let mut shape = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        route.push('/');
        shape.push('/');
        match seg.strip_prefix(':') {
            Some(name) => {
                route.push_str(&format!("{{{name}}}"));
                shape.push_str("{}");
            }
            None => {
                let escaped = seg.replace('{', "{{").replace('}', "}}");
                route.push_str(&escaped);
                shape.push_str(&escaped);
            }
        }
    }
    if route.is_empty() {
        route.push('/');
        shape.push('/');
    }
    (route, shape)
}

pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<GeneratedFile, CodegenError> {
    let ops = operations(ctx);
    let trait_ident = trait_name(ctx);
    let methods = ops.iter().map(|op| {
        let m = ident(&op.method);
        let req = op.request_type();
        let resp = op.response_type();
        let doc = op.doc();
        quote! {
            #doc
            fn #m(&self, request: super::operations::#req) -> impl ::std::future::Future<Output = super::operations::#resp> + Send;
        }
    });

    // Routes grouped by shape so that `/users/:id` and `/users/:guid` share one
    // axum route (axum rejects two parameter names in one position); handlers read
    // path parameters by position.
    let mut routes: BTreeMap<String, (String, Vec<(Method, proc_macro2::Ident)>)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut handlers = Vec::new();
    let mut responses = Vec::new();
    for op in &ops {
        let handler = format_ident!("handle_{}", op.method);
        let (route_path, shape) = route(&op.op.path);
        let entry = routes.entry(shape.clone()).or_insert_with(|| {
            order.push(shape.clone());
            (route_path, Vec::new())
        });
        // A second operation with the same method and shape is unreachable (the
        // first one matches); axum would panic on the duplicate, so skip it.
        if entry.1.iter().any(|(m, _)| *m == op.op.method) {
            continue;
        }
        entry.1.push((op.op.method, handler.clone()));
        handlers.push(handler_fn(ctx, op, &handler, &trait_ident));
        responses.push(into_response(ctx, op));
    }
    let route_calls = order.iter().filter_map(|shape| {
        let (path, methods) = routes.get(shape)?;
        let mut calls = methods.iter().map(|(m, h)| {
            let f = format_ident!("{}", m.as_str().to_ascii_lowercase());
            (f, h)
        });
        let (f, h) = calls.next()?;
        let rest = calls.map(|(f, h)| quote!(.#f(#h::<S>)));
        Some(quote!(.route(#path, ::blueprint::axum::routing::#f(#h::<S>) #(#rest)*)))
    });
    let service_doc = format!(
        " The `{}` service: implement this trait, serve it with [`router`].",
        ctx.spec.service.name
    );
    let service_doc2 = " Each method gets validated, typed input and returns one of the responses the spec declares.";
    let tokens = quote! {
        //! Server for the service: the trait to implement and the axum router.

        #[doc = #service_doc]
        #[doc = ""]
        #[doc = #service_doc2]
        pub trait #trait_ident: Send + Sync + 'static {
            #(#methods)*
        }

        /// The axum router serving `service`, with the default [`ServerConfig`](::blueprint::server::ServerConfig) (1 MiB body limit).
        pub fn router<S: #trait_ident>(service: S) -> ::blueprint::axum::Router {
            router_with_config(service, &::blueprint::server::ServerConfig::default())
        }

        /// The axum router serving `service`: the spec's operations, the healthcheck
        /// and version routes, JSON 404/405/413 answers.
        pub fn router_with_config<S: #trait_ident>(service: S, config: &::blueprint::server::ServerConfig) -> ::blueprint::axum::Router {
            let routes = ::blueprint::axum::Router::new()
                #(#route_calls)*
                .with_state(::std::sync::Arc::new(service));
            ::blueprint::server::service_router(routes, &super::SERVICE, config)
        }

        #(#handlers)*

        #(#responses)*
    };
    ctx.file(path, tokens)
}

fn handler_fn(
    ctx: &Ctx<'_>,
    op: &Op<'_>,
    handler: &proc_macro2::Ident,
    trait_ident: &proc_macro2::Ident,
) -> TokenStream {
    let m = ident(&op.method);
    let req = op.request_type();
    let mut lets = Vec::new();
    let mut names = Vec::new();
    let path_index: BTreeMap<&str, usize> = op
        .op
        .path_params()
        .enumerate()
        .map(|(i, n)| (n, i))
        .collect();
    for p in &op.params {
        let id = ident(&p.ident);
        let name = &p.p.name;
        let item = ctx.rust_type(p.item, Place::Sibling);
        let (min, max) = (bound(p.p.minimum.as_ref()), bound(p.p.maximum.as_ref()));
        let required = p.p.required;
        let default =
            p.p.default
                .as_ref()
                .map(|d| super::models::default_expr(ctx, p.item, d, Place::Sibling));
        let expr = match (p.p.location, p.shape) {
            (ParameterLocation::Path, _) => {
                let index = path_index.get(name.as_str()).copied().unwrap_or(usize::MAX);
                quote!(inputs.path::<#item>(#index, #name, #min, #max))
            }
            (ParameterLocation::Form, shape) => match (shape, &default) {
                (ParamShape::List, _) => {
                    quote!(inputs.form::<Vec<#item>>(#name, #required).map(Option::unwrap_or_default))
                }
                (ParamShape::Optional, _) => quote!(inputs.form::<#item>(#name, false)),
                (ParamShape::Value, Some(d)) => {
                    quote!(inputs.form::<#item>(#name, false).map(|v| v.unwrap_or_else(|| #d)))
                }
                (ParamShape::Value, None) => quote!(inputs.form::<#item>(#name, true).flatten()),
            },
            (loc, shape) => {
                let loc = if loc == ParameterLocation::Header {
                    quote!(::blueprint::server::Location::Header)
                } else {
                    quote!(::blueprint::server::Location::Query)
                };
                match (shape, &default) {
                    (ParamShape::List, _) => {
                        quote!(inputs.list::<#item>(#loc, #name, #required, #min, #max))
                    }
                    (ParamShape::Optional, _) => {
                        quote!(inputs.optional::<#item>(#loc, #name, #min, #max))
                    }
                    (ParamShape::Value, Some(d)) => {
                        quote!(inputs.optional::<#item>(#loc, #name, #min, #max).map(|v| v.unwrap_or_else(|| #d)))
                    }
                    (ParamShape::Value, None) => {
                        quote!(inputs.required::<#item>(#loc, #name, #min, #max))
                    }
                }
            }
        };
        lets.push(quote!(let #id = #expr;));
        names.push(id);
    }
    if let (Some(body), Some(b)) = (&op.body_ident, &op.op.body) {
        let id = ident(body);
        let ty = ctx.rust_type(&b.type_, Place::Sibling);
        lets.push(quote!(let #id = inputs.body::<#ty>();));
        names.push(id);
    }
    let (inputs_arg, check) = match names.len() {
        0 => (quote!(_inputs: ::blueprint::server::Inputs), quote!()),
        1 => {
            let n = &names[0];
            (
                quote!(mut inputs: ::blueprint::server::Inputs),
                quote!(let Some(#n) = #n else { return inputs.reject(); };),
            )
        }
        _ => (
            quote!(mut inputs: ::blueprint::server::Inputs),
            quote!(let (#(Some(#names)),*) = (#(#names),*) else { return inputs.reject(); };),
        ),
    };
    quote! {
        async fn #handler<S: #trait_ident>(
            ::blueprint::axum::extract::State(service): ::blueprint::axum::extract::State<::std::sync::Arc<S>>,
            #inputs_arg,
        ) -> ::blueprint::axum::response::Response {
            #(#lets)*
            #check
            let request = super::operations::#req { #(#names),* };
            ::blueprint::axum::response::IntoResponse::into_response(service.#m(request).await)
        }
    }
}

fn into_response(ctx: &Ctx<'_>, op: &Op<'_>) -> TokenStream {
    let _ = ctx;
    let resp = op.response_type();
    let arms = op.responses.iter().map(|r| {
        let v = format_ident!("{}", r.variant);
        let unit = r.r.type_.is_unit();
        match r.r.code {
            ResponseCode::Status(code) => {
                if unit {
                    quote!(Self::#v => ::blueprint::server::empty(::blueprint::server::status(#code)),)
                } else {
                    quote!(Self::#v(body) => ::blueprint::server::json(::blueprint::server::status(#code), &body),)
                }
            }
            ResponseCode::Default => {
                if unit {
                    quote!(Self::#v { status } => ::blueprint::server::empty(status),)
                } else {
                    quote!(Self::#v { status, body } => ::blueprint::server::json(status, &body),)
                }
            }
        }
    });
    quote! {
        impl ::blueprint::axum::response::IntoResponse for super::operations::#resp {
            fn into_response(self) -> ::blueprint::axum::response::Response {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}
