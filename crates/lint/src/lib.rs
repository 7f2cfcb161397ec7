//! Blueprint's linter: rules over the spec IR.
