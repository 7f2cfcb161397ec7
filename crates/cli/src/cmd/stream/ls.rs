//! `dev stream ls`: the workspace's streams, from its specs, and where each stands
//! on the backend (last sequence, durable consumers' positions and lag), with
//! the subscriptions a running delivery service has on each
//! (`/_internal_/subscriptions`).

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Context, Result};
use blueprint::stream::{ConsumerInfo, StreamInfo};
use serde_json::{Value, json};

use super::Format;
use super::catalog::{self, Catalog, Entry};
use crate::probe::{self, Subscription};
use crate::services;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub const AFTER_HELP: &str = "\
The backend: BLUEPRINT_STREAMS_URL, else [streams] url in blueprint.toml, else
sqlite:.dev/streams.sqlite (relative to the workspace root), as services decide it.
A stream the backend does not have yet is \"not created yet\" (its owner's publisher
creates it when the service starts; `dev stream publish` does too). A SQLite log
that does not exist is not created by `ls`.

--format json:
  backend            the streams URL
  streams[]          one per stream a workspace spec owns, sorted by name:
    name             <namespace>.<union>.json
    union            the stream union's name
    owner            the owning service's name; spec: its spec file
    event_types      [the members' discriminator values]
    consumed_by      [names of the services whose spec consumes it]
    created          whether the backend has the stream
    first_sequence, last_sequence, messages
                     the oldest kept and the last sequence, events kept (null when
                     not created)
    consumers[]      the durable consumers on the backend: name, service (the
                     consuming service with that key, or null), delivered (last
                     sequence delivered), ack_floor (every sequence up to it is
                     acked), pending (not delivered yet), ack_pending (delivered,
                     not acked), redelivered, lag (pending + ack_pending)
    subscriptions[]  what running services deliver to subscribers from it (the
                     delivery service's /_internal_/subscriptions): service (its
                     key), id, agency_id, mode (push|pull), status (creating|active|
                     paused|disabled), delivered, pending, failing, leased, dead
                     (messages), lag (events not taken in yet)
  other_streams      [streams on the backend that no workspace spec owns]";

pub async fn run(args: LsArgs) -> Result<ExitCode> {
    let ws = Workspace::discover()?;
    let catalog = Catalog::load(&ws)?;
    let url = catalog::url(&ws)?;
    let streams = catalog::open_existing(&url).await?;
    let mut infos: Vec<Option<StreamInfo>> = Vec::new();
    for entry in &catalog.entries {
        let info = match &streams {
            None => None,
            Some(s) => match s.info(&entry.name).await {
                Ok(info) => Some(info),
                Err(e) if catalog::not_found(&e) => None,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {} on {url}", entry.name));
                }
            },
        };
        infos.push(info);
    }
    let others: Vec<String> = match &streams {
        None => Vec::new(),
        Some(s) => {
            let ours: BTreeSet<&str> = catalog.entries.iter().map(|e| e.name.as_str()).collect();
            s.names()
                .await
                .with_context(|| format!("cannot list the streams of {url}"))?
                .into_iter()
                .filter(|n| !ours.contains(n.as_str()))
                .collect()
        }
    };
    let subscriptions = subscriptions(&ws).await?;
    match args.format {
        Format::Json => {
            let list: Vec<Value> = catalog
                .entries
                .iter()
                .zip(&infos)
                .map(|(e, i)| stream_json(e, i.as_ref(), &subscriptions))
                .collect();
            let out = json!({
                "backend": url.to_string(),
                "streams": list,
                "other_streams": others,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            println!("backend  {url}");
            if catalog.entries.is_empty() {
                println!("\nno streams: no spec of `[workspace] specs` owns a `*_event` union");
            }
            for (entry, info) in catalog.entries.iter().zip(&infos) {
                print_stream(entry, info.as_ref(), &subscriptions);
            }
            if !others.is_empty() {
                println!("\nother streams on the backend: {}", others.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every subscription the workspace's running services list: (service key,
/// subscription).
async fn subscriptions(ws: &Workspace) -> Result<Vec<(String, Subscription)>> {
    let client = probe::client();
    let urls = services::running_urls(ws)?;
    let lists = futures_util::future::join_all(
        urls.iter()
            .map(|(_, url)| probe::subscriptions(&client, url)),
    )
    .await;
    Ok(urls
        .into_iter()
        .zip(lists)
        .flat_map(|((key, _), list)| {
            list.unwrap_or_default()
                .into_iter()
                .map(move |s| (key.clone(), s))
        })
        .collect())
}

fn of_stream<'s>(
    entry: &Entry,
    subscriptions: &'s [(String, Subscription)],
) -> impl Iterator<Item = &'s (String, Subscription)> {
    let name = entry.name.clone();
    subscriptions.iter().filter(move |(_, s)| s.stream == name)
}

fn service_of<'e>(entry: &'e Entry, consumer: &str) -> Option<&'e str> {
    entry
        .consumers
        .iter()
        .find(|(_, key)| key == consumer)
        .map(|(name, _)| name.as_str())
}

fn stream_json(
    entry: &Entry,
    info: Option<&StreamInfo>,
    subscriptions: &[(String, Subscription)],
) -> Value {
    let consumers: Vec<Value> = info
        .map(|i| i.consumers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "service": service_of(entry, &c.name),
                "delivered": c.delivered,
                "ack_floor": c.ack_floor,
                "pending": c.num_pending,
                "ack_pending": c.num_ack_pending,
                "redelivered": c.num_redelivered,
                "lag": c.lag(),
            })
        })
        .collect();
    json!({
        "name": entry.name,
        "union": entry.union,
        "owner": entry.owner,
        "spec": entry.spec_path,
        "event_types": entry.event_types,
        "consumed_by": entry.consumers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "created": info.is_some(),
        "first_sequence": info.map(|i| i.first_sequence),
        "last_sequence": info.map(|i| i.last_sequence),
        "messages": info.map(|i| i.messages),
        "consumers": consumers,
        "subscriptions": of_stream(entry, subscriptions)
            .map(|(service, s)| {
                let mut value = json!(s);
                if let Some(object) = value.as_object_mut() {
                    object.insert("service".into(), json!(service));
                }
                value
            })
            .collect::<Vec<_>>(),
    })
}

fn print_stream(
    entry: &Entry,
    info: Option<&StreamInfo>,
    subscriptions: &[(String, Subscription)],
) {
    println!("\n{}", entry.name);
    println!("  owner      {} ({})", entry.owner, entry.spec_path);
    println!("  events     {}", entry.event_types.join(", "));
    if !entry.consumers.is_empty() {
        let names: Vec<&str> = entry.consumers.iter().map(|(n, _)| n.as_str()).collect();
        println!("  consumed   by {}", names.join(", "));
    }
    let Some(info) = info else {
        println!("  state      not created yet (the owner's publisher creates it when it starts)");
        return;
    };
    if info.messages == 0 {
        println!("  sequence   {} (no events kept)", info.last_sequence);
    } else {
        println!(
            "  sequence   {} ({} events kept, from {})",
            info.last_sequence, info.messages, info.first_sequence
        );
    }
    for c in &info.consumers {
        println!("  consumer   {}", consumer_line(entry, c));
    }
    for (name, key) in &entry.consumers {
        if !info.consumers.iter().any(|c| &c.name == key) {
            println!("  consumer   {key}: not started yet ({name} has not consumed)");
        }
    }
    let rows = probe::subscription_rows(of_stream(entry, subscriptions).map(|(_, s)| s), false);
    if rows.len() > 1 {
        let mut lines = crate::report::table(&rows).into_iter();
        if let Some(header) = lines.next() {
            println!("  subscribed {header}");
        }
        for line in lines {
            println!("             {line}");
        }
    }
}

fn consumer_line(entry: &Entry, c: &ConsumerInfo) -> String {
    let service = match service_of(entry, &c.name) {
        Some(s) if s != c.name => format!(" ({s})"),
        _ => String::new(),
    };
    let mut line = format!(
        "{}{service}: delivered {}, acked up to {}, lag {}",
        c.name,
        c.delivered,
        c.ack_floor,
        c.lag()
    );
    if c.num_ack_pending > 0 {
        line.push_str(&format!(" ({} unacked)", c.num_ack_pending));
    }
    line
}
