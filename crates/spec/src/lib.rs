//! Blueprint's spec crate: read apibuilder `api.json` specs into the [`ir`].
//!
//! `load` parses with source spans, resolves imports offline (files and a local
//! registry configured in `blueprint.toml`), normalises as apibuilder does, and
//! validates. The result is an [`ir::Spec`] or a list of located [`Diagnostic`]s.
//!
//! The pipeline, per file (imports first, depth first):
//!
//! ```text
//! text ─json::parse─► Spanned ─raw::Reader─► RawService ─normalize─► ir::Service ─validate─► ok / diagnostics
//!                     (spans,    (shape: unknown/      (types resolved,   (whole-service
//!                      dup keys)  duplicate keys,       defaults and       rules)
//!                                 legacy format)        examples, paths,
//!                                                       attrs typed)
//! ```
//!
//! - `load`: files, imports and the registry, service identity (namespace rules).
//! - `raw`: the typed view of one file, input form or resolved `service.json`.
//! - `templates`: apibuilder templates, applied to the raw spec.
//! - `normalize` + `values` + `attrs`: build the IR service (defaults and examples
//!   typed in `values`, Blueprint attributes in `attrs`).
//! - `validate`: apibuilder's rules and Blueprint's over the built service.
//! - [`show`]: the IR back to apibuilder's `service.json` shape (`dev spec show`).

mod attrs;
pub mod config;
pub mod diag;
pub mod http;
pub mod ir;
pub mod json;
mod load;
mod normalize;
pub mod plural;
mod raw;
pub mod show;
pub mod source;
mod suggest;
mod templates;
pub mod types;
mod validate;
mod values;
pub mod wire;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use ir::Spec;
pub use load::{
    DEFAULT_ORGANIZATION_NAMESPACE, DEFAULT_VERSION, LoadError, LoadOptions, application_key,
    default_namespace, load, load_str, load_with, major_version,
};
pub use source::{FileId, SourceMap, Span};

/// Entry point for fuzzers: load arbitrary bytes as a spec (no imports resolve).
/// It must return, never panic, whatever the input.
pub fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = load_str("fuzz.json", &text, &LoadOptions::default());
}
