//! `dev stream publish`: JSON events from a file or stdin, each checked against the
//! stream's union by the runtime's validator as `dev mock` drives it from the spec
//! (`blueprint_mock::validate`, the checks generated servers make), then published
//! in order, in batches. One invalid event and nothing is published; a publish that
//! fails part way can be run again (what was stored dedupes by event id within the
//! stream's duplicate window).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use blueprint::chrono::{DateTime, Utc};
use blueprint::stream::{Event, PublishAck, key_text};
use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeRef, Union};
use serde_json::{Map, Value, json};

use super::Format;
use super::catalog::{self, Catalog, Entry};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The stream: `<namespace>.<union>.json`, or its union's name (`user_event`)
    /// when one workspace stream has it.
    stream: String,
    /// The events: a file, or `-` for stdin.
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub const AFTER_HELP: &str = "\
Input: JSON values one after another (one per line, as `dev stream tail --format
json` prints them) or one JSON array of them. Each is either
  - the event itself: a value of the stream's union as it travels on the wire
    (`{\"discriminator\": \"user_upserted\", \"event_id\": ..., ...}`), or
  - an envelope, an object with a `payload` key (the event) and optionally `id`,
    `type`, `timestamp` (RFC 3339) and `partition_key`; `stream`, `sequence` and
    `published` (what tail prints) are ignored.
Every event is checked against the union by the validator generated servers and
`dev mock` use; one that fails is reported at FILE:LINE with every violation, and
then nothing is published (exit 1).

The envelope: id = the envelope's `id`, else the event's `event_id`, else a new
UUID (the stream dedupes by it); type = the member's discriminator value;
timestamp = the envelope's, else the event's `timestamp`, else now; partition key =
the envelope's, else the event's field the stream names as partition key. The
stream is created with the spec's settings if the backend does not have it.

--format json: [{\"id\", \"type\", \"sequence\", \"duplicate\"}], one per event in
input order (`duplicate`: the stream had the id, nothing stored).";

/// What an envelope may say about its event.
const ENVELOPE_KEYS: [&str; 5] = ["payload", "id", "type", "timestamp", "partition_key"];
/// Envelope keys `tail` prints that publishing ignores.
const IGNORED_KEYS: [&str; 3] = ["stream", "sequence", "published"];
/// Events per publish call.
const BATCH: usize = 500;

pub async fn run(args: PublishArgs) -> Result<ExitCode> {
    let ws = Workspace::discover()?;
    let catalog = Catalog::load(&ws)?;
    let entry = catalog.find(&args.stream)?;
    let (source, text) = read_input(&args.file)?;
    let items = match parse(&text) {
        Ok(items) => items,
        Err(why) => bail!("{source}:{why}"),
    };
    if items.is_empty() {
        bail!("{source}: no events to publish");
    }
    let (spec, union, t) = catalog.union(entry);
    let shape = Shape {
        spec,
        union,
        t: &t,
        entry,
    };
    let mut events = Vec::with_capacity(items.len());
    let mut invalid = 0usize;
    for (n, item) in items.iter().enumerate() {
        let at = match item.line {
            Some(line) => format!("{source}:{line}: event {}", n + 1),
            None => format!("{source}: event {}", n + 1),
        };
        match shape.event(&item.value) {
            Ok(event) => events.push(event),
            Err(problems) => {
                invalid += 1;
                for p in problems {
                    eprintln!("error: {at}: {p}");
                }
            }
        }
    }
    if invalid > 0 {
        eprintln!(
            "nothing published: {invalid} of {} event{} invalid for {} ({})",
            items.len(),
            if items.len() == 1 { " is" } else { "s are" },
            entry.union,
            entry.spec_path
        );
        return Ok(ExitCode::from(1));
    }

    let url = catalog::url(&ws)?;
    let streams = catalog::open(&url).await?;
    streams
        .ensure_stream(&entry.config)
        .await
        .with_context(|| format!("cannot create {} on {url}", entry.name))?;
    let mut acks: Vec<PublishAck> = Vec::with_capacity(events.len());
    for chunk in events.chunks(BATCH) {
        acks.extend(
            streams
                .publish_batch(&entry.name, chunk)
                .await
                .with_context(|| format!("cannot publish on {} at {url}", entry.name))?,
        );
    }
    let duplicates = acks.iter().filter(|a| a.duplicate).count();
    match args.format {
        Format::Json => {
            let list: Vec<Value> = events
                .iter()
                .zip(&acks)
                .map(|(e, a)| {
                    json!({"id": e.id, "type": e.event_type, "sequence": a.sequence, "duplicate": a.duplicate})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Text => {
            for (e, a) in events.iter().zip(&acks) {
                let dup = if a.duplicate { " (duplicate)" } else { "" };
                println!("#{} {} {}{dup}", a.sequence, e.event_type, e.id);
            }
        }
    }
    eprintln!(
        "published {} event{} on {} ({duplicates} duplicate{})",
        events.len() - duplicates,
        if events.len() - duplicates == 1 {
            ""
        } else {
            "s"
        },
        entry.name,
        if duplicates == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

fn read_input(file: &Path) -> Result<(String, String)> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read stdin")?;
        return Ok(("<stdin>".into(), text));
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok((file.display().to_string(), text))
}

/// One input value and the line it starts on (`None` inside a JSON array).
#[derive(Debug)]
struct Item {
    line: Option<usize>,
    value: Value,
}

/// JSON values one after another, or one array of them. Err: `LINE: why`.
fn parse(text: &str) -> Result<Vec<Item>, String> {
    if text.trim_start().starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| format!("{}: not a JSON array of events: {e}", e.line()))?;
        return Ok(values
            .into_iter()
            .map(|value| Item { line: None, value })
            .collect());
    }
    let mut items = Vec::new();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let rest = &text[values.byte_offset()..];
        let start = text.len() - rest.trim_start().len();
        let line = text[..start].matches('\n').count() + 1;
        match values.next() {
            None => return Ok(items),
            Some(Ok(value)) => items.push(Item {
                line: Some(line),
                value,
            }),
            Some(Err(e)) => {
                return Err(format!(
                    "{line}: event {} is not JSON: {e}",
                    items.len() + 1
                ));
            }
        }
    }
}

/// What an event must be on one stream.
struct Shape<'a> {
    spec: &'a Spec,
    union: &'a Union,
    t: &'a TypeRef,
    entry: &'a Entry,
}

impl Shape<'_> {
    /// The input value as an event, or every problem with it.
    fn event(&self, value: &Value) -> Result<Event, Vec<String>> {
        let envelope = match value {
            Value::Object(o) if o.contains_key("payload") => Some(o),
            _ => None,
        };
        let payload = envelope.map_or(value, |o| &o["payload"]);
        let mut problems = Vec::new();
        let mut given = |key| envelope_str(envelope, key, &mut problems);
        let (given_id, given_type, given_time, given_key) = (
            given("id"),
            given("type"),
            given("timestamp"),
            given("partition_key"),
        );
        for key in envelope.iter().flat_map(|o| o.keys()) {
            if !ENVELOPE_KEYS.contains(&key.as_str()) && !IGNORED_KEYS.contains(&key.as_str()) {
                problems.push(format!(
                    "unknown envelope key `{key}` (an envelope has {})",
                    ENVELOPE_KEYS.join(", ")
                ));
            }
        }
        let violations = blueprint_mock::validate::check(self.spec, self.t, payload, "");
        let valid = violations.is_empty();
        problems.extend(violations.into_iter().map(|v| {
            if v.path.is_empty() {
                v.message
            } else {
                format!("{}: {}", v.path, v.message)
            }
        }));
        let timestamp = match given_time.map(rfc3339).transpose() {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("envelope `timestamp`: {e}"));
                None
            }
        };
        if !valid {
            return Err(problems);
        }
        let (Some(event_type), member) = self.member(payload) else {
            problems.push("cannot tell which member of the union it is".into());
            return Err(problems);
        };
        let field = |name: &str| member.and_then(|m| m.get(name));
        if let Some(given) = given_type
            && given != event_type
        {
            problems.push(format!(
                "envelope `type` is `{given}` but the payload is a `{event_type}`"
            ));
        }
        let body_id = field("event_id").and_then(Value::as_str);
        let id = match (given_id, body_id) {
            (Some(id), Some(body)) if id != body => {
                problems.push(format!(
                    "envelope `id` `{id}` differs from the payload's event_id `{body}` (keep them equal: consumers may dedupe by either)"
                ));
                String::new()
            }
            (Some(id), _) | (None, Some(id)) => id.to_string(),
            (None, None) => uuid::Uuid::new_v4().to_string(),
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let timestamp = timestamp.or_else(|| {
            field("timestamp")
                .and_then(Value::as_str)
                .and_then(|t| rfc3339(t).ok())
        });
        let key = match given_key {
            Some(k) => Some(k.to_string()),
            None => self
                .entry
                .config
                .partition_key
                .as_deref()
                .and_then(field)
                .and_then(key_text),
        };
        let mut event = Event::json(id, event_type, payload).map_err(|e| vec![e.to_string()])?;
        if let Some(t) = timestamp {
            event = event.with_timestamp(t);
        }
        if let Some(k) = key {
            event = event.with_partition_key(k);
        }
        Ok(event)
    }

    /// The member's wire tag and its object (the fields `event_id`, `timestamp` and
    /// the partition key are read from) of a valid payload.
    fn member<'v>(&self, payload: &'v Value) -> (Option<String>, Option<&'v Map<String, Value>>) {
        let Value::Object(o) = payload else {
            return (None, None);
        };
        match &self.union.discriminator {
            Some(d) => {
                let tag = match o.get(d).and_then(Value::as_str) {
                    Some(tag) => Some(tag.to_string()),
                    None => {
                        let ns = &self.spec.service.namespace;
                        self.union.default_type().map(|m| m.wire_value(ns))
                    }
                };
                (tag, Some(o))
            }
            None => match o.iter().next() {
                Some((tag, inner)) if o.len() == 1 => (Some(tag.clone()), inner.as_object()),
                _ => (None, None),
            },
        }
    }
}

/// An envelope's string `key` (absent or null: none).
fn envelope_str<'v>(
    envelope: Option<&'v Map<String, Value>>,
    key: &str,
    problems: &mut Vec<String>,
) -> Option<&'v str> {
    match envelope.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            problems.push(format!("envelope `{key}`: expected a string, got {other}"));
            None
        }
    }
}

fn rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}`: {e} (expected RFC 3339)"))
}
