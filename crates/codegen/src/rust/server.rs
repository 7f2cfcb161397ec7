//! Server: the service trait (one async method per operation) and `router()`,
//! which routes, extracts and validates inputs, calls the trait and encodes the
//! answer. Hand-written code implements only the trait.

use std::collections::BTreeMap;
use std::path::Path;

use blueprint_spec::http::{AnswerFields, Code, ErrorAnswer, SORT_PARAMETER};
use blueprint_spec::ir::{Method, ParameterLocation, Primitive, ResponseCode, TypeDef, TypeRef};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::operations::{Op, ParamShape, operations};
use super::{Ctx, Place, bound, ident, naming};
use crate::{CodegenError, GeneratedFile};

/// `UsersService` for a service named `users`.
pub(crate) fn trait_name(ctx: &Ctx<'_>) -> proc_macro2::Ident {
    format_ident!("{}Service", naming::camel(&ctx.spec.service.name))
}

/// One axum route: its path, and each method with the index of its operation.
pub(crate) type Route = (String, Vec<(Method, usize)>);

/// The operations the server serves, grouped into axum routes.
pub(crate) struct Served<'a> {
    /// The operations with a handler (and a trait method), in declaration order.
    pub ops: Vec<Op<'a>>,
    /// axum routes in first-declared order: path and its (method, operation index).
    pub routes: Vec<Route>,
}

/// The operations the generated server routes, on the routes
/// [`blueprint_spec::http::routes`] decides (shared with `dev mock`): handlers
/// read path parameters by position, so paths that differ only in parameter
/// names share a route; an unreachable duplicate gets no handler.
pub(crate) fn served<'a>(ctx: &Ctx<'a>) -> Served<'a> {
    let routes = blueprint_spec::http::routes(&ctx.spec.service);
    let mut kept: Vec<usize> = routes
        .iter()
        .flat_map(|r| r.methods.iter().map(|(_, i)| *i))
        .collect();
    kept.sort_unstable();
    let ops: Vec<Op<'a>> = operations(ctx)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.binary_search(i).is_ok())
        .map(|(_, op)| op)
        .collect();
    let position = |i: usize| kept.binary_search(&i).unwrap_or_default();
    Served {
        ops,
        routes: routes
            .into_iter()
            .map(|r| {
                let methods = r.methods.iter().map(|(m, i)| (*m, position(*i))).collect();
                (r.path, methods)
            })
            .collect(),
    }
}

/// The server module; with `dao`, the responses of operations that declare a
/// 422 convert from the DAO's `DbError`.
pub(crate) fn generate(
    ctx: &Ctx<'_>,
    path: &Path,
    dao: bool,
) -> Result<GeneratedFile, CodegenError> {
    let served = served(ctx);
    let ops = &served.ops;
    let trait_ident = trait_name(ctx);
    let methods = ops.iter().map(|op| {
        let m = ident(&op.method);
        let req = op.request_type();
        let resp = op.response_type();
        let doc = op.doc();
        quote! {
            #doc
            fn #m(&self, request: #req, context: Context) -> impl Future<Output = #resp> + Send;
        }
    });

    let handlers: Vec<_> = ops
        .iter()
        .map(|op| handler_fn(ctx, op, &handler_ident(op), &trait_ident))
        .collect();
    let db_errors: Vec<_> = if dao {
        ops.iter().filter_map(|op| from_db_error(ctx, op)).collect()
    } else {
        Vec::new()
    };
    // The error-shape names the generated code uses, imported once.
    let shapes: String = ops
        .iter()
        .filter_map(|op| reject_shape(ctx, op))
        .chain(db_errors.iter().cloned())
        .map(|tokens| tokens.to_string())
        .collect();
    let responses: Vec<_> = ops.iter().map(|op| into_response(ctx, op)).collect();
    // An operation needing a token runs its handler behind the auth layer, which
    // answers 401/403 before any input is read.
    let uses_auth = ops.iter().any(|op| auth_rule(op).is_some());
    let route_calls = served.routes.iter().filter_map(|(path, methods)| {
        let mut calls = methods.iter().map(|(m, i)| {
            let f = format_ident!("{}", m.as_str().to_ascii_lowercase());
            let h = handler_ident(&ops[*i]);
            let handler = match auth_rule(&ops[*i]) {
                Some(rule) => quote!(#h::<S>.layer(RequireAuthLayer::new(auth.clone(), #rule))),
                None => quote!(#h::<S>),
            };
            (f, handler)
        });
        let (f, h) = calls.next()?;
        let rest = calls.map(|(f, h)| quote!(.#f(#h)));
        Some(quote!(.route(#path, ::blueprint::axum::routing::#f(#h) #(#rest)*)))
    });
    let auth_local = uses_auth.then(|| quote!(let auth = config.auth.clone();));
    let service_doc = format!(
        " The `{}` service: implement this trait, serve it with [`router`].",
        ctx.spec.service.name
    );
    let service_doc2 =
        " Each method gets validated, typed input and the request's [`Context`] (all";
    let service_doc3 =
        " headers, middleware extensions), and returns one of the responses the spec declares.";
    let uses_location = ops.iter().flat_map(|op| &op.params).any(|p| {
        matches!(
            p.p.location,
            ParameterLocation::Query | ParameterLocation::Header
        )
    });
    let server_items = if uses_location {
        quote!(Context, Inputs, Location, ServerConfig)
    } else {
        quote!(Context, Inputs, ServerConfig)
    };
    let uses_sort = ops.iter().any(|op| sortable(ctx, op).is_some());
    let shape_names: Vec<_> = ["ErrorFields", "ErrorShape"]
        .into_iter()
        .filter(|name| shapes.contains(name))
        .map(|name| format_ident!("{}", name))
        .collect();
    let shape_import = (!shape_names.is_empty()).then(|| {
        quote!(
            use ::blueprint::error::{#(#shape_names),*};
        )
    });
    let sort_import = uses_sort.then(|| {
        quote!(
            use ::blueprint::param::Sort;
        )
    });
    let db_import = (!db_errors.is_empty()).then(|| {
        quote!(
            use ::blueprint::db::{DbError, Refusal};
        )
    });
    let imports = if ops.is_empty() {
        quote! {
            use std::sync::Arc;

            use ::blueprint::axum::Router;
            use ::blueprint::server::ServerConfig;
        }
    } else {
        quote! {
            use std::future::Future;
            use std::sync::Arc;

            use ::blueprint::axum::Router;
            use ::blueprint::axum::extract::State;
            use ::blueprint::axum::response::{IntoResponse, Response};
            #db_import
            #shape_import
            #sort_import
            use ::blueprint::server::{#server_items};

            use super::operations::*;
        }
    };
    let auth_imports = uses_auth.then(|| {
        quote! {
            use ::blueprint::auth::{RequireAuthLayer, Rule};
            use ::blueprint::axum::handler::Handler;
        }
    });
    let tokens = quote! {
        //! Server for the service: the trait to implement and the axum router.

        #imports
        #auth_imports

        #[doc = #service_doc]
        #[doc = ""]
        #[doc = #service_doc2]
        #[doc = #service_doc3]
        pub trait #trait_ident: Send + Sync + 'static {
            #(#methods)*
        }

        /// The axum router serving `service`, with the default [`ServerConfig`] (1 MiB body limit).
        pub fn router<S: #trait_ident>(service: S) -> Router {
            router_with_config(service, &ServerConfig::default())
        }

        /// The axum router serving `service`: the spec's operations, the healthcheck
        /// and version routes, JSON 404/405/413 answers.
        pub fn router_with_config<S: #trait_ident>(service: S, config: &ServerConfig) -> Router {
            #auth_local
            let routes = Router::new()
                #(#route_calls)*
                .with_state(Arc::new(service));
            ::blueprint::server::service_router(routes, &super::SERVICE, config)
        }

        #(#handlers)*

        #(#responses)*

        #(#db_errors)*
    };
    ctx.file(path, tokens)
}

/// The names a handler binds or reads besides its inputs' locals.
const HANDLER_LOCALS: &[&str] = &["service", "inputs", "request"];

/// `field`, or `field: local` when the local had to be named otherwise.
fn field_init(field: &proc_macro2::Ident, local: &proc_macro2::Ident) -> TokenStream {
    if field == local {
        quote!(#field)
    } else {
        quote!(#field: #local)
    }
}

fn handler_ident(op: &Op<'_>) -> proc_macro2::Ident {
    format_ident!("handle_{}", op.method)
}

fn handler_fn(
    ctx: &Ctx<'_>,
    op: &Op<'_>,
    handler: &proc_macro2::Ident,
    trait_ident: &proc_macro2::Ident,
) -> TokenStream {
    let m = ident(&op.method);
    let req = op.request_type();
    // Each input is read into a local named like its field, unless that would
    // shadow a name the handler itself uses.
    let mut locals = naming::Scope::with_reserved(HANDLER_LOCALS);
    let mut lets = Vec::new();
    let mut names = Vec::new();
    let mut inits = Vec::new();
    let sortable = sortable(ctx, op);
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
        let required = p.p.must_be_sent();
        let default = p.p.default.as_ref().map(|d| {
            let expr = super::models::default_expr(ctx, p.item, d, Place::Sibling);
            // Literals and enum variants are cheap; strings and decimals allocate or compute.
            let cheap = !matches!(
                p.item,
                TypeRef::Primitive(
                    Primitive::String | Primitive::Decimal | Primitive::Object | Primitive::Json
                ) | TypeRef::List(_)
                    | TypeRef::Map(_)
            );
            if cheap {
                quote!(unwrap_or(#expr))
            } else {
                quote!(unwrap_or_else(|| #expr))
            }
        });
        let expr = match (p.p.location, p.shape) {
            (ParameterLocation::Path, _) => {
                let index = path_index.get(name.as_str()).copied().unwrap_or(usize::MAX);
                let index = proc_macro2::Literal::usize_unsuffixed(index);
                quote!(inputs.path::<#item>(#index, #name, #min, #max))
            }
            (ParameterLocation::Form, shape) => match (shape, &default) {
                (ParamShape::List, _) => {
                    quote!(inputs.form::<Vec<#item>>(#name, #required, #min, #max).map(Option::unwrap_or_default))
                }
                (ParamShape::Optional, _) => quote!(inputs.form::<#item>(#name, false, #min, #max)),
                (ParamShape::Value, Some(d)) => {
                    quote!(inputs.form::<#item>(#name, false, #min, #max).map(|v| v.#d))
                }
                (ParamShape::Value, None) => {
                    quote!(inputs.form::<#item>(#name, true, #min, #max).flatten())
                }
            },
            // A `sort` over a table: only what the DAO can sort by.
            (ParameterLocation::Query, shape) if name == SORT_PARAMETER && sortable.is_some() => {
                let columns = sortable.iter().flatten();
                let sort = quote!(&Sort(&[#(#columns),*]));
                match (shape, &default) {
                    (ParamShape::Value, Some(d)) => quote!(
                        inputs.optional_as(#sort, Location::Query, #name, #min, #max).map(|v| v.#d)
                    ),
                    (ParamShape::Value, None) => {
                        quote!(inputs.required_as(#sort, Location::Query, #name, #min, #max))
                    }
                    _ => quote!(inputs.optional_as(#sort, Location::Query, #name, #min, #max)),
                }
            }
            (loc, shape) => {
                let loc = if loc == ParameterLocation::Header {
                    quote!(Location::Header)
                } else {
                    quote!(Location::Query)
                };
                match (shape, &default) {
                    (ParamShape::List, _) => {
                        quote!(inputs.list::<#item>(#loc, #name, #required, #min, #max))
                    }
                    (ParamShape::Optional, _) => {
                        quote!(inputs.optional::<#item>(#loc, #name, #min, #max))
                    }
                    (ParamShape::Value, Some(d)) => {
                        quote!(inputs.optional::<#item>(#loc, #name, #min, #max).map(|v| v.#d))
                    }
                    (ParamShape::Value, None) => {
                        quote!(inputs.required::<#item>(#loc, #name, #min, #max))
                    }
                }
            }
        };
        let local = locals.claim_ident(&p.ident);
        lets.push(quote!(let #local = #expr;));
        inits.push(field_init(&id, &local));
        names.push(local);
    }
    // Agency and user come from the token, never from the body: a body's scoped
    // fields are set from the verified claims.
    let mut scoped_body = None;
    if let (Some(body), Some(b)) = (&op.body_ident, &op.op.body) {
        let id = ident(body);
        let local = locals.claim_ident(body);
        let ty = ctx.rust_type(&b.type_, Place::Sibling);
        lets.push(quote!(let #local = inputs.body::<#ty>();));
        inits.push(field_init(&id, &local));
        let sets = scope_sets(ctx, op, &b.type_, &local);
        if !sets.is_empty() {
            scoped_body = Some((local.clone(), sets));
        }
        names.push(local);
    }
    let patterns: Vec<TokenStream> = names
        .iter()
        .map(|n| match &scoped_body {
            Some((body, _)) if body == n => quote!(mut #n),
            _ => quote!(#n),
        })
        .collect();
    let reject = match reject_shape(ctx, op) {
        Some(shape) => quote!(inputs.reject_as(&#shape)),
        None => quote!(inputs.reject()),
    };
    let (inputs_arg, check) = match names.len() {
        0 => (quote!(inputs: Inputs), quote!()),
        1 => {
            let (n, p) = (&names[0], &patterns[0]);
            (
                quote!(mut inputs: Inputs),
                quote!(let Some(#p) = #n else { return #reject; };),
            )
        }
        _ => (
            quote!(mut inputs: Inputs),
            quote!(let (#(Some(#patterns)),*) = (#(#names),*) else { return #reject; };),
        ),
    };
    let scope = scoped_body.map(|(_, sets)| {
        quote! {
            if let Some(claims) = inputs.claims() {
                #(#sets)*
            }
        }
    });
    quote! {
        async fn #handler<S: #trait_ident>(State(service): State<Arc<S>>, #inputs_arg) -> Response {
            #(#lets)*
            #check
            #scope
            let request = #req { #(#inits),* };
            service.#m(request, inputs.into_context()).await.into_response()
        }
    }
}

/// What the operation's `sort` parameter may name, when it lists a table's rows.
fn sortable<'s>(ctx: &Ctx<'s>, op: &Op<'_>) -> Option<Vec<&'s str>> {
    let (resource, _) = ctx
        .spec
        .service
        .operations()
        .find(|(_, o)| std::ptr::eq(*o, op.op))?;
    blueprint_spec::http::sortable(ctx.spec, resource, op.op)
}

/// The shape of the operation's 422 when it is not Blueprint's own (see
/// `blueprint_spec::http::validation_answer`; an unmappable declared type is a
/// lint error, and answered in the standard shape).
fn reject_shape(ctx: &Ctx<'_>, op: &Op<'_>) -> Option<TokenStream> {
    match blueprint_spec::http::validation_answer(ctx.spec, op.op).ok()? {
        ErrorAnswer::Standard => None,
        answer => Some(shape(&answer)),
    }
}

/// An `ErrorShape` expression.
fn shape(answer: &ErrorAnswer) -> TokenStream {
    let fields = |f: &AnswerFields| {
        let code = f.code.as_ref().map(|c| match c {
            Code::Own => quote!(.code()),
            Code::Fixed(value) => quote!(.code_value(#value)),
        });
        let message = f.message.then(|| quote!(.message()));
        let messages = f.messages.then(|| quote!(.messages()));
        let violations = f.violations.map(|v| {
            let (path, message) = (v.path, v.message);
            quote!(.violations(#path, #message))
        });
        quote!(ErrorFields::new() #code #message #messages #violations)
    };
    match answer {
        ErrorAnswer::Standard => quote!(ErrorShape::Standard),
        ErrorAnswer::Object(f) => {
            let f = fields(f);
            quote!(ErrorShape::Object(#f))
        }
        ErrorAnswer::List(f) => {
            let f = fields(f);
            quote!(ErrorShape::List(#f))
        }
        ErrorAnswer::Texts => quote!(ErrorShape::Texts),
        ErrorAnswer::Empty => quote!(ErrorShape::Empty),
    }
}

/// `impl From<DbError>` for the response of an operation declaring a 422 it can
/// write: what the database refuses because of the input is answered as the
/// operation declares (a value another row holds: its 409, else its 422; a
/// value a CHECK refuses: its 422), so a handler maps a DAO error in one line.
fn from_db_error(ctx: &Ctx<'_>, op: &Op<'_>) -> Option<TokenStream> {
    let declared = |status: u16| {
        let answer = blueprint_spec::http::error_answer(ctx.spec, op.op, status)?.ok()?;
        let resp = op
            .responses
            .iter()
            .find(|r| r.r.code == ResponseCode::Status(status))?;
        let v = format_ident!("{}", resp.variant);
        Some(if resp.r.type_.is_unit() {
            quote!(Self::#v)
        } else {
            let shape = shape(&answer);
            quote!(Self::#v(body.into_declared(&#shape)))
        })
    };
    let invalid = declared(422)?;
    // A taken value is the declared 409, else the 422 too.
    let refusals = match declared(409) {
        Some(conflict) => quote! {
            Some(Refusal::Conflict(body)) => #conflict,
            Some(Refusal::Invalid(body)) => #invalid,
        },
        None => quote! {
            Some(Refusal::Conflict(body) | Refusal::Invalid(body)) => #invalid,
        },
    };
    let resp = op.response_type();
    Some(quote! {
        /// The database refused the input (see `DbError::refusal`): the declared
        /// answer. Any other failure is the server's: it panics, and the router
        /// answers a JSON 500.
        impl From<DbError> for #resp {
            fn from(e: DbError) -> Self {
                match e.refusal() {
                    #refusals
                    None => panic!("database failure: {e}"),
                }
            }
        }
    })
}

fn into_response(ctx: &Ctx<'_>, op: &Op<'_>) -> TokenStream {
    let _ = ctx;
    let resp = op.response_type();
    let arms = op.responses.iter().map(|r| {
        let v = format_ident!("{}", r.variant);
        let unit = r.r.type_.is_unit();
        match r.r.code {
            ResponseCode::Status(code) => {
                let code = proc_macro2::Literal::u16_unsuffixed(code);
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
        impl IntoResponse for #resp {
            fn into_response(self) -> Response {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// The `Rule` an operation's handler runs behind, when it needs a token: its roles,
/// and the claims it needs (a string claim its scope reads included).
fn auth_rule(op: &Op<'_>) -> Option<TokenStream> {
    let rule = op.op.auth.as_ref().filter(|a| a.required)?;
    let claims = rule.needed_claims();
    let roles = &rule.roles;
    let roles = (!roles.is_empty()).then(|| quote!(.roles([#(#roles),*])));
    let claims = (!claims.is_empty()).then(|| quote!(.claims([#(#claims),*])));
    Some(quote!(Rule::any() #roles #claims))
}

/// `body.agency_id = claims.agency_id;` for each scoped field the body's model has.
fn scope_sets(
    ctx: &Ctx<'_>,
    op: &Op<'_>,
    body: &TypeRef,
    local: &proc_macro2::Ident,
) -> Vec<TokenStream> {
    let Some(rule) = op.op.auth.as_ref().filter(|a| a.required) else {
        return Vec::new();
    };
    let TypeRef::Named(t) = body else {
        return Vec::new();
    };
    let Some(TypeDef::Model(model)) = ctx.spec.resolve(t) else {
        return Vec::new();
    };
    let idents = super::models::field_idents(&model.fields);
    rule.scope
        .iter()
        .filter_map(|s| {
            let i = model.fields.iter().position(|f| f.name == s.field)?;
            let f = &model.fields[i];
            let name = naming::ident(&idents[i]);
            let is_uuid = f.type_ == TypeRef::Primitive(Primitive::Uuid);
            let value = match s.claim.as_str() {
                "a-id" if is_uuid => quote!(claims.agency_id),
                "u-id" if is_uuid => quote!(claims.user_id),
                "a-id" => quote!(claims.agency_id.to_string()),
                "u-id" => quote!(claims.user_id.to_string()),
                // Present: the operation's rule requires the claim.
                claim => quote!(claims.text(#claim).unwrap_or_default().to_owned()),
            };
            let value = match super::models::presence(f) {
                super::models::Presence::Optional => quote!(Some(#value)),
                _ => value,
            };
            Some(quote!(#local.#name = #value;))
        })
        .collect()
}
