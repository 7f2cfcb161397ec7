//! `dev stream tail`: print a stream's events from a start position, following new
//! ones, through a [`Reader`](blueprint::stream::Reader): no durable consumer, no
//! position written, nothing acked.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use blueprint::chrono::SecondsFormat;
use blueprint::stream::{Message, StartAt};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Format;
use super::catalog::{self, Catalog};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// The stream: `<namespace>.<union>.json`, or its union's name (`user_event`)
    /// when one workspace stream has it.
    stream: String,
    /// Where to start: `earliest`, `latest` (only events published from now on),
    /// `seq:N` or `time:RFC3339`.
    #[arg(long, default_value = "latest", value_parser = parse_start)]
    from: StartAt,
    /// Exit after this many events.
    #[arg(long)]
    limit: Option<u64>,
    /// Exit after this many seconds (fractions allowed), however many events came.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    timeout: Option<Duration>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub const AFTER_HELP: &str = "\
Prints events as they come, following the stream (woken by each publish, not
busy polling) until --limit events were printed, --timeout passed, or Ctrl-C. Nothing
is written on the backend: a reader, not a durable consumer. On stderr, once the
reader is open: `following <stream> from <start>`.

--format text: one line per event:
  #<sequence> <timestamp> <type> <event id> <payload as compact JSON>

--format json: one JSON object per line:
  stream         <namespace>.<union>.json
  sequence       the event's position in the stream (1, 2, ...)
  id             the event id (the stream's dedupe key)
  type           the union member (its discriminator value)
  timestamp      when the event happened (the producer's clock), RFC 3339
  published      when the stream stored it, RFC 3339
  partition_key  string or null
  payload        the event as JSON (a string when it is not JSON)
`dev stream publish` reads these lines back.";

fn parse_start(text: &str) -> Result<StartAt, String> {
    text.parse()
        .map_err(|e: blueprint::stream::StreamError| e.to_string())
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..1e9).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}`: expected a number of seconds")),
    }
}

/// How long one read waits when no deadline is near (it returns on the first event).
const READ_WAIT: Duration = Duration::from_secs(60);
/// Events taken per read.
const READ_BATCH: u64 = 100;

pub async fn run(args: TailArgs) -> Result<ExitCode> {
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let ws = Workspace::discover()?;
    let name = stream_name(&ws, &args.stream)?;
    let url = catalog::url(&ws)?;
    let not_created = || {
        anyhow::anyhow!(
            "stream {name} is not created yet on {url} (its owner's publisher creates it when the service starts; `dev stream publish` does too)"
        )
    };
    let Some(streams) = catalog::open_existing(&url).await? else {
        return Err(not_created());
    };
    let mut reader = match streams.reader(&name, args.from).await {
        Ok(r) => r,
        Err(e) if catalog::not_found(&e) => return Err(not_created()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {name} on {url}")),
    };
    eprintln!("following {name} from {} on {url}", args.from);
    let mut printed = 0u64;
    let mut out = std::io::stdout().lock();
    loop {
        let want = args
            .limit
            .map_or(READ_BATCH, |l| (l - printed).min(READ_BATCH));
        if want == 0 {
            break;
        }
        let wait = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    break;
                }
                (d - now).min(READ_WAIT)
            }
            None => READ_WAIT,
        };
        let messages = reader
            .read(want as usize, wait)
            .await
            .with_context(|| format!("cannot read {name} on {url}"))?;
        for m in &messages {
            let line = match args.format {
                Format::Json => serde_json::to_string(&message_json(m))?,
                Format::Text => text_line(m),
            };
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        printed += messages.len() as u64;
    }
    let why = if args.limit == Some(printed) {
        "limit reached"
    } else {
        "timeout"
    };
    eprintln!(
        "{printed} event{} ({why})",
        if printed == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

/// A full stream name as given, else the workspace stream whose union has that name.
fn stream_name(ws: &Workspace, given: &str) -> Result<String> {
    if given.contains('.') {
        return Ok(given.to_string());
    }
    if given.is_empty() {
        bail!("the stream name is empty");
    }
    let catalog = Catalog::load(ws)?;
    Ok(catalog.find(given)?.name.clone())
}

fn time(t: &blueprint::chrono::DateTime<blueprint::chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn payload(m: &Message) -> Value {
    serde_json::from_slice(&m.event.payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&m.event.payload).into_owned()))
}

/// One event as `--format json` prints it.
pub fn message_json(m: &Message) -> Value {
    json!({
        "stream": &*m.stream,
        "sequence": m.sequence,
        "id": m.event.id,
        "type": m.event.event_type,
        "timestamp": time(&m.event.timestamp),
        "published": time(&m.published),
        "partition_key": m.event.partition_key,
        "payload": payload(m),
    })
}

fn text_line(m: &Message) -> String {
    let payload = match payload(m) {
        Value::String(s) => s,
        other => other.to_string(),
    };
    format!(
        "#{} {} {} {} {payload}",
        m.sequence,
        time(&m.event.timestamp),
        m.event.event_type,
        m.event.id
    )
}
