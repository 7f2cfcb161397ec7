//! Every real spec of the corpus lints without panicking; the number of findings
//! per rule per spec is a snapshot, so a rule change shows its effect on real specs.

use std::collections::BTreeMap;
use std::fmt::Write;

use blueprint_lint::{LintConfig, lint};

#[test]
fn corpus_lints_with_all_rules() {
    let specs = blueprint_testkit::load_corpus(blueprint_spec::load);
    let mut report = String::new();
    for (path, spec) in &specs {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in lint(spec, &LintConfig::all()) {
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
