//! Every corpus spec loads (the legacy one is rejected with a located error), and
//! its normalised `dev spec show --json` output is snapshot-tested.

use blueprint_spec::{load, show};
use blueprint_testkit::{LEGACY_SPEC, corpus_specs};

#[test]
fn corpus_specs_load_and_match_snapshots() {
    let specs = corpus_specs();
    for path in &specs {
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let result = load(path);
        if file == LEGACY_SPEC {
            let err = result.expect_err("the legacy spec must be rejected");
            let first = err.diagnostics.iter().next().expect("a diagnostic");
            assert_eq!(first.code, "spec/legacy-format", "{err}");
            assert!(first.location(&err.sources).is_some(), "located: {err}");
            continue;
        }
        let spec = result.unwrap_or_else(|err| panic!("{file} should load: {err}"));
        let name = file.trim_end_matches(".json");
        insta::assert_json_snapshot!(name, show::service_json(&spec));
    }
}
