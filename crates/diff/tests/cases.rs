//! Data-driven diff tests: every folder under `tests/cases/` holds `old.json`,
//! `new.json` and optionally a `blueprint.toml` with a `[diff]` section; the report
//! (kind, id, path, message, old/new line:col, allowance) is snapshotted beside
//! them as `expected.snap`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use blueprint_diff::{Allowed, ChangeKind, DiffConfig, DiffSection, Report, diff};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, load_with};
use blueprint_spec::{Span, Spec};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn load(path: &Path) -> Spec {
    load_with(path, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

fn config(dir: &Path) -> DiffConfig {
    let toml = dir.join("blueprint.toml");
    if !toml.is_file() {
        return DiffConfig::default();
    }
    let cfg = Config::load(&toml).expect("case blueprint.toml parses");
    let section: DiffSection = cfg.section("diff").expect("[diff] section is valid");
    DiffConfig::from_section(&section).expect("allow rules are valid")
}

fn at(spec: &Spec, span: Option<Span>) -> String {
    span.and_then(|s| spec.sources.locate(s))
        .map_or_else(|| "-".to_string(), |(_, l, c)| format!("{l}:{c}"))
}

/// The report as the snapshot shows it: one block per change, breaking first.
fn render(report: &Report, old: &Spec, new: &Spec) -> String {
    let mut out = String::new();
    let blocked = if report.is_blocked() { "yes" } else { "no" };
    let _ = writeln!(out, "blocked: {blocked}");
    if let Some((from, to)) = &report.major_version_bump {
        let _ = writeln!(out, "major version bump: {from} -> {to}");
    }
    for kind in [ChangeKind::Breaking, ChangeKind::NonBreaking] {
        for c in report.changes.iter().filter(|c| c.kind == kind) {
            let label = match kind {
                ChangeKind::Breaking => "BREAKING",
                ChangeKind::NonBreaking => "non-breaking",
            };
            let _ = writeln!(
                out,
                "{label} {} {} (old {}, new {})",
                c.id(),
                c.path,
                at(old, c.old_span),
                at(new, c.new_span)
            );
            let _ = writeln!(out, "  {}", c.message);
            match &c.allowed {
                Some(Allowed::Rule { rule }) => {
                    let _ = writeln!(out, "  allowed by rule `{rule}`");
                }
                Some(Allowed::MajorVersion { from, to }) => {
                    let _ = writeln!(out, "  allowed by major version {from} -> {to}");
                }
                None => {}
            }
        }
    }
    out
}

#[test]
fn cases() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 50,
        "expected at least 50 cases, found {}",
        dirs.len()
    );
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 case name")
            .to_string();
        let old = load(&dir.join("old.json"));
        let new = load(&dir.join("new.json"));
        let report = diff(&old, &new, &config(&dir));
        let text = render(&report, &old, &new);
        insta::with_settings!({
            snapshot_path => dir.clone(),
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            description => format!("dev diff {name}/old.json {name}/new.json"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!("expected", text);
        });
    }
}

/// The corpus specs that load (loading itself is the spec crate's to test).
fn corpus() -> Vec<(PathBuf, Spec)> {
    let paths = blueprint_testkit::corpus_specs();
    let specs: Vec<(PathBuf, Spec)> = paths
        .iter()
        .filter_map(|p| Some((p.clone(), blueprint_spec::load(p).ok()?)))
        .collect();
    assert!(
        paths.is_empty() || !specs.is_empty(),
        "no corpus spec loads"
    );
    specs
}

/// Every corpus spec diffed against itself: no change, no panic.
#[test]
fn corpus_specs_have_no_changes_against_themselves() {
    for (path, spec) in corpus() {
        let report = diff(&spec, &spec, &DiffConfig::default());
        assert!(
            report.changes.is_empty(),
            "{}: {:?}",
            path.display(),
            report.changes
        );
    }
}

/// Each corpus spec against a copy with every model's first field removed: every
/// removal is found and blocks, and nothing panics on real-world shapes.
#[test]
fn corpus_field_removals_are_breaking() {
    for (path, old) in corpus() {
        let mut new = old.clone();
        let mut expected = 0;
        for m in &mut new.service.models {
            if !m.fields.is_empty() {
                m.fields.remove(0);
                expected += 1;
            }
        }
        let report = diff(&old, &new, &DiffConfig::default());
        let removed = report
            .breaking()
            .filter(|c| c.category == blueprint_diff::Category::FieldRemoved)
            .count();
        assert_eq!(removed, expected, "{}", path.display());
        assert_eq!(report.is_blocked(), expected > 0, "{}", path.display());
    }
}

/// Imported types are part of the wire format where this service reaches them: a
/// bumped import whose `user` lost a field breaks `flow-delta`'s responses, while
/// imported types nothing reaches are not reported.
#[test]
fn changes_in_reached_imported_types_are_reported() {
    let Some(dir) = blueprint_testkit::corpus_dir() else {
        return;
    };
    let old = blueprint_spec::load(&dir.join("flow-delta.json")).expect("flow-delta loads");
    let mut new = old.clone();
    let common = new
        .imports
        .iter_mut()
        .find(|s| s.namespace == "io.flow.common.v0")
        .expect("flow-delta imports io.flow.common.v0");
    for m in &mut common.models {
        m.fields.remove(0);
    }
    let report = diff(&old, &new, &DiffConfig::default());
    let lines: Vec<String> = report
        .changes
        .iter()
        .map(|c| format!("{:?} {} {}: {}", c.kind, c.id(), c.path, c.message))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

/// Consuming a new stream, or no longer consuming one, moves the dependency graph
/// but breaks no client.
#[test]
fn consumed_streams_are_reported() {
    let dir = cases_dir().join("identical");
    let old = load(&dir.join("old.json"));
    let mut new = old.clone();
    new.service
        .blueprint
        .consumes
        .push(blueprint_spec::ir::Consume {
            stream: "io.acme.billing.v0.invoice_event.json".into(),
            type_: blueprint_spec::ir::NamedType {
                namespace: "io.acme.billing.v0".into(),
                kind: blueprint_spec::ir::TypeKind::Union,
                name: "invoice_event".into(),
            },
            span: Span::default(),
        });
    let added = diff(&old, &new, &DiffConfig::default());
    let removed = diff(&new, &old, &DiffConfig::default());
    for (report, verb) in [(added, "now consumes"), (removed, "no longer consumes")] {
        assert!(!report.is_blocked());
        let change = report.changes.first().expect("one change");
        assert_eq!(change.category, blueprint_diff::Category::ConsumesChanged);
        assert_eq!(
            change.path,
            "consumes.io.acme.billing.v0.invoice_event.json"
        );
        assert!(change.message.starts_with(verb), "{}", change.message);
    }
}

/// Any two corpus specs, however unrelated, diff without panicking, and every
/// reported change has a path and an id that an allow rule can name.
#[test]
fn unrelated_corpus_specs_diff_cleanly() {
    let specs = corpus();
    for (old_path, old) in &specs {
        for (new_path, new) in &specs {
            let report = diff(old, new, &DiffConfig::default());
            let pair = format!("{} -> {}", old_path.display(), new_path.display());
            if old.service.namespace != new.service.namespace {
                assert!(
                    report
                        .changes
                        .iter()
                        .any(|c| c.category == blueprint_diff::Category::NamespaceChanged),
                    "{pair}"
                );
            }
            for c in &report.changes {
                assert!(!c.path.is_empty() && !c.message.is_empty(), "{pair}: {c:?}");
                assert!(
                    blueprint_diff::parse_id(&c.id()).is_some(),
                    "{pair}: {}",
                    c.id()
                );
            }
        }
    }
}
