//! Every real spec of the corpus lints without panicking; the number of findings
//! per rule per spec is a snapshot, so a rule change shows its effect on real specs.

use std::collections::BTreeMap;
use std::fmt::Write;

use blueprint_lint::{LintConfig, lint};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, load_with};
use blueprint_testkit::{LEGACY_SPEC, corpus_specs};

#[test]
fn corpus_lints_with_all_rules() {
    let specs = corpus_specs();
    let mut report = String::new();
    for path in &specs {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == LEGACY_SPEC {
            continue;
        }
        let config = Config::discover(path).expect("corpus blueprint.toml is valid");
        // Loading is the spec crate's to test; a spec that does not load is
        // recorded (so the snapshot changes when it starts loading) and skipped.
        let spec = match load_with(path, &LoadOptions { config }) {
            Ok(spec) => spec,
            Err(e) => {
                let _ = writeln!(
                    report,
                    "{name}: does not load ({} diagnostics)",
                    e.diagnostics.len()
                );
                continue;
            }
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in lint(&spec, &LintConfig::all()) {
            assert!(d.span.is_some(), "{name}: finding without a location: {d}");
            *counts.entry(d.code).or_default() += 1;
        }
        let _ = writeln!(report, "{name}:");
        if counts.is_empty() {
            let _ = writeln!(report, "  (clean)");
        }
        for (code, n) in counts {
            let _ = writeln!(report, "  {code}: {n}");
        }
    }
    if specs.is_empty() {
        return; // shared/ missing outside CI: testkit said so on stderr.
    }
    insta::assert_snapshot!("corpus_finding_counts", report);
}
