//! Client: one async method per operation taking the operation's request and
//! returning its response; statuses the spec does not declare are errors.

use std::path::Path;

use blueprint_spec::ir::{ParameterLocation, ResponseCode};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::operations::{Op, ParamShape, operations};
use super::{Ctx, ident, naming};
use crate::{CodegenError, GeneratedFile};

pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<GeneratedFile, CodegenError> {
    // The client is named beside the runtime items this module imports.
    let name = naming::Scope::with_reserved(&["ClientError", "HttpClient", "Method"])
        .claim_ident(&format!("{}Client", naming::camel(&ctx.spec.service.name)));
    let methods = operations(ctx).iter().map(method).collect::<Vec<_>>();
    let doc = format!(" A client of the `{}` service.", ctx.spec.service.name);
    // Service-level headers with a default are sent with every request, as
    // apibuilder's clients do.
    let default_headers: Vec<TokenStream> = ctx
        .spec
        .service
        .headers
        .iter()
        .filter_map(|h| {
            let value = match h.default.as_ref()? {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = &h.name;
            Some(quote!(let builder = builder.header(#name, #value)?;))
        })
        .collect();
    let imports = (!methods.is_empty()).then(|| {
        quote! {
            use ::blueprint::http::Method;

            use super::operations::*;
        }
    });
    let tokens = quote! {
        //! Client for the service.

        use ::blueprint::client::{ClientError, HttpClient};
        #imports

        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #name {
            http: HttpClient,
        }

        impl #name {
            /// A client of the service at `base_url` (e.g. `http://localhost:8080`), with default settings.
            pub fn new(base_url: impl Into<String>) -> Result<Self, ClientError> {
                Ok(Self::with_http(Self::builder(base_url)?.build()?))
            }

            /// An [`HttpClient`] builder with the spec's service-level headers that
            /// have defaults already set; add headers, a timeout, then `with_http`.
            pub fn builder(base_url: impl Into<String>) -> Result<::blueprint::client::ClientBuilder, ClientError> {
                let builder = HttpClient::builder(base_url);
                #(#default_headers)*
                Ok(builder)
            }

            /// A client over a configured [`HttpClient`]
            /// (default headers, timeout: see `HttpClient::builder`).
            pub fn with_http(http: HttpClient) -> Self {
                Self { http }
            }

            pub fn http(&self) -> &HttpClient {
                &self.http
            }

            #(#methods)*
        }
    };
    ctx.file(path, tokens)
}

fn method(op: &Op<'_>) -> TokenStream {
    let m = ident(&op.method);
    let req = op.request_type();
    let resp = op.response_type();
    let doc = op.doc();

    // The path as a format string capturing one local per parameter, each
    // percent-encoded as a path segment.
    let mut fmt = String::new();
    let mut segments = Vec::new();
    let mut locals = naming::Scope::with_reserved(&["request", "answer"]);
    for seg in op.op.path.split('/').filter(|s| !s.is_empty()) {
        fmt.push('/');
        match seg.strip_prefix(':') {
            Some(name) => {
                let field = op
                    .params
                    .iter()
                    .find(|p| p.p.location == ParameterLocation::Path && p.p.name == name);
                let Some(field) = field else {
                    continue;
                };
                let local = locals.claim_ident(&format!("{}_segment", field.ident));
                fmt.push_str(&format!("{{{local}}}"));
                let f = ident(&field.ident);
                segments.push(quote!(let #local = ::blueprint::client::segment(&request.#f);));
            }
            None => fmt.push_str(&seg.replace('{', "{{").replace('}', "}}")),
        }
    }
    if fmt.is_empty() {
        fmt.push('/');
    }
    let path = if segments.is_empty() {
        quote!(#fmt)
    } else {
        quote!(&format!(#fmt))
    };
    let method = format_ident!("{}", op.op.method.as_str());

    let mut calls = Vec::new();
    for p in &op.params {
        let f = ident(&p.ident);
        let name = &p.p.name;
        let call = match (p.p.location, p.shape) {
            (ParameterLocation::Path, _) => continue,
            (ParameterLocation::Query, ParamShape::List) => quote!(.query_list(#name, &request.#f)),
            (ParameterLocation::Query, ParamShape::Optional) => {
                quote!(.query_opt(#name, request.#f.as_ref()))
            }
            (ParameterLocation::Query, ParamShape::Value) => quote!(.query(#name, &request.#f)),
            (ParameterLocation::Header, ParamShape::List) => {
                quote!(.header_list(#name, &request.#f))
            }
            (ParameterLocation::Header, ParamShape::Optional) => {
                quote!(.header_opt(#name, request.#f.as_ref()))
            }
            (ParameterLocation::Header, ParamShape::Value) => quote!(.header(#name, &request.#f)),
            (ParameterLocation::Form, ParamShape::Optional) => {
                quote!(.form_opt(#name, request.#f.as_ref()))
            }
            (ParameterLocation::Form, _) => quote!(.form(#name, &request.#f)),
        };
        calls.push(call);
    }
    let body = op.body_ident.as_ref().map(|b| {
        let b = ident(b);
        quote!(.json(&request.#b)?)
    });

    let mut arms = Vec::new();
    let mut default_arm = None;
    for r in &op.responses {
        let v = format_ident!("{}", r.variant);
        let unit = r.r.type_.is_unit();
        match r.r.code {
            ResponseCode::Status(code) => {
                let code = proc_macro2::Literal::u16_unsuffixed(code);
                arms.push(if unit {
                    quote!(#code => Ok(#resp::#v),)
                } else {
                    quote!(#code => Ok(#resp::#v(answer.json()?)),)
                });
            }
            ResponseCode::Default => {
                default_arm = Some(if unit {
                    quote!(_ => Ok(#resp::#v { status: answer.status }),)
                } else {
                    quote!(_ => Ok(#resp::#v { status: answer.status, body: answer.json()? }),)
                });
            }
        }
    }
    let fallback = default_arm.unwrap_or_else(|| quote!(_ => Err(answer.unexpected()),));
    let request_arg = if op.params.is_empty() && op.body_ident.is_none() {
        quote!(_request: &#req)
    } else {
        quote!(request: &#req)
    };
    quote! {
        #doc
        pub async fn #m(&self, #request_arg) -> Result<#resp, ClientError> {
            #(#segments)*
            let answer = self
                .http
                .call(Method::#method, #path)
                #(#calls)*
                #body
                .send()
                .await?;
            match answer.status() {
                #(#arms)*
                #fallback
            }
        }
    }
}
