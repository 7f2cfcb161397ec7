//! AsyncAPI export: the users service, every corpus spec with streams, and a fixture
//! that consumes an imported service's stream export to documents that the
//! independent validator (`@asyncapi/cli validate`, from npm) accepts, in which every
//! `$ref` resolves; snapshots pin three of them.

use std::path::{Path, PathBuf};
use std::process::Command;

use blueprint_codegen::asyncapi;
use blueprint_spec::Spec;
use blueprint_testkit::npm;
use serde_json::Value;

fn load(path: &Path) -> Spec {
    blueprint_spec::load(path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

fn users_spec() -> PathBuf {
    blueprint_testkit::workspace_root().join("services/users/spec/users.json")
}

/// Consumes `orders`' stream (imported from the fixtures' registry) and owns a
/// stream whose union has no discriminator.
fn streams_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams.json")
}

/// The specs to export: the users service, the fixture, and every corpus spec that
/// owns or consumes a stream (flow-lib-event-test among them).
fn specs() -> Vec<(PathBuf, Spec)> {
    let mut specs = vec![
        (users_spec(), load(&users_spec())),
        (streams_fixture(), load(&streams_fixture())),
    ];
    let corpus = blueprint_testkit::load_corpus(blueprint_spec::load);
    let with_streams: Vec<_> = corpus
        .into_iter()
        .filter(|(_, spec)| {
            spec.service.streams().next().is_some() || !spec.service.blueprint.consumes.is_empty()
        })
        .collect();
    if blueprint_testkit::corpus_dir().is_some() {
        assert!(
            with_streams
                .iter()
                .any(|(p, _)| p.ends_with("flow-lib-event-test.json")),
            "flow-lib-event-test.json has a stream"
        );
    }
    specs.extend(with_streams);
    specs
}

#[test]
fn exports_are_valid_asyncapi() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("asyncapi");
    std::fs::create_dir_all(&out_dir).expect("create the output folder");
    let mut files = Vec::new();
    for (path, spec) in specs() {
        let text = asyncapi::render(&spec);
        let doc: Value = serde_json::from_str(&text).expect("the export is JSON");
        let dangling = dangling_refs(&doc);
        assert!(
            dangling.is_empty(),
            "{}: unresolved $refs {dangling:?}",
            path.display()
        );
        assert_eq!(
            text,
            asyncapi::render(&spec),
            "{}: export is not deterministic",
            path.display()
        );
        let channels = doc["channels"].as_object().map_or(0, |c| c.len());
        assert_eq!(
            channels,
            spec.service.streams().count() + spec.service.blueprint.consumes.len(),
            "{}: one channel per stream owned or consumed",
            path.display()
        );
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let file = out_dir.join(format!("{stem}.asyncapi.json"));
        std::fs::write(&file, &text).expect("write the export");
        files.push(file);
    }
    validate_independently(&files);
}

/// Run `asyncapi validate` over each exported file.
fn validate_independently(files: &[PathBuf]) {
    let Some(validator) = npm::tool("asyncapi") else {
        return;
    };
    // The CLI's usage metrics off: it would otherwise write to $HOME and call home.
    let metrics = Path::new(env!("CARGO_TARGET_TMPDIR")).join("asyncapi-analytics.json");
    std::fs::write(
        &metrics,
        r#"{"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "blueprint-tests"}"#,
    )
    .expect("write the metrics settings");
    for file in files {
        let stdout = npm::run(
            Command::new(&validator)
                .arg("validate")
                .arg(file)
                .args(["--fail-severity", "warn"])
                .env("ASYNCAPI_METRICS_CONFIG_PATH", &metrics)
                .env("NO_COLOR", "1"),
            &format!("asyncapi validate rejected {}", file.display()),
        );
        // The validator's own word, so one that checked nothing cannot pass.
        assert!(
            stdout.contains("is valid"),
            "asyncapi validate {}:\n{stdout}",
            file.display()
        );
    }
}

/// Every `"$ref"` that does not point at something in the document.
fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, doc: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if k == "$ref" {
                        let target = child
                            .as_str()
                            .and_then(|r| r.strip_prefix('#'))
                            .and_then(|pointer| doc.pointer(pointer));
                        if target.is_none() {
                            out.push(child.to_string());
                        }
                    } else {
                        walk(child, doc, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

#[test]
fn snapshots() {
    insta::assert_snapshot!("users", asyncapi::render(&load(&users_spec())));
    insta::assert_snapshot!("streams", asyncapi::render(&load(&streams_fixture())));
    if let Some(corpus) = blueprint_testkit::corpus_dir() {
        let spec = load(&corpus.join("flow-lib-event-test.json"));
        insta::assert_snapshot!("flow-lib-event-test", asyncapi::render(&spec));
    }
}
