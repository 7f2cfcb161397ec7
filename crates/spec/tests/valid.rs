//! Valid edge cases (leniencies, normalisation, templates, imports, Blueprint
//! attributes): every top-level `tests/valid/*.json` loads and its
//! `dev spec show --json` output is a snapshot. Files named `warning--<code>.json`
//! must load with a `spec/<code>` warning (the warnings are a snapshot too); the
//! others must load without any.

use std::path::{Path, PathBuf};

use blueprint_spec::show;

#[test]
fn valid_specs_load_and_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/valid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/valid exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name")
            .to_string();
        let spec = blueprint_spec::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        match name.strip_prefix("warning--") {
            None => assert!(spec.warnings.is_empty(), "{name}: {:?}", spec.warnings),
            Some(code) => {
                let expected = format!("spec/{code}");
                assert!(
                    spec.warnings.iter().any(|w| w.code == expected),
                    "{name}: no `{expected}` warning in {:?}",
                    spec.warnings
                );
                let prefix = format!("{}/", dir.display());
                let lines: Vec<String> = spec
                    .warnings
                    .iter()
                    .map(|w| w.to_short(&spec.sources).replace(&prefix, ""))
                    .collect();
                insta::assert_snapshot!(format!("{name}-warnings"), lines.join("\n"));
            }
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(true);
        settings.bind(|| insta::assert_json_snapshot!(name, show::service_json(&spec)));
    }
}
