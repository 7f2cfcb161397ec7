//! Data-driven invalid specs: every top-level `tests/invalid/<rule>--<case>.json`
//! must be rejected with at least one `spec/<rule>` diagnostic; the full list of
//! diagnostics (short form plus hints, paths relative to the folder) is a snapshot.
//! `tests/invalid/blueprint.toml` and `registry/` serve the import cases.

use std::path::{Path, PathBuf};

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/invalid exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_specs_are_rejected_with_their_rule() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let prefix = format!("{}/", dir.display());
    let files = cases(&dir);
    assert!(
        files.len() >= 60,
        "expected at least 60 cases, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name")
            .to_string();
        let rule = name.split("--").next().unwrap_or(&name);
        let err = match blueprint_spec::load(&path) {
            Ok(_) => {
                failures.push(format!("{name}: the spec loaded but must be rejected"));
                continue;
            }
            Err(e) => e,
        };
        let expected = format!("spec/{rule}");
        if !err.diagnostics.iter().any(|d| d.code == expected) {
            failures.push(format!("{name}: no `{expected}` diagnostic in:\n{err}"));
        }
        if let Some(d) = err.diagnostics.iter().find(|d| d.span.is_none()) {
            failures.push(format!("{name}: unlocated diagnostic {d}"));
        }
        let mut out = String::new();
        for d in err.diagnostics.iter() {
            out.push_str(&d.to_short(&err.sources).replace(&prefix, ""));
            out.push('\n');
            if let Some(hint) = &d.hint {
                out.push_str(&format!("  hint: {}\n", hint.replace(&prefix, "")));
            }
        }
        insta::assert_snapshot!(name, out);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
