//! Blueprint's spec crate: read apibuilder `api.json` specs into the [`ir`].
//!
//! `load` parses with source spans, resolves imports offline (files and a local
//! registry configured in `blueprint.toml`), normalises as apibuilder does, and
//! validates. The result is an [`ir::Spec`] or a list of located [`Diagnostic`]s.

mod attrs;
pub mod config;
pub mod diag;
pub mod ir;
pub mod json;
mod load;
mod normalize;
pub mod plural;
mod raw;
pub mod show;
pub mod source;
mod suggest;
pub mod types;
mod validate;

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
