//! OpenAPI export: every corpus spec (and the users, shop and auth specs) exports to a
//! document that an independent validator (`openapi-spec-validator`, from PyPI)
//! accepts and that Redocly's `recommended` ruleset (npm) passes with no error; every
//! `$ref` resolves; the export of three union-heavy specs, the shop and the auth
//! fixtures is pinned by snapshots.

use std::path::{Path, PathBuf};
use std::process::Command;

use blueprint_codegen::openapi;
use blueprint_spec::Spec;
use blueprint_testkit::{npm, python};
use serde_json::Value;

const VALIDATOR: &str = "openapi-spec-validator";

fn load(path: &Path) -> Spec {
    blueprint_spec::load(path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

/// The corpus specs (legacy aside), every one of which must load.
fn corpus() -> Vec<(PathBuf, Spec)> {
    blueprint_testkit::load_corpus(blueprint_spec::load)
}

#[test]
fn corpus_exports_are_valid_openapi() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi");
    std::fs::create_dir_all(&out_dir).expect("create the output folder");
    let mut files = Vec::new();
    let mut specs = corpus();
    specs.push((shop_fixture(), load(&shop_fixture())));
    specs.push((users_spec(), load(&users_spec())));
    specs.push((auth_fixture(), load(&auth_fixture())));
    for (path, spec) in specs {
        let text = openapi::render(&spec);
        let doc: Value = serde_json::from_str(&text).expect("the export is JSON");
        let dangling = dangling_refs(&doc);
        assert!(
            dangling.is_empty(),
            "{}: unresolved $refs {dangling:?}",
            path.display()
        );
        assert_eq!(
            text,
            openapi::render(&spec),
            "{}: export is not deterministic",
            path.display()
        );
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let file = out_dir.join(format!("{stem}.openapi.json"));
        std::fs::write(&file, &text).expect("write the export");
        files.push(file);
    }
    validate_independently(&files);
    lint_with_redocly(&files);
}

/// Redocly's `recommended` rules: no error (warnings are printed: a license the spec
/// does not give, a spec type no operation uses, a base URL at example.com).
fn lint_with_redocly(files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let Some(redocly) = npm::tool("redocly") else {
        return;
    };
    let output = Command::new(redocly)
        .args(["lint", "--extends", "recommended", "--format", "summary"])
        .args(files)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .expect("run redocly");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "Redocly found errors:\n{shown}");
    assert!(
        shown.contains("Woohoo") || shown.contains("warning"),
        "Redocly checked nothing?\n{shown}"
    );
    eprintln!("{shown}");
}

/// Run `openapi-spec-validator` over the exported files.
fn validate_independently(files: &[PathBuf]) {
    if files.is_empty() {
        return; // No corpus here (testkit said why; CI fails there instead).
    }
    if !python::tool_available(VALIDATOR, &["--version"], VALIDATOR) {
        return;
    }
    let stdout = python::run(
        Command::new(VALIDATOR)
            .arg("--validation-errors")
            .arg("all")
            .args(files),
        &format!("{VALIDATOR} rejected exports"),
    );
    // One "OK" line per file, so a validator that checked nothing cannot pass.
    assert_eq!(
        stdout.matches(": OK").count(),
        files.len(),
        "{VALIDATOR} output:\n{stdout}"
    );
}

/// Every `"$ref"` that does not point at an existing `#/components/<kind>/<name>`.
fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, components: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if k == "$ref" {
                        let target = child
                            .as_str()
                            .and_then(|r| r.strip_prefix("#/components/"))
                            .and_then(|r| r.split_once('/'));
                        if target.is_none_or(|(kind, name)| components[kind].get(name).is_none()) {
                            out.push(child.to_string());
                        }
                    } else {
                        walk(child, components, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, components, out)),
            _ => {}
        }
    }
    let empty = serde_json::Map::new();
    let schemas = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    walk(doc, &doc["components"], &mut out);
    // Discriminator mappings name schemas too.
    for schema in schemas.values() {
        if let Some(mapping) = schema["discriminator"]["mapping"].as_object() {
            for target in mapping.values() {
                let name = target
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"));
                if !name.is_some_and(|n| schemas.contains_key(n)) {
                    out.push(target.to_string());
                }
            }
        }
    }
    out
}

fn users_spec() -> PathBuf {
    blueprint_testkit::workspace_root().join("services/users/spec/users.json")
}

/// The mock's fixture: every primitive, bounds, defaults, form and header
/// parameters, both union styles, a `default` response (shared, not copied).
fn shop_fixture() -> PathBuf {
    blueprint_testkit::workspace_root().join("crates/mock/tests/fixtures/shop.json")
}

/// The auth fixture: every operation needs a token, one an `admin` role, one reads a
/// scope from the user's id.
fn auth_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/db/auth.json")
}

#[test]
fn snapshot_of_every_feature() {
    insta::assert_snapshot!("shop", openapi::render(&load(&shop_fixture())));
}

/// Bearer security, and the 401 (and 403 where a role is needed) the auth layer answers.
#[test]
fn snapshot_of_auth() {
    insta::assert_snapshot!("auth", openapi::render(&load(&auth_fixture())));
}

#[test]
fn snapshots() {
    for name in [
        "gen-union-types",
        "gen-union-of-unions",
        "validation-union-discriminator-value",
    ] {
        let Some(dir) = blueprint_testkit::corpus_dir() else {
            return;
        };
        let spec = load(&dir.join(format!("{name}.json")));
        insta::assert_snapshot!(name, openapi::render(&spec));
    }
}
