//! Blueprint's spec crate: read apibuilder `api.json` specs into the [`ir`].
//!
//! `load` parses with source spans, resolves imports offline (files and a local
//! registry configured in `blueprint.toml`), normalises as apibuilder does, and
//! validates. The result is an [`ir::Spec`] or a list of located [`Diagnostic`]s.

pub mod config;
pub mod diag;
pub mod ir;
pub mod json;
pub mod source;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use ir::Spec;
pub use source::{FileId, SourceMap, Span};
