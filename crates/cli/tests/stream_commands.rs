//! `dev stream ls`, `tail` and `publish` on a scratch workspace (the catalog and
//! search stream fixtures, and `tests/stream/audit.json`), each on a SQLite log and
//! on a real nats-server.
//!
//! `tests/stream/publish/<union>/<case>` are the publish cases: each file is sent to
//! `dev stream publish <union> -` on a fresh backend, then the stream is read back
//! with `dev stream tail --from earliest --format json`; what both print is one
//! snapshot per case, shared by the backends, so they must agree.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use blueprint::stream::{ConsumerConfig, Event, StreamConfig, Streams};
use blueprint_testkit::TestNats;
use serde_json::{Value, json};

const PRODUCTS: &str = "io.blueprint.catalog.v0.product_event.json";
const NOTES: &str = "io.blueprint.audit.v0.note_event.json";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A workspace with three specs: catalog (owns product_event), search (consumes
/// it), audit (owns note_event).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dev-stream-")
        .tempdir()
        .unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    let fixtures = manifest_dir().join("../codegen/tests/fixtures");
    for name in ["catalog.json", "search.json"] {
        std::fs::copy(fixtures.join(name), specs.join(name)).unwrap();
    }
    std::fs::copy(
        manifest_dir().join("tests/stream/audit.json"),
        specs.join("audit.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("blueprint.toml"),
        "[workspace]\nspecs = [\"specs/*.json\"]\n",
    )
    .unwrap();
    dir
}

/// Where the streams live for one test.
enum Backend {
    Sqlite(tempfile::TempDir),
    Nats(TestNats),
}

impl Backend {
    fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    fn nats() -> Option<Backend> {
        TestNats::start().map(Backend::Nats)
    }

    fn url(&self) -> String {
        match self {
            Backend::Sqlite(dir) => format!("sqlite:{}", dir.path().join("log.sqlite").display()),
            Backend::Nats(nats) => nats.url().to_string(),
        }
    }
}

fn dev(root: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dev"));
    command
        .args(args)
        .current_dir(root)
        .env("BLUEPRINT_STREAMS_URL", url);
    command
}

fn run(root: &Path, url: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = dev(root, url, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dev runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Tail's JSON lines with what differs between runs masked: `published`, new
/// UUIDs, and timestamps taken at publishing (within a day of now).
fn masked(lines: &str) -> String {
    let now = blueprint::chrono::Utc::now();
    lines
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["published"] = json!("[published]");
            if v["id"].as_str().is_some_and(is_uuid) {
                v["id"] = json!("[uuid]");
            }
            let at =
                blueprint::chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap())
                    .unwrap();
            if (now - at.to_utc()).abs() < blueprint::chrono::TimeDelta::days(1) {
                v["timestamp"] = json!("[now]");
            }
            serde_json::to_string(&v).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn mask_uuids(text: &str) -> String {
    text.lines()
        .map(|line| {
            line.split(' ')
                .map(|w| if is_uuid(w) { "[uuid]" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect()
}

fn publish_cases() -> Vec<(String, PathBuf)> {
    let mut cases = Vec::new();
    let root = manifest_dir().join("tests/stream/publish");
    for stream in std::fs::read_dir(&root).unwrap() {
        let stream = stream.unwrap().path();
        for case in std::fs::read_dir(&stream).unwrap() {
            let union = stream.file_name().unwrap().to_string_lossy().into_owned();
            cases.push((union, case.unwrap().path()));
        }
    }
    cases.sort();
    assert!(cases.len() >= 6, "the publish cases: {cases:?}");
    cases
}

/// Every publish case on fresh backends made by `backend`.
fn publish_cases_on(backend: impl Fn() -> Option<Backend>) {
    for (union, file) in publish_cases() {
        let Some(backend) = backend() else { return };
        let ws = workspace();
        let url = backend.url();
        let input = std::fs::read(&file).unwrap();
        let published = run(ws.path(), &url, &["stream", "publish", &union, "-"], &input);
        let tail = run(
            ws.path(),
            &url,
            &[
                "stream",
                "tail",
                &union,
                "--from",
                "earliest",
                "--timeout",
                "1",
                "--format",
                "json",
            ],
            b"",
        );
        let tailed = if tail.status.success() {
            masked(&String::from_utf8_lossy(&tail.stdout))
        } else {
            // Nothing was published on a fresh backend: the stream was never created.
            let err = String::from_utf8_lossy(&tail.stderr);
            assert!(err.contains("is not created yet"), "{err}");
            "(stream not created)".to_string()
        };
        let case = file.file_name().unwrap().to_string_lossy().into_owned();
        let snapshot = format!(
            "$ dev stream publish {union} - < {case}\nexit {}\n--- stdout\n{}--- stderr\n{}\n$ dev stream tail {union} --from earliest --format json\n{tailed}\n",
            published.status.code().unwrap_or(-1),
            mask_uuids(&String::from_utf8_lossy(&published.stdout)),
            String::from_utf8_lossy(&published.stderr),
        );
        let name = format!("publish-{union}-{case}");
        insta::with_settings!({
            snapshot_path => "stream/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, snapshot);
        });
    }
}

#[test]
fn publish_cases_on_sqlite() {
    publish_cases_on(|| Some(Backend::sqlite()));
}

#[test]
fn publish_cases_on_nats() {
    publish_cases_on(Backend::nats);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ls_json(root: &Path, url: &str) -> Value {
    let out = run(root, url, &["stream", "ls", "--format", "json"], b"");
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `ls` before the streams exist, then with events and a durable consumer part
/// way through them; `tail` never leaves a consumer behind.
fn ls_and_tail(backend: &Backend) {
    let ws = workspace();
    let root = ws.path();
    let url = backend.url();

    let before = ls_json(root, &url);
    assert_eq!(before["backend"], url.as_str());
    let names: Vec<&str> = before["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [NOTES, PRODUCTS]);
    let products = &before["streams"][1];
    assert_eq!(products["owner"], "catalog");
    assert_eq!(products["spec"], "specs/catalog.json");
    assert_eq!(products["union"], "product_event");
    assert_eq!(
        products["event_types"],
        json!(["product_upserted", "product_deleted"])
    );
    assert_eq!(products["consumed_by"], json!(["search"]));
    assert_eq!(products["created"], false);
    assert_eq!(products["last_sequence"], Value::Null);
    let text_ls = run(root, &url, &["stream", "ls"], b"");
    assert!(
        text(&text_ls).contains("not created yet"),
        "{}",
        text(&text_ls)
    );
    if let Backend::Sqlite(dir) = backend {
        assert!(
            !dir.path().join("log.sqlite").exists(),
            "ls created the log"
        );
    }
    let early = run(root, &url, &["stream", "tail", "product_event"], b"");
    assert_eq!(early.status.code(), Some(2), "{}", text(&early));
    assert!(
        text(&early).contains(&format!("stream {PRODUCTS} is not created yet")),
        "{}",
        text(&early)
    );

    // Five events, and the search service's durable consumer holding two unacked
    // (at most two out: JetStream's consumer pulls ahead up to that).
    let events: Vec<String> = (1..=5)
        .map(|i| {
            json!({"discriminator": "product_deleted", "event_id": format!("e{i}"),
                   "timestamp": "2026-01-01T00:00:00Z", "product_id": format!("p{i}")})
            .to_string()
        })
        .collect();
    let file = root.join("events.jsonl");
    std::fs::write(&file, events.join("\n")).unwrap();
    let published = run(
        root,
        &url,
        &["stream", "publish", PRODUCTS, &file.to_string_lossy()],
        b"",
    );
    assert!(published.status.success(), "{}", text(&published));
    runtime().block_on(async {
        let streams = Streams::connect(&url).await.unwrap();
        let mut consumer = streams
            .consumer(PRODUCTS, &ConsumerConfig::new("search").max_ack_pending(2))
            .await
            .unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            let batch = consumer
                .fetch(2 - got.len(), Duration::from_secs(5))
                .await
                .unwrap();
            assert!(!batch.is_empty(), "the consumer received nothing");
            got.extend(batch);
        }
    });

    let after = ls_json(root, &url);
    let products = &after["streams"][1];
    assert_eq!(products["created"], true);
    assert_eq!(products["last_sequence"], 5);
    assert_eq!(products["first_sequence"], 1);
    assert_eq!(products["messages"], 5);
    assert_eq!(
        products["consumers"],
        json!([{"name": "search", "service": "search", "delivered": 2, "ack_floor": 0,
                "pending": 3, "ack_pending": 2, "redelivered": 0, "lag": 5}])
    );
    assert_eq!(after["streams"][0]["created"], false);
    let listed = run(root, &url, &["stream", "ls"], b"");
    let listed = text(&listed);
    assert!(
        listed.contains("sequence   5 (5 events kept, from 1)"),
        "{listed}"
    );
    assert!(
        listed.contains("consumer   search: delivered 2, acked up to 0, lag 5 (2 unacked)"),
        "{listed}"
    );

    // From a sequence, and from a time: text lines, the limit honoured.
    let tail = run(
        root,
        &url,
        &[
            "stream",
            "tail",
            "product_event",
            "--from",
            "seq:4",
            "--limit",
            "5",
            "--timeout",
            "1",
        ],
        b"",
    );
    assert!(tail.status.success(), "{}", text(&tail));
    let lines: Vec<String> = String::from_utf8_lossy(&tail.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("#4 2026-01-01T00:00:00Z product_deleted e4 {"),
        "{lines:?}"
    );
    assert!(
        text(&tail).contains("2 events (timeout)"),
        "{}",
        text(&tail)
    );
    let tail = run(
        root,
        &url,
        &[
            "stream",
            "tail",
            PRODUCTS,
            "--from",
            "time:2000-01-01T00:00:00Z",
            "--limit",
            "3",
        ],
        b"",
    );
    assert!(tail.status.success(), "{}", text(&tail));
    assert_eq!(String::from_utf8_lossy(&tail.stdout).lines().count(), 3);
    assert!(text(&tail).contains("3 events (limit reached)"));

    // Following: `--from latest` prints what is published after it started.
    let mut follower = dev(
        root,
        &url,
        &[
            "stream",
            "tail",
            "product_event",
            "--from",
            "latest",
            "--limit",
            "2",
            "--timeout",
            "20",
            "--format",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut err = BufReader::new(follower.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("following "), "{first}");
    runtime().block_on(async {
        let streams = Streams::connect(&url).await.unwrap();
        for id in ["late-1", "late-2"] {
            let event = Event::json(
                id,
                "product_deleted",
                &json!({"discriminator": "product_deleted",
                "event_id": id, "timestamp": "2026-01-01T00:00:00Z", "product_id": "p"}),
            )
            .unwrap();
            streams.publish(PRODUCTS, &event).await.unwrap();
        }
    });
    let out = follower.wait_with_output().unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["late-1", "late-2"]);
    assert_eq!(lines[0]["sequence"], 6);
    assert_eq!(lines[0]["stream"], PRODUCTS);

    // Tails are readers: the only durable consumer is still search's, where it was.
    let last = ls_json(root, &url);
    assert_eq!(last["streams"][1]["consumers"][0]["delivered"], 2, "{last}");
    assert_eq!(last["streams"][1]["consumers"].as_array().unwrap().len(), 1);

    // Names: a union name must be a workspace stream's; bad positions are refused.
    let unknown = run(root, &url, &["stream", "tail", "order_event"], b"");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains(&format!(
            "no workspace stream is named `order_event`; the workspace's streams: {NOTES} (note_event), {PRODUCTS} (product_event)"
        )),
        "{}",
        text(&unknown)
    );
    let bad = run(
        root,
        &url,
        &["stream", "tail", "product_event", "--from", "seq:0"],
        b"",
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).contains("sequences start at 1"),
        "{}",
        text(&bad)
    );
}

#[test]
fn ls_and_tail_on_sqlite() {
    ls_and_tail(&Backend::sqlite());
}

#[test]
fn ls_and_tail_on_nats() {
    if let Some(nats) = Backend::nats() {
        ls_and_tail(&nats);
    }
}

/// A stream the backend has and no spec owns is listed apart; a full name the
/// workspace does not own can still be tailed.
#[test]
fn streams_outside_the_workspace() {
    let backend = Backend::sqlite();
    let ws = workspace();
    let url = backend.url();
    let other = "io.elsewhere.v0.thing_event.json";
    runtime().block_on(async {
        let streams = Streams::connect(&url).await.unwrap();
        streams
            .ensure_stream(&StreamConfig::new(other))
            .await
            .unwrap();
        let event = Event::json("t1", "thing_added", &json!({"thing_added": {}})).unwrap();
        streams.publish(other, &event).await.unwrap();
    });
    let ls = ls_json(ws.path(), &url);
    assert_eq!(ls["other_streams"], json!([other]));
    let tail = run(
        ws.path(),
        &url,
        &[
            "stream", "tail", other, "--from", "earliest", "--limit", "1",
        ],
        b"",
    );
    assert!(tail.status.success(), "{}", text(&tail));
    assert!(String::from_utf8_lossy(&tail.stdout).contains(" thing_added t1 "));
    // Publishing needs the spec (to validate): refused, with the known streams.
    let publish = run(ws.path(), &url, &["stream", "publish", other, "-"], b"{}");
    assert_eq!(publish.status.code(), Some(2));
    assert!(text(&publish).contains("no workspace stream is named"));
}

/// A union name two workspace streams share is refused; their full names work.
#[test]
fn ambiguous_union_names_need_the_full_name() {
    let backend = Backend::sqlite();
    let ws = workspace();
    let audit = std::fs::read_to_string(ws.path().join("specs/audit.json")).unwrap();
    let copy = audit
        .replace("\"name\": \"audit\"", "\"name\": \"journal\"")
        .replace("io.blueprint.audit.v0", "io.blueprint.journal.v0");
    std::fs::write(ws.path().join("specs/journal.json"), copy).unwrap();
    let url = backend.url();
    let note = br#"{"note_added": {"text": "hi"}}"#;
    let ambiguous = run(
        ws.path(),
        &url,
        &["stream", "publish", "note_event", "-"],
        note,
    );
    assert_eq!(ambiguous.status.code(), Some(2), "{}", text(&ambiguous));
    assert!(
        text(&ambiguous).contains(&format!(
            "`note_event` is ambiguous: {NOTES}, io.blueprint.journal.v0.note_event.json; give the full name"
        )),
        "{}",
        text(&ambiguous)
    );
    let full = run(ws.path(), &url, &["stream", "publish", NOTES, "-"], note);
    assert!(full.status.success(), "{}", text(&full));
    let ls = ls_json(ws.path(), &url);
    let created: Vec<(&str, bool)> = ls["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["created"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        created,
        [
            (NOTES, true),
            (PRODUCTS, false),
            ("io.blueprint.journal.v0.note_event.json", false)
        ]
    );
}

/// The JSON shapes are documented where users look.
#[test]
fn help_documents_the_json() {
    let ws = workspace();
    for (command, fields) in [
        (
            "ls",
            &["other_streams", "ack_floor", "consumed_by", "lag"][..],
        ),
        (
            "tail",
            &["sequence", "partition_key", "published", "payload"][..],
        ),
        ("publish", &["duplicate", "envelope", "FILE:LINE"][..]),
    ] {
        let help = run(ws.path(), "memory:", &["stream", command, "--help"], b"");
        let help = text(&help);
        for field in fields {
            assert!(
                help.contains(field),
                "`dev stream {command} --help` lacks {field}:\n{help}"
            );
        }
    }
}
