//! Operations: per operation a `<Op>Request` (typed path, query, header and form
//! parameters, and the body) and a `<Op>Response` (one variant per declared
//! status). The server trait takes the request and returns the response; the
//! client sends the request and decodes the response, so both sides share them.

use std::path::Path;

use blueprint_spec::ir::{
    Operation, Parameter, ParameterLocation, Resource, Response, ResponseCode, TypeRef,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Ctx, Place, docs, ident, naming};
use crate::{CodegenError, GeneratedFile};

/// How a parameter is held in the request struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamShape {
    /// `T`: required, or optional with a default.
    Value,
    /// `Option<T>`: optional without default.
    Optional,
    /// `Vec<T>`: a list parameter (repeated in the query).
    List,
}

pub(crate) struct Param<'a> {
    pub p: &'a Parameter,
    pub ident: String,
    pub shape: ParamShape,
    /// The element type (the item type for lists).
    pub item: &'a TypeRef,
}

pub(crate) struct Resp<'a> {
    pub r: &'a Response,
    pub variant: String,
}

pub(crate) struct Op<'a> {
    pub op: &'a Operation,
    /// `get_users_by_id`
    pub method: String,
    /// `GetUsersById`
    pub type_base: String,
    pub params: Vec<Param<'a>>,
    /// The body field's identifier, when the operation has a body.
    pub body_ident: Option<String>,
    pub responses: Vec<Resp<'a>>,
}

impl Op<'_> {
    pub fn request_type(&self) -> proc_macro2::Ident {
        format_ident!("{}Request", self.type_base)
    }

    pub fn response_type(&self) -> proc_macro2::Ident {
        format_ident!("{}Response", self.type_base)
    }

    pub fn doc(&self) -> TokenStream {
        let line = format!(" `{} {}`", self.op.method, self.op.path);
        let rest = docs(self.op.description.as_deref(), self.op.deprecation.as_ref());
        if self.op.description.is_some() || self.op.deprecation.is_some() {
            quote!(#rest #[doc = ""] #[doc = #line])
        } else {
            quote!(#[doc = #line])
        }
    }
}

/// The service's operations with their Rust names, in declaration order.
pub(crate) fn operations<'a>(ctx: &Ctx<'a>) -> Vec<Op<'a>> {
    let mut methods = naming::Scope::new();
    let mut types = naming::Scope::new();
    ctx.spec
        .service
        .operations()
        .map(|(resource, op)| {
            let method = methods.claim(method_name(resource, op));
            let mut fields = naming::Scope::new();
            let body_ident = op.body.as_ref().map(|_| fields.claim("body".to_owned()));
            let params = op
                .parameters
                .iter()
                .map(|p| {
                    let (shape, item) = match &p.type_ {
                        TypeRef::List(item) => (ParamShape::List, &**item),
                        t if p.required
                            || p.default.is_some()
                            || p.location == ParameterLocation::Path =>
                        {
                            (ParamShape::Value, t)
                        }
                        t => (ParamShape::Optional, t),
                    };
                    Param {
                        p,
                        ident: fields.claim(naming::field_name(&p.name)),
                        shape,
                        item,
                    }
                })
                .collect();
            let mut variants = naming::Scope::new();
            let responses = op
                .responses
                .iter()
                .map(|r| Resp {
                    r,
                    variant: variants.claim(status_variant(r.code)),
                })
                .collect();
            Op {
                op,
                type_base: types.claim(naming::camel(&method)),
                method,
                params,
                body_ident,
                responses,
            }
        })
        .collect()
}

/// `<method>_<plural>[_<static segments>][_by_<params joined by _and_>]`.
fn method_name(resource: &Resource, op: &Operation) -> String {
    let own = resource
        .path
        .as_deref()
        .and_then(|prefix| op.path.strip_prefix(prefix))
        .unwrap_or(&op.path);
    let statics: Vec<String> = own
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with(':'))
        .map(naming::snake)
        .collect();
    let params: Vec<String> = op.path_params().map(naming::snake).collect();
    let mut name = format!(
        "{}_{}",
        op.method.as_str().to_ascii_lowercase(),
        naming::snake(&resource.plural)
    );
    for s in statics {
        name.push('_');
        name.push_str(s.trim_start_matches('_'));
    }
    if !params.is_empty() {
        name.push_str("_by_");
        name.push_str(
            &params
                .iter()
                .map(|p| p.trim_start_matches('_'))
                .collect::<Vec<_>>()
                .join("_and_"),
        );
    }
    name
}

/// The variant for a status: its reason phrase in `UpperCamelCase`.
fn status_variant(code: ResponseCode) -> String {
    let ResponseCode::Status(c) = code else {
        return "Default".to_owned();
    };
    let name = match c {
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        other => return format!("Status{other}"),
    };
    name.to_owned()
}

/// The Rust type of a parameter's field in the request struct.
pub(crate) fn param_type(ctx: &Ctx<'_>, p: &Param<'_>) -> TokenStream {
    let item = ctx.rust_type(p.item, Place::Sibling);
    match p.shape {
        ParamShape::Value => item,
        ParamShape::Optional => quote!(Option<#item>),
        ParamShape::List => quote!(Vec<#item>),
    }
}

pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<GeneratedFile, CodegenError> {
    let mut items = Vec::new();
    for op in operations(ctx) {
        let req = op.request_type();
        let resp = op.response_type();
        let mut fields = Vec::new();
        let mut all_defaultable = true;
        if let (Some(body), Some(b)) = (&op.body_ident, &op.op.body) {
            let id = ident(body);
            let ty = ctx.rust_type(&b.type_, Place::Sibling);
            let doc = docs(b.description.as_deref(), b.deprecation.as_ref());
            fields.push(quote!(#doc pub #id: #ty,));
            all_defaultable = false;
        }
        for p in &op.params {
            let id = ident(&p.ident);
            let ty = param_type(ctx, p);
            let loc = match p.p.location {
                ParameterLocation::Path => "path",
                ParameterLocation::Query => "query",
                ParameterLocation::Form => "form",
                ParameterLocation::Header => "header",
            };
            let mut line = format!(" {loc} parameter `{}`", p.p.name);
            if let Some(d) = &p.p.default {
                line.push_str(&format!(" (default {d})"));
            }
            let doc = docs(p.p.description.as_deref(), p.p.deprecation.as_ref());
            fields.push(quote!(#[doc = #line] #doc pub #id: #ty,));
            all_defaultable &= p.shape != ParamShape::Value;
        }
        let derive_default = all_defaultable.then(|| quote!(Default,));
        let req_doc = format!(" Input of `{} {}`.", op.op.method, op.op.path);
        let resp_doc = format!(
            " Answers of `{} {}`, one per declared status.",
            op.op.method, op.op.path
        );
        let variants = op.responses.iter().map(|r| {
            let v = format_ident!("{}", r.variant);
            let doc = docs(r.r.description.as_deref(), r.r.deprecation.as_ref());
            let code = format!(" `{}`", r.r.code);
            let ty = ctx.rust_type(&r.r.type_, Place::Sibling);
            match (r.r.code, r.r.type_.is_unit()) {
                (ResponseCode::Default, true) => quote!(#[doc = #code] #doc #v { status: ::blueprint::http::StatusCode },),
                (ResponseCode::Default, false) => quote!(#[doc = #code] #doc #v { status: ::blueprint::http::StatusCode, body: #ty },),
                (_, true) => quote!(#[doc = #code] #doc #v,),
                (_, false) => quote!(#[doc = #code] #doc #v(#ty),),
            }
        });
        items.push(quote! {
            #[doc = #req_doc]
            #[derive(Debug, Clone, PartialEq, #derive_default)]
            pub struct #req {
                #(#fields)*
            }

            #[doc = #resp_doc]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #resp {
                #(#variants)*
            }
        });
    }
    let doc = format!(
        " Requests and responses of `{}`'s operations.",
        ctx.spec.service.name
    );
    ctx.file(
        path,
        quote! {
            #![doc = #doc]
            #(#items)*
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_variants_are_reason_phrases() {
        assert_eq!(status_variant(ResponseCode::Status(200)), "Ok");
        assert_eq!(
            status_variant(ResponseCode::Status(422)),
            "UnprocessableEntity"
        );
        assert_eq!(status_variant(ResponseCode::Status(299)), "Status299");
        assert_eq!(status_variant(ResponseCode::Default), "Default");
    }
}
