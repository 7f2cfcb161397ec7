//! Models: one module per namespace with the service's enums, interfaces (as
//! structs: their shape), models and unions, each with serde impls for
//! apibuilder's JSON and a `Validate` impl: `validate` walks the JSON, `check`
//! checks a decoded value for the same violations (the server's fast path).

use std::path::Path;

use blueprint_spec::ir::{
    Enum, Field, NamedType, Primitive, Service, TypeKind, TypeRef, Union, UnionType,
};
use blueprint_spec::wire::{self, MemberForm};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Ctx, Place, bound, docs, ident, naming};
use crate::{CodegenError, GeneratedFile};

pub(crate) fn generate(ctx: &Ctx<'_>, dir: &Path) -> Result<Vec<GeneratedFile>, CodegenError> {
    let mut files = Vec::new();
    let mut submodules = Vec::new();
    for import in &ctx.spec.imports {
        let module = naming::module_name(&import.namespace);
        let tokens = service_types(ctx, import);
        let doc = format!(
            " Types of `{}` ({} {}).",
            import.namespace, import.name, import.version
        );
        files.push(ctx.file(
            dir.join(format!("{module}.rs")),
            quote! {
                #![doc = #doc]
                #tokens
            },
        )?);
        submodules.push(format_ident!("{}", module));
    }
    let local = service_types(ctx, &ctx.spec.service);
    let doc = format!(" Types of `{}`.", ctx.spec.service.namespace);
    files.push(ctx.file(
        dir.join("mod.rs"),
        quote! {
            #![doc = #doc]
            #(pub mod #submodules;)*
            #local
        },
    )?);
    Ok(files)
}

fn service_types(ctx: &Ctx<'_>, service: &Service) -> TokenStream {
    let place = Place::Models(&service.namespace);
    let mut defaults = naming::Scope::new();
    let mut out = TokenStream::new();
    if !service.models.is_empty() || !service.interfaces.is_empty() {
        out.extend(quote!(
            use ::blueprint::serde::{Deserialize, Serialize};
        ));
    }
    let fields = service
        .models
        .iter()
        .flat_map(|m| &m.fields)
        .chain(service.interfaces.iter().flat_map(|i| &i.fields));
    if fields.into_iter().any(Field::forbids_blank) {
        out.extend(quote!(
            use ::blueprint::validate::NonBlank;
        ));
    }
    for e in &service.enums {
        out.extend(enum_type(ctx, service, e));
    }
    for i in &service.interfaces {
        let t = service.named(TypeKind::Interface, &i.name);
        out.extend(struct_type(
            ctx,
            place,
            &t,
            &i.fields,
            docs(i.description.as_deref(), i.deprecation.as_ref()),
            &mut defaults,
        ));
    }
    for m in &service.models {
        let t = service.named(TypeKind::Model, &m.name);
        out.extend(struct_type(
            ctx,
            place,
            &t,
            &m.fields,
            docs(m.description.as_deref(), m.deprecation.as_ref()),
            &mut defaults,
        ));
    }
    for u in &service.unions {
        out.extend(union_type(ctx, service, u));
    }
    out
}

fn type_ident(ctx: &Ctx<'_>, t: &NamedType) -> proc_macro2::Ident {
    let name = ctx
        .type_name(t)
        .map(|n| n.ident.as_str())
        .unwrap_or("Unresolved");
    format_ident!("{}", name)
}

/// How a field is held: required, optional (`Option`), or defaulted.
pub(crate) enum Presence {
    Required,
    Optional,
    Default(serde_json::Value),
}

pub(crate) fn presence(f: &Field) -> Presence {
    match (&f.default, f.required) {
        (Some(d), _) => Presence::Default(d.clone()),
        (None, true) => Presence::Required,
        (None, false) => Presence::Optional,
    }
}

/// Field identifiers of a struct, unique within it, in declaration order.
pub(crate) fn field_idents(fields: &[Field]) -> Vec<String> {
    let mut scope = naming::Scope::new();
    fields
        .iter()
        .map(|f| scope.claim(naming::field_name(&f.name)))
        .collect()
}

fn struct_type(
    ctx: &Ctx<'_>,
    place: Place<'_>,
    t: &NamedType,
    fields: &[Field],
    doc: TokenStream,
    defaults: &mut naming::Scope,
) -> TokenStream {
    let name = type_ident(ctx, t);
    let mut members = Vec::new();
    let mut default_fns = Vec::new();
    let mut checks = Vec::new();
    let mut typed_checks = Vec::new();
    for (f, field_ident) in fields.iter().zip(field_idents(fields)) {
        let fid = ident(&field_ident);
        let wire = &f.name;
        let mut ty = ctx.rust_type(&f.type_, place);
        if ctx.needs_box(t, &f.type_) {
            ty = quote!(Box<#ty>);
        }
        let rename = (field_ident.trim_start_matches("r#") != wire.as_str())
            .then(|| quote!(rename = #wire,));
        let fdoc = docs(f.description.as_deref(), f.deprecation.as_ref());
        let defaulted = matches!(presence(f), Presence::Default(_));
        let (attrs, full_ty, required) = match presence(f) {
            Presence::Required => (quote!(), ty.clone(), true),
            Presence::Optional => (
                quote!(default, skip_serializing_if = "Option::is_none"),
                quote!(Option<#ty>),
                false,
            ),
            Presence::Default(value) => {
                let fn_name = defaults.claim(format!(
                    "default_{}_{}",
                    naming::snake(&t.name).trim_matches('_'),
                    naming::snake(&f.name).trim_matches('_')
                ));
                let fn_ident = format_ident!("{}", fn_name);
                let expr = default_expr(ctx, &f.type_, &value, place);
                let expr = if ctx.needs_box(t, &f.type_) {
                    quote!(Box::new(#expr))
                } else {
                    expr
                };
                // `null` means absent, as for optional fields: the default.
                let de_name = fn_name.replacen("default_", "null_or_default_", 1);
                let de_ident = format_ident!("{}", de_name);
                default_fns.push(quote! {
                    fn #fn_ident() -> #ty {
                        #expr
                    }

                    fn #de_ident<'de, D: ::blueprint::serde::Deserializer<'de>>(d: D) -> Result<#ty, D::Error> {
                        ::blueprint::union::null_or(d, #fn_ident)
                    }
                });
                (
                    quote!(default = #fn_name, deserialize_with = #de_name),
                    ty.clone(),
                    false,
                )
            }
        };
        let serde_attr = if rename.is_none() && attrs.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#rename #attrs)])
        };
        members.push(quote! {
            #fdoc
            #serde_attr
            pub #fid: #full_ty,
        });
        // A required string may not be blank (the rule its column's CHECK has too).
        let (check_ty, checked) = if f.forbids_blank() {
            (quote!(NonBlank), quote!(&NonBlank(&self.#fid)))
        } else {
            (ctx.rust_type(&f.type_, place), quote!(&self.#fid))
        };
        let (min, max) = (bound(f.minimum.as_ref()), bound(f.maximum.as_ref()));
        checks.push(if f.minimum.is_none() && f.maximum.is_none() {
            quote!(v.field::<#check_ty>(obj, #wire, #required);)
        } else {
            quote!(v.bounded_field::<#check_ty>(obj, #wire, #required, #min, #max);)
        });
        typed_checks.push(if defaulted {
            quote!(v.check_default_field(#wire, #checked, #min, #max);)
        } else {
            quote!(v.check_field(#wire, #checked, #required, #min, #max);)
        });
    }
    let check_param = if typed_checks.is_empty() {
        quote!(_)
    } else {
        quote!(v)
    };
    let validate_body = if checks.is_empty() {
        quote!(v.object(value);)
    } else {
        quote! {
            let Some(obj) = v.object(value) else { return };
            #(#checks)*
        }
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(crate = "::blueprint::serde")]
        pub struct #name {
            #(#members)*
        }

        impl ::blueprint::Validate for #name {
            fn validate(value: &::blueprint::serde_json::Value, v: &mut ::blueprint::Validator) {
                #validate_body
            }

            fn check(&self, #check_param: &mut ::blueprint::Validator) {
                #(#typed_checks)*
            }
        }

        #(#default_fns)*
    }
}

/// A Rust expression for a spec default of type `t`.
pub(crate) fn default_expr(
    ctx: &Ctx<'_>,
    t: &TypeRef,
    value: &serde_json::Value,
    place: Place<'_>,
) -> TokenStream {
    use serde_json::Value as J;
    match (t, value) {
        (TypeRef::Primitive(Primitive::String), J::String(s)) => quote!(#s.to_owned()),
        (TypeRef::Primitive(Primitive::Boolean), J::Bool(b)) => quote!(#b),
        (TypeRef::Primitive(Primitive::Integer), J::Number(n))
            if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) =>
        {
            let lit = Literal::i64_unsuffixed(n.as_i64().unwrap_or_default());
            quote!(#lit)
        }
        (TypeRef::Primitive(Primitive::Long), J::Number(n)) if n.as_i64().is_some() => {
            let lit = Literal::i64_unsuffixed(n.as_i64().unwrap_or_default());
            quote!(#lit)
        }
        (TypeRef::Primitive(Primitive::Double), J::Number(n)) if n.as_f64().is_some() => {
            let lit = Literal::f64_unsuffixed(n.as_f64().unwrap_or_default());
            quote!(#lit)
        }
        (TypeRef::Primitive(Primitive::Decimal), J::Number(_) | J::String(_)) => {
            let text = match value {
                J::String(s) => s.clone(),
                other => other.to_string(),
            };
            match decimal_parts(&text) {
                Some((mantissa, scale)) => {
                    let m = Literal::i128_unsuffixed(mantissa);
                    let s = Literal::u32_unsuffixed(scale);
                    quote!(::blueprint::Decimal::from_parts(#m, #s))
                }
                None => json_default(ctx, t, value, place),
            }
        }
        (TypeRef::Named(n), J::String(s)) if n.kind == TypeKind::Enum => {
            let ty = ctx.named_path(n, place);
            match ctx.spec.resolve_enum(n).and_then(|e| {
                let variants = enum_variants(e);
                e.values
                    .iter()
                    .zip(variants.values)
                    .find(|(v, _)| v.wire() == s || v.name == *s)
                    .map(|(_, id)| id)
            }) {
                Some(variant) => {
                    let variant = format_ident!("{}", variant);
                    quote!(#ty::#variant)
                }
                None => quote!(#ty::from(#s)),
            }
        }
        (TypeRef::List(_), J::Array(items)) if items.is_empty() => quote!(Vec::new()),
        (TypeRef::List(inner), J::Array(items)) => {
            let items = items.iter().map(|i| default_expr(ctx, inner, i, place));
            quote!(vec![#(#items),*])
        }
        (TypeRef::Map(_), J::Object(o)) if o.is_empty() => {
            quote!(::std::collections::BTreeMap::new())
        }
        _ => json_default(ctx, t, value, place),
    }
}

fn json_default(
    _ctx: &Ctx<'_>,
    _t: &TypeRef,
    value: &serde_json::Value,
    _place: Place<'_>,
) -> TokenStream {
    let text = value.to_string();
    quote!(::blueprint::default_from_json(#text))
}

/// `"12.50"` → `(1250, 2)`.
fn decimal_parts(text: &str) -> Option<(i128, u32)> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        return None;
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    let mantissa: i128 = digits.parse().ok()?;
    Some((mantissa, u32::try_from(frac.len()).ok()?))
}

/// Variant identifiers of an enum and the name of its catch-all.
pub(crate) struct EnumVariants {
    pub values: Vec<String>,
    pub undefined: String,
}

pub(crate) fn enum_variants(e: &Enum) -> EnumVariants {
    let mut scope = naming::Scope::new();
    let values: Vec<String> = e
        .values
        .iter()
        .map(|v| scope.claim(naming::variant_name(&v.name)))
        .collect();
    let undefined = if values.iter().any(|v| v == "Undefined") {
        "UndefinedValue"
    } else {
        "Undefined"
    };
    let undefined = scope.claim(undefined.to_owned());
    EnumVariants { values, undefined }
}

fn enum_type(ctx: &Ctx<'_>, service: &Service, e: &Enum) -> TokenStream {
    let t = service.named(TypeKind::Enum, &e.name);
    let name = type_ident(ctx, &t);
    let doc = docs(e.description.as_deref(), e.deprecation.as_ref());
    let variants = enum_variants(e);
    let undefined = format_ident!("{}", variants.undefined);
    let idents: Vec<_> = variants
        .values
        .iter()
        .map(|v| format_ident!("{}", v))
        .collect();
    let wires: Vec<&str> = e.values.iter().map(|v| v.wire()).collect();
    let vdocs: Vec<_> = e
        .values
        .iter()
        .map(|v| docs(v.description.as_deref(), v.deprecation.as_ref()))
        .collect();
    let wire_name = &e.name;
    let undefined_doc =
        format!(" A value this version of `{wire_name}` does not know, kept as received.");
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(#vdocs #idents,)*
            #[doc = #undefined_doc]
            #undefined(String),
        }

        impl #name {
            /// Every known wire value, in declaration order.
            pub const VALUES: &'static [&'static str] = &[#(#wires),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#idents => #wires,)*
                    Self::#undefined(value) => value,
                }
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#wires => Self::#idents,)*
                    other => Self::#undefined(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::blueprint::serde::Serialize for #name {
            fn serialize<S: ::blueprint::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::blueprint::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::blueprint::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <::blueprint::Text<'de> as ::blueprint::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(value.as_str()))
            }
        }

        impl ::blueprint::Validate for #name {
            fn validate(value: &::blueprint::serde_json::Value, v: &mut ::blueprint::Validator) {
                v.one_of(value, Self::VALUES);
            }

            fn check(&self, v: &mut ::blueprint::Validator) {
                if let Self::#undefined(value) = self {
                    v.unknown_value(value, Self::VALUES);
                }
            }

            fn measure(&self) -> ::blueprint::validate::Measure {
                ::blueprint::validate::Measure::text(self.as_str())
            }
        }

        impl ::blueprint::FromParam for #name {
            fn from_param(text: &str) -> Result<Self, String> {
                match Self::from(text) {
                    Self::#undefined(other) => Err(::blueprint::param::unknown_value(&other, Self::VALUES)),
                    known => Ok(known),
                }
            }
        }

        impl ::blueprint::ToParam for #name {
            fn to_param(&self) -> String {
                self.as_str().to_owned()
            }
        }
    }
}

/// One union variant as generated.
pub(crate) struct Variant<'a> {
    pub member: &'a UnionType,
    pub ident: String,
    pub form: MemberForm,
    /// Wire tags that select this variant.
    pub tags: Vec<String>,
}

pub(crate) struct UnionVariants<'a> {
    pub variants: Vec<Variant<'a>>,
    pub undefined: String,
}

pub(crate) fn union_variants<'a>(
    ctx: &Ctx<'a>,
    service: &Service,
    u: &'a Union,
) -> UnionVariants<'a> {
    let mut scope = naming::Scope::new();
    let base_name = |m: &UnionType| match &m.type_ {
        TypeRef::Named(n) => ctx
            .type_name(n)
            .map(|n| n.ident.clone())
            .unwrap_or_else(|| naming::camel(&n.name)),
        other => naming::camel(&other.display_in("")),
    };
    let bases: Vec<String> = u.types.iter().map(base_name).collect();
    let wire = wire::members(ctx.spec, u, &service.namespace);
    let variants = u
        .types
        .iter()
        .enumerate()
        .map(|(i, m)| {
            // Two members with the same type name (a local `user` and an imported
            // one): later ones are named by their wire value (`SharedUser`).
            let base = if bases[..i].contains(&bases[i]) {
                naming::variant_name(&m.wire_value(&service.namespace))
            } else {
                bases[i].clone()
            };
            // How the member is written and which tags select it: `blueprint_spec::wire`.
            let form = wire[i].form;
            let tags = wire[i].tags.clone();
            Variant {
                member: m,
                ident: scope.claim(base),
                form,
                tags,
            }
        })
        .collect();
    let undefined = scope.claim("Undefined".to_owned());
    UnionVariants {
        variants,
        undefined,
    }
}

fn union_type(ctx: &Ctx<'_>, service: &Service, u: &Union) -> TokenStream {
    let t = service.named(TypeKind::Union, &u.name);
    let place = Place::Models(&service.namespace);
    let name = type_ident(ctx, &t);
    let doc = docs(u.description.as_deref(), u.deprecation.as_ref());
    let uv = union_variants(ctx, service, u);
    let undefined = format_ident!("{}", uv.undefined);
    let wire_name = &u.name;

    let mut defs = Vec::new();
    let mut froms = Vec::new();
    let mut ser_arms = Vec::new();
    let mut de_arms = Vec::new();
    let mut checks = Vec::new();
    let mut typed_arms = Vec::new();
    let mut all_tags = Vec::new();
    for v in &uv.variants {
        let id = format_ident!("{}", v.ident);
        all_tags.extend(v.tags.iter().cloned());
        let mut ty = ctx.rust_type(&v.member.type_, place);
        let check_ty = ty.clone();
        if ctx.needs_box(&t, &v.member.type_) {
            ty = quote!(Box<#ty>);
        }
        let vdoc = docs(
            v.member.description.as_deref(),
            v.member.deprecation.as_ref(),
        );
        defs.push(quote!(#vdoc #id(#ty),));
        let wrap = if ctx.needs_box(&t, &v.member.type_) {
            quote!(Box::new(m))
        } else {
            quote!(m)
        };
        froms.push(quote! {
            impl From<#check_ty> for #name {
                fn from(m: #check_ty) -> Self {
                    Self::#id(#wrap)
                }
            }
        });
        let tag = v.tags.first().cloned().unwrap_or_default();
        let tags = &v.tags;
        match (&u.discriminator, v.form) {
            (Some(d), MemberForm::Object) => {
                ser_arms.push(
                    quote!(Self::#id(m) => ::blueprint::union::serialize_tagged(s, #d, #tag, m),),
                );
                de_arms.push(
                    quote!(#tag => ::blueprint::union::tagged_member(t.object, #d).map(Self::#id),),
                );
                checks.push(quote!((#tag, <#check_ty as ::blueprint::Validate>::validate),));
                typed_arms.push(quote!(Self::#id(m) => m.check(v),));
            }
            (Some(d), MemberForm::Value) => {
                ser_arms.push(quote!(Self::#id(m) => ::blueprint::union::serialize_tagged_value(s, #d, #tag, m),));
                de_arms.push(
                    quote!(#tag => ::blueprint::union::tagged_value(&t.object).map(Self::#id),),
                );
                checks.push(quote!((#tag, |value, v| v.value_member::<#check_ty>(value)),));
                typed_arms
                    .push(quote!(Self::#id(m) => v.check_field("value", m, true, None, None),));
            }
            (Some(_), MemberForm::Nested) => {
                ser_arms
                    .push(quote!(Self::#id(m) => ::blueprint::serde::Serialize::serialize(m, s),));
                de_arms.push(quote!(#(#tags)|* => ::blueprint::union::nested_member(t.object).map(Self::#id),));
                for tag in tags {
                    checks.push(quote!((#tag, <#check_ty as ::blueprint::Validate>::validate),));
                }
                typed_arms.push(quote!(Self::#id(m) => m.check(v),));
            }
            (None, MemberForm::Object | MemberForm::Nested) => {
                ser_arms.push(
                    quote!(Self::#id(m) => ::blueprint::union::serialize_wrapped(s, #tag, m),),
                );
                de_arms
                    .push(quote!(#tag => ::blueprint::union::wrapped_member(&t).map(Self::#id),));
                checks.push(quote!((#tag, <#check_ty as ::blueprint::Validate>::validate),));
                typed_arms.push(quote!(Self::#id(m) => v.at(#tag, |v| m.check(v)),));
            }
            (None, MemberForm::Value) => {
                ser_arms.push(quote!(Self::#id(m) => ::blueprint::union::serialize_wrapped_value(s, #tag, m),));
                de_arms.push(quote!(#tag => ::blueprint::union::wrapped_value(&t).map(Self::#id),));
                checks.push(quote!((#tag, |value, v| v.value_member::<#check_ty>(value)),));
                typed_arms.push(quote!(Self::#id(m) => v.at(#tag, |v| v.check_field("value", m, true, None, None)),));
            }
        }
    }
    let (read, validate, unknown) = match &u.discriminator {
        Some(d) => {
            let default = match u
                .default_type()
                .and_then(|m| uv.variants.iter().find(|v| std::ptr::eq(v.member, m)))
            {
                Some(v) => {
                    let tag = v.tags.first().cloned().unwrap_or_default();
                    quote!(Some(#tag))
                }
                None => quote!(None),
            };
            (
                quote!(let t = ::blueprint::union::read_tagged(d, #wire_name, #d, #default)?;),
                quote!(v.tagged_union(value, #d, #default, &[#(#checks)*]);),
                quote!(v.unknown_tagged_member(raw, #d, &[#(#all_tags),*])),
            )
        }
        None => (
            quote!(let t = ::blueprint::union::read_wrapped(d, #wire_name)?;),
            quote!(v.wrapped_union(value, &[#(#checks)*]);),
            quote!(v.unknown_wrapped_member(raw, &[#(#all_tags),*])),
        ),
    };
    let undefined_doc = format!(
        " A member this version of `{wire_name}` does not know, kept as received (re-encodes unchanged)."
    );
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #(#defs)*
            #[doc = #undefined_doc]
            #undefined(::blueprint::union::RawObject),
        }

        impl ::blueprint::serde::Serialize for #name {
            fn serialize<S: ::blueprint::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    #(#ser_arms)*
                    Self::#undefined(raw) => ::blueprint::serde::Serialize::serialize(raw, s),
                }
            }
        }

        impl<'de> ::blueprint::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::blueprint::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #read
                match t.tag.as_str() {
                    #(#de_arms)*
                    _ => Ok(Self::#undefined(t.object)),
                }
            }
        }

        impl ::blueprint::Validate for #name {
            fn validate(value: &::blueprint::serde_json::Value, v: &mut ::blueprint::Validator) {
                #validate
            }

            fn check(&self, v: &mut ::blueprint::Validator) {
                match self {
                    #(#typed_arms)*
                    Self::#undefined(raw) => #unknown,
                }
            }
        }

        #(#froms)*
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_parts;

    #[test]
    fn decimal_defaults_become_mantissa_and_scale() {
        assert_eq!(decimal_parts("12.50"), Some((1250, 2)));
        assert_eq!(decimal_parts("-3"), Some((-3, 0)));
        assert_eq!(decimal_parts("1e3"), None);
    }
}
