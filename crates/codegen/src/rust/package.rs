//! The root module (`mod.rs` or `lib.rs`) and, for packages, `Cargo.toml`.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Ctx;
use crate::sql::{Dialect, migrations};
use crate::{CodegenError, GeneratedFile};

/// How the generated package depends on the `blueprint` runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDependency {
    /// `blueprint = { path = "..." }` (a checkout of Blueprint).
    Path(PathBuf),
    /// `blueprint = "x.y"` from a registry.
    Version(String),
}

/// Options for generating a complete Cargo package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageOptions {
    /// The package name (`users-api`).
    pub crate_name: String,
    pub runtime: RuntimeDependency,
}

impl PackageOptions {
    pub fn new(crate_name: &str, runtime: RuntimeDependency) -> Result<Self, CodegenError> {
        let valid = crate_name.starts_with(|c: char| c.is_ascii_alphabetic())
            && crate_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(CodegenError::InvalidCrateName(crate_name.to_owned()));
        }
        Ok(PackageOptions {
            crate_name: crate_name.to_owned(),
            runtime,
        })
    }
}

pub(crate) fn root_module(
    ctx: &Ctx<'_>,
    path: &Path,
    modules: &[&str],
    migrations: &[PathBuf],
) -> Result<GeneratedFile, CodegenError> {
    let service = &ctx.spec.service;
    let embedded = embedded_migrations(path, migrations);
    let mods = modules.iter().map(|m| format_ident!("{}", m));
    let name = &service.name;
    let key = blueprint_spec::application_key(name);
    let version = &service.version;
    let hash = &ctx.spec_hash;
    let own_routes = blueprint_spec::http::own_builtin_routes(service);
    let doc = format!(
        " Generated code for the `{name}` service ({}, version {version}).",
        service.namespace
    );
    ctx.file(
        path,
        quote! {
            #![doc = #doc]

            // Printed by prettyplease, not rustfmt: keep `cargo fmt` from rewriting them
        // (which would make `dev gen --check` report them stale).
        #(#[rustfmt::skip] pub mod #mods;)*

            /// Which spec this code was generated from; served on `GET /_internal_/version`.
            pub const SERVICE: ::blueprint::ServiceInfo = ::blueprint::ServiceInfo {
                name: #name,
                key: #key,
                version: #version,
                spec_hash: #hash,
                git_commit: option_env!("GIT_COMMIT"),
                own_routes: &[#(#own_routes),*],
            };

            #embedded
        },
    )
}

/// `migrations(dialect)`: the migration files compiled in with `include_str!`, so a
/// service binary migrates its database from any folder. Nothing without migrations.
fn embedded_migrations(root: &Path, migrations: &[PathBuf]) -> TokenStream {
    if migrations.is_empty() {
        return TokenStream::new();
    }
    // `include_str!` resolves against the root module's folder.
    let up = root
        .parent()
        .map_or(0, |folder| folder.components().count());
    let arms = Dialect::ALL.into_iter().map(|dialect| {
        let folder = Path::new(migrations::DIR).join(dialect.name());
        let entries = migrations
            .iter()
            .filter(|m| m.parent() == Some(folder.as_path()))
            .filter_map(|m| {
                let name = m.file_name()?.to_string_lossy().into_owned();
                let relative = std::iter::repeat_n("..", up)
                    .map(PathBuf::from)
                    .chain([m.clone()])
                    .collect::<PathBuf>();
                let include = relative.to_string_lossy().replace('\\', "/");
                Some(quote!((#name, include_str!(#include))))
            });
        let variant = match dialect {
            Dialect::Postgres => quote!(Postgres),
            Dialect::Sqlite => quote!(Sqlite),
        };
        quote!(::blueprint::db::Dialect::#variant => &[#(#entries),*],)
    });
    quote! {
        /// The database migrations (`migrations/<dialect>/`), compiled in: apply them with
        /// `blueprint::db::migrate::migrate(&db, &migrations(db.dialect()))`.
        #[rustfmt::skip] // printed by prettyplease, like the modules
        pub fn migrations(dialect: ::blueprint::db::Dialect) -> ::blueprint::db::migrate::Migrations {
            ::blueprint::db::migrate::Migrations::embedded(match dialect {
                #(#arms)*
            })
        }
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The runtime features generated code needs. Stream backends are the service's
/// choice (`stream-sqlite`, `stream-nats` on its own `blueprint` dependency), as a
/// binary picks its runtime's drivers: the generated package compiles against the
/// API alone.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Features {
    pub server: bool,
    pub client: bool,
    pub db: bool,
    pub stream: bool,
    pub publish: bool,
    pub consumer: bool,
}

pub(crate) fn manifest(
    ctx: &Ctx<'_>,
    pkg: &PackageOptions,
    runtime_features: &Features,
) -> Result<GeneratedFile, CodegenError> {
    let runtime = match &pkg.runtime {
        RuntimeDependency::Path(p) => format!(
            "path = {}",
            toml_str(&p.display().to_string().replace('\\', "/"))
        ),
        RuntimeDependency::Version(v) => format!("version = {}", toml_str(v)),
    };
    let f = runtime_features;
    // Routers check tokens, and scoped DAOs build their scope from the claims.
    let uses_auth = ctx
        .spec
        .service
        .resources
        .iter()
        .flat_map(|r| &r.operations)
        .any(|o| o.auth.as_ref().is_some_and(|a| a.required));
    let features: Vec<String> = [
        (f.server, "server"),
        (f.client, "client"),
        (f.db, "db"),
        (uses_auth && (f.server || f.db), "auth"),
        (f.stream && !f.publish && !f.consumer, "stream"),
        (f.publish, "publish"),
        (f.consumer, "consumer"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| format!("\"{name}\""))
    .collect();
    let description = format!("Generated from the {} spec.", ctx.spec.service.name);
    let header = ctx.header.replace("// ", "# ");
    let contents = format!(
        "{header}\n[package]\nname = {name}\nversion = \"0.1.0\"\nedition = \"2024\"\ndescription = {description}\npublish = false\n\n\
         [dependencies]\nblueprint = {{ {runtime}, default-features = false, features = [{features}] }}\n",
        name = toml_str(&pkg.crate_name),
        description = toml_str(&description),
        features = features.join(", "),
    );
    Ok(GeneratedFile {
        path: PathBuf::from("Cargo.toml"),
        contents,
    })
}
