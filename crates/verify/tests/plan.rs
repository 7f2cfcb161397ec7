//! The requests `verify` plans for each operation of `tests/broken/api.json` and of
//! the users example, snapshotted: one valid request, then one invalid request per
//! kind of mistake, each wrong in exactly one way.

use std::fmt::Write as _;
use std::path::Path;

use blueprint_verify::plan::{Payload, probes};

fn render(spec_path: &Path) -> String {
    let spec = blueprint_spec::load(spec_path).expect("spec loads");
    let mut out = String::new();
    for (_, op) in spec.service.operations() {
        let _ = writeln!(out, "{} {}", op.method, op.path);
        for p in probes(&spec, op) {
            let _ = writeln!(out, "  [{:?}] {}", p.expect, p.label);
            if !p.path_params.is_empty() {
                let _ = writeln!(out, "    path: {:?}", p.path_params);
            }
            if !p.query.is_empty() {
                let _ = writeln!(out, "    query: {:?}", p.query);
            }
            if !p.headers.is_empty() {
                let _ = writeln!(out, "    headers: {:?}", p.headers);
            }
            match &p.body {
                Some(Payload::Json(v)) => {
                    let _ = writeln!(out, "    body: {v}");
                }
                Some(Payload::Raw(text)) => {
                    let _ = writeln!(out, "    raw body: {text}");
                }
                None => {}
            }
        }
    }
    out
}

#[test]
fn broken_spec_plan() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/api.json");
    insta::assert_snapshot!(render(&path));
}

#[test]
fn users_example_plan() {
    let path = blueprint_testkit::workspace_root().join("services/users/spec/users.json");
    insta::assert_snapshot!(render(&path));
}

#[test]
fn union_body_plan() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/union-body.json");
    insta::assert_snapshot!(render(&path));
}

#[test]
fn header_and_query_parameters_plan() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/header-param.json");
    insta::assert_snapshot!(render(&path));
}

/// Operations whose `auth` requires a token also get a request without it (401).
#[test]
fn auth_plan() {
    let path = blueprint_testkit::workspace_root().join("crates/codegen/tests/db/auth.json");
    insta::assert_snapshot!(render(&path));
}
