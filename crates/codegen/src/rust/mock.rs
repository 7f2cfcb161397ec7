//! Mock: an in-process implementation of the service trait for unit tests. Each
//! operation answers its first success response with example values, unless a
//! test installs its own handler (`on_<operation>`).

use std::path::Path;

use blueprint_spec::ir::{Field, Primitive, ResponseCode, Service, TypeKind, TypeRef};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::models::{Presence, enum_variants, field_idents, presence, union_variants};
use super::server::trait_name;
use super::{Ctx, Place, ident, naming};
use crate::{CodegenError, GeneratedFile};

pub(crate) fn generate(ctx: &Ctx<'_>, path: &Path) -> Result<GeneratedFile, CodegenError> {
    let mut examples = Vec::new();
    for service in ctx.services() {
        examples.extend(service_examples(ctx, service));
    }
    let served = super::server::served(ctx);
    let ops = &served.ops;
    let trait_ident = trait_name(ctx);
    let mock = format_ident!("Mock{}", naming::camel(&ctx.spec.service.name));
    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    let mut impls = Vec::new();
    let mut debug_fields = Vec::new();
    for op in ops {
        let m = ident(&op.method);
        let name = op.method.trim_start_matches("r#");
        let setter = format_ident!("on_{}", name);
        let req = op.request_type();
        let resp = op.response_type();
        fields.push(quote!(#m: Option<Handler<#req, #resp>>,));
        inits.push(quote!(#m: None,));
        debug_fields.push(quote!(.field(#name, &self.#m.is_some())));
        let doc = format!(
            " Answer `{}` with `handler` instead of the example response.",
            op.method
        );
        setters.push(quote! {
            #[doc = #doc]
            pub fn #setter(
                mut self,
                handler: impl Fn(#req) -> #resp + Send + Sync + 'static,
            ) -> Self {
                self.#m = Some(Box::new(handler));
                self
            }
        });
        let canned = canned_response(ctx, op);
        impls.push(quote! {
            async fn #m(&self, request: #req, _context: ::blueprint::server::Context) -> #resp {
                match &self.#m {
                    Some(handler) => handler(request),
                    None => #canned,
                }
            }
        });
    }
    let struct_doc = format!(
        " An in-process `{}` for tests: example answers, or your own per operation.",
        trait_ident
    );
    let imports = (!ops.is_empty()).then(|| {
        quote!(
            use super::operations::*;
        )
    });
    let handler_alias = (!ops.is_empty()).then(|| {
        quote! {
            /// A test's answer to one operation.
            type Handler<Req, Resp> = Box<dyn Fn(Req) -> Resp + Send + Sync>;
        }
    });
    let tokens = quote! {
        //! Mock implementation of the service, and example values of every type.

        #imports

        #handler_alias

        #[doc = #struct_doc]
        pub struct #mock {
            #(#fields)*
        }

        impl #mock {
            pub fn new() -> Self {
                Self { #(#inits)* }
            }

            #(#setters)*
        }

        impl Default for #mock {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Debug for #mock {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!(#mock))
                    #(#debug_fields)*
                    .finish()
            }
        }

        impl super::server::#trait_ident for #mock {
            #(#impls)*
        }

        #(#examples)*
    };
    ctx.file(path, tokens)
}

/// The example answer of an operation: its first 2xx response, else its first.
fn canned_response(ctx: &Ctx<'_>, op: &super::operations::Op<'_>) -> TokenStream {
    let resp = op.response_type();
    let chosen = op
        .responses
        .iter()
        .find(|r| r.r.code.is_success())
        .or_else(|| op.responses.first());
    let Some(r) = chosen else {
        return quote!(unreachable!("operations always declare a response"));
    };
    let v = format_ident!("{}", r.variant);
    let unit = r.r.type_.is_unit();
    let value = example_value(ctx, &r.r.type_);
    match (r.r.code, unit) {
        (ResponseCode::Default, true) => {
            quote!(#resp::#v { status: ::blueprint::http::StatusCode::OK })
        }
        (ResponseCode::Default, false) => {
            quote!(#resp::#v { status: ::blueprint::http::StatusCode::OK, body: #value })
        }
        (_, true) => quote!(#resp::#v),
        (_, false) => quote!(#resp::#v(#value)),
    }
}

fn example_value(ctx: &Ctx<'_>, t: &TypeRef) -> TokenStream {
    let ty = ctx.rust_type(t, Place::Sibling);
    quote!(<#ty as ::blueprint::Example>::example())
}

fn service_examples(ctx: &Ctx<'_>, service: &Service) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for e in &service.enums {
        let ty = ctx.named_path(&service.named(TypeKind::Enum, &e.name), Place::Sibling);
        let variants = enum_variants(e);
        let value = match variants.values.first() {
            Some(v) => {
                let v = format_ident!("{}", v);
                quote!(#ty::#v)
            }
            None => {
                let u = format_ident!("{}", variants.undefined);
                quote!(#ty::#u(String::new()))
            }
        };
        out.push(example_impl(&ty, value));
    }
    for i in &service.interfaces {
        let t = service.named(TypeKind::Interface, &i.name);
        out.push(struct_example(ctx, &t, &i.fields));
    }
    for m in &service.models {
        let t = service.named(TypeKind::Model, &m.name);
        out.push(struct_example(ctx, &t, &m.fields));
    }
    for u in &service.unions {
        let t = service.named(TypeKind::Union, &u.name);
        let ty = ctx.named_path(&t, Place::Sibling);
        let uv = union_variants(ctx, service, u);
        // Prefer a member that cannot lead back to this union, so examples terminate.
        let chosen = uv
            .variants
            .iter()
            .find(|v| !ctx.needs_box(&t, &v.member.type_) && !ctx.is_recursive(&v.member.type_));
        let value = match chosen {
            Some(v) => {
                let id = format_ident!("{}", v.ident);
                let member = example_value(ctx, &v.member.type_);
                quote!(#ty::#id(#member))
            }
            None => {
                let u = format_ident!("{}", uv.undefined);
                quote!(#ty::#u(::blueprint::serde_json::Map::new()))
            }
        };
        out.push(example_impl(&ty, value));
    }
    out
}

fn example_impl(ty: &TokenStream, value: TokenStream) -> TokenStream {
    quote! {
        impl ::blueprint::Example for #ty {
            fn example() -> Self {
                #value
            }
        }
    }
}

fn struct_example(
    ctx: &Ctx<'_>,
    t: &blueprint_spec::ir::NamedType,
    fields: &[Field],
) -> TokenStream {
    let ty = ctx.named_path(t, Place::Sibling);
    let inits = fields.iter().zip(field_idents(fields)).map(|(f, id)| {
        let id = ident(&id);
        let boxed = ctx.needs_box(t, &f.type_);
        let value = match presence(f) {
            Presence::Optional => quote!(None),
            Presence::Required | Presence::Default(_) => {
                let v = field_example(ctx, f);
                if boxed { quote!(Box::new(#v)) } else { v }
            }
        };
        quote!(#id: #value,)
    });
    example_impl(&ty, quote!(#ty { #(#inits)* }))
}

/// An example for a field that respects its `example`, `minimum` and `maximum`.
fn field_example(ctx: &Ctx<'_>, f: &Field) -> TokenStream {
    use serde_json::Value as J;
    let min = f.minimum.as_ref().map(|b| b.value);
    let max = f.maximum.as_ref().map(|b| b.value);
    let in_bounds = |v: f64| min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m);
    // Typed by the loader: a value of the field's type.
    let example = f.example.as_ref();
    match (&f.type_, example) {
        (TypeRef::Primitive(Primitive::String), _) => {
            let fits = |s: &str| in_bounds(s.chars().count() as f64);
            let text = match example.and_then(J::as_str) {
                Some(e) if fits(e) => e.to_owned(),
                _ if fits("example") => "example".to_owned(),
                _ => {
                    let n = min.unwrap_or(1.0).min(max.unwrap_or(f64::MAX)).max(0.0);
                    "x".repeat(n as usize)
                }
            };
            quote!(#text.to_owned())
        }
        (TypeRef::Primitive(p @ (Primitive::Integer | Primitive::Long | Primitive::Double)), _) => {
            let is_int = *p != Primitive::Double;
            let usable = |v: f64| in_bounds(v) && (!is_int || v.fract() == 0.0);
            let v = match example.and_then(J::as_f64) {
                Some(v) if usable(v) => v,
                _ if usable(1.0) => 1.0,
                _ => match (min, max) {
                    (Some(lo), _) => lo.ceil(),
                    (None, Some(hi)) => hi.floor(),
                    (None, None) => 1.0,
                },
            };
            if is_int {
                let lit = Literal::i64_unsuffixed(v as i64);
                quote!(#lit)
            } else {
                let lit = Literal::f64_unsuffixed(v);
                quote!(#lit)
            }
        }
        (TypeRef::Primitive(Primitive::Boolean), Some(J::Bool(b))) => quote!(#b),
        (
            TypeRef::Primitive(
                Primitive::Uuid
                | Primitive::DateIso8601
                | Primitive::DateTimeIso8601
                | Primitive::Decimal,
            ),
            Some(e),
        ) => {
            // The text the runtime type is read from: the string, or a decimal's digits.
            let text = e.as_str().map_or_else(|| e.to_string(), str::to_owned);
            quote!(::blueprint::mock::from_example(#text))
        }
        (TypeRef::List(inner), _) if min.is_some_and(|m| m >= 1.0) => {
            let item = example_value(ctx, inner);
            quote!(vec![#item])
        }
        (other, _) => example_value(ctx, other),
    }
}
