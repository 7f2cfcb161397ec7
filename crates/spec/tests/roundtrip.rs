//! `dev spec show --json` output is a valid resolved `service.json`: importing it
//! yields the same types as the spec it came from. This checks the resolved-form
//! reader against the writer over the whole corpus and the valid edge cases.

use std::path::{Path, PathBuf};

use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, load, load_with, show};

/// The parts of a service an importer sees. Derived indexes and table scopes come
/// from resources, which an import does not bring, so they are left out.
fn types_of(service: &serde_json::Value) -> serde_json::Value {
    let pick = |k: &str| service.get(k).cloned().unwrap_or_default();
    let mut models = pick("models");
    for m in models.as_array_mut().into_iter().flatten() {
        if let Some(indexes) = m.pointer_mut("/db/indexes").and_then(|i| i.as_array_mut()) {
            indexes.retain(|i| i["derived"] != serde_json::Value::Bool(true));
        }
        if let Some(db) = m.pointer_mut("/db").and_then(|d| d.as_object_mut()) {
            db.remove("scope");
        }
    }
    serde_json::json!({
        "namespace": pick("namespace"),
        "enums": pick("enums"),
        "interfaces": pick("interfaces"),
        "unions": pick("unions"),
        "models": models,
        "annotations": pick("annotations"),
    })
}

fn specs() -> Vec<PathBuf> {
    let mut specs = blueprint_testkit::corpus_specs();
    let valid = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/valid");
    let mut own: Vec<PathBuf> = std::fs::read_dir(valid)
        .expect("tests/valid exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    own.sort();
    specs.extend(own);
    specs
}

#[test]
fn show_output_imports_back_as_the_same_types() {
    let dir = std::env::temp_dir().join(format!("blueprint-spec-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut checked = 0;
    for path in specs() {
        let Ok(original) = load(&path) else {
            continue; // rejected specs are covered by their own tests
        };
        let shown = show::service_json(&original);
        // Relative imports resolve against the importing file: re-anchor them at
        // the original's folder, since the shown copy lives elsewhere.
        let mut copy = shown.clone();
        let base = path.parent().expect("spec has a folder");
        for import in copy["imports"].as_array_mut().into_iter().flatten() {
            let uri = import["uri"].as_str().unwrap_or_default().to_string();
            if !uri.contains("://") {
                let local = uri.strip_prefix("file:").unwrap_or(&uri);
                import["uri"] = format!("file:{}", base.join(local).display()).into();
            }
        }
        let file = dir.join("shown.json");
        std::fs::write(&file, serde_json::to_string_pretty(&copy).expect("json")).expect("write");
        let root = dir.join("root.json");
        std::fs::write(
            &root,
            r#"{"name": "roundtrip", "namespace": "test.roundtrip.v0", "imports": [{"uri": "file:shown.json"}]}"#,
        )
        .expect("write");
        // The shown service's own imports resolve like the original's did.
        let config = Config::discover(&path).expect("config");
        let reloaded = load_with(&root, &LoadOptions { config })
            .unwrap_or_else(|e| panic!("{}: show output does not import: {e}", path.display()));
        let imported = reloaded
            .imports
            .iter()
            .find(|s| s.namespace == original.service.namespace)
            .unwrap_or_else(|| panic!("{}: import missing", path.display()));
        assert_eq!(
            types_of(&show::service_value(imported)),
            types_of(&shown),
            "{}",
            path.display()
        );
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked > 0, "nothing was checked");
}
