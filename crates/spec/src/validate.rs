//! Rules over a whole built service (apibuilder's validations and Blueprint's).

use crate::diag::Diagnostic;
use crate::ir::Service;
use crate::normalize::Scope;
use crate::raw::RawService;

/// Check `service` (built from `raw`), pushing diagnostics.
pub(crate) fn service(
    _service: &Service,
    raw: &RawService,
    _scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    for e in &raw.enums {
        if e.values.is_empty() {
            diags.push(
                Diagnostic::error(
                    "spec/enum-no-values",
                    format!("enum `{}` has no values", e.name.value),
                )
                .at(e.values_span)
                .hint("declare at least one value: \"values\": [{\"name\": \"...\"}]"),
            );
        }
    }
    for u in &raw.unions {
        if u.types.is_empty() {
            diags.push(
                Diagnostic::error(
                    "spec/union-no-types",
                    format!("union `{}` has no types", u.name.value),
                )
                .at(u.types_span)
                .hint("declare at least one member: \"types\": [{\"type\": \"...\"}]"),
            );
        }
    }
}
