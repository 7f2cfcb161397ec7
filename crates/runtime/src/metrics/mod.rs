//! The metrics every Blueprint service exposes, in the Prometheus text format on
//! `GET /_internal_/metrics`.
//!
//! Code records through the [`metrics`](::metrics) facade (`counter!`, `gauge!`,
//! `histogram!`) under the names below; the runtime installs one process-wide
//! recorder (feature `metrics`, part of `server`: [`install`]) that knows their
//! descriptions and histogram buckets, and `service_router` serves what it holds.
//! What each name means, its labels and its unit is written once, in [`METRICS`].
//!
//! Labels are bounded: an HTTP request's `operation` is its route template
//! (`/users/{id}`), never the raw path ([`UNMATCHED`] for paths no route matches);
//! `method` is a standard method or `other`; `stream` and `table` name what the spec
//! declares.
//!
//! "Events per day per service" (seed 001) is two figures: the counter
//! [`EVENTS_PUBLISHED`], which Prometheus turns into a daily figure
//! (`increase(blueprint_events_published_total[1d])`, summed per job), and for a
//! reader without Prometheus (`dev status`) the gauge [`EVENTS_PUBLISHED_TODAY`]:
//! the events published since the last UTC midnight, kept by the recorder from the
//! counter itself (publishers record only the counter). [`CONSUMER_APPLIED`] has
//! its [`CONSUMER_APPLIED_TODAY`] the same way. Both restart from zero with the
//! process; the counters' `increase()` does not lose them.
//!
//! [`read`] parses the text format back into the key figures.

pub mod read;

#[cfg(feature = "server")]
pub(crate) mod http;
#[cfg(feature = "metrics")]
mod recorder;

#[cfg(feature = "metrics")]
pub use recorder::{Exporter, install};

/// Where every service serves its metrics.
pub const METRICS_PATH: &str = "/_internal_/metrics";

/// HTTP requests answered, by `operation`, `method` and `status`.
pub const HTTP_REQUESTS: &str = "blueprint_http_requests_total";
/// Time to answer an HTTP request (to its response head), by `operation` and `method`.
pub const HTTP_DURATION: &str = "blueprint_http_request_duration_seconds";
/// Journal records waiting to be published, by `table`.
pub const JOURNAL_QUEUE_DEPTH: &str = "blueprint_journal_queue_depth";
/// Journal write → event published, by `table`.
pub const PUBLISH_LAG: &str = "blueprint_publish_lag_seconds";
/// Events published, by `stream`.
pub const EVENTS_PUBLISHED: &str = "blueprint_events_published_total";
/// Events published since the last UTC midnight, by `stream` (kept from [`EVENTS_PUBLISHED`]).
pub const EVENTS_PUBLISHED_TODAY: &str = "blueprint_events_published_today";
/// Failed publish attempts, by `stream`.
pub const PUBLISH_FAILURES: &str = "blueprint_publish_failures_total";
/// Events of a consumed stream not yet applied (in the stream or the inbox), by `stream`.
pub const CONSUMER_LAG: &str = "blueprint_consumer_lag";
/// Events per applied batch, by `stream`.
pub const CONSUMER_BATCH_SIZE: &str = "blueprint_consumer_batch_size";
/// Events applied, by `stream`.
pub const CONSUMER_APPLIED: &str = "blueprint_consumer_applied_total";
/// Events applied since the last UTC midnight, by `stream` (kept from [`CONSUMER_APPLIED`]).
pub const CONSUMER_APPLIED_TODAY: &str = "blueprint_consumer_applied_today";
/// Failed attempts to apply an event (parked ones included), by `stream`.
pub const CONSUMER_FAILED: &str = "blueprint_consumer_failed_total";
/// Events given up on after their last attempt, by `stream`.
pub const CONSUMER_PARKED: &str = "blueprint_consumer_parked_total";
/// Event timestamp → applied by the consumer (end to end), by `stream`.
pub const EVENT_LATENCY: &str = "blueprint_event_latency_seconds";

/// The `operation` of a request no route matches: one label for every unknown path.
pub const UNMATCHED: &str = "unmatched";

/// Histogram buckets of latencies, in seconds: 100 µs to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Histogram buckets of batch sizes: 1 to 1000 events.
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// What kind of series a metric is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Counter,
    Gauge,
    /// With these bucket bounds.
    Histogram(&'static [f64]),
}

/// One metric Blueprint records: its name, kind, labels and help text.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    /// Seconds, when the value is a duration.
    pub seconds: bool,
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        seconds: false,
        help,
    }
}

const fn seconds(
    name: &'static str,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind: Kind::Histogram(LATENCY_BUCKETS),
        labels,
        seconds: true,
        help,
    }
}

/// Every metric Blueprint records: the one place they are described.
pub const METRICS: &[Metric] = &[
    metric(
        HTTP_REQUESTS,
        Kind::Counter,
        &["operation", "method", "status"],
        "HTTP requests answered, by route template, method and status.",
    ),
    seconds(
        HTTP_DURATION,
        &["operation", "method"],
        "Time to answer an HTTP request, to its response head.",
    ),
    metric(
        JOURNAL_QUEUE_DEPTH,
        Kind::Gauge,
        &["table"],
        "Journal records waiting to be published.",
    ),
    seconds(
        PUBLISH_LAG,
        &["table"],
        "Time from a journal write to its event being published.",
    ),
    metric(
        EVENTS_PUBLISHED,
        Kind::Counter,
        &["stream"],
        "Events published.",
    ),
    metric(
        EVENTS_PUBLISHED_TODAY,
        Kind::Gauge,
        &["stream"],
        "Events published by this process since the last UTC midnight.",
    ),
    metric(
        PUBLISH_FAILURES,
        Kind::Counter,
        &["stream"],
        "Failed attempts to publish events.",
    ),
    metric(
        CONSUMER_LAG,
        Kind::Gauge,
        &["stream"],
        "Events of a consumed stream not applied yet (in the stream or the inbox).",
    ),
    metric(
        CONSUMER_BATCH_SIZE,
        Kind::Histogram(BATCH_BUCKETS),
        &["stream"],
        "Events per applied batch.",
    ),
    metric(
        CONSUMER_APPLIED,
        Kind::Counter,
        &["stream"],
        "Events applied.",
    ),
    metric(
        CONSUMER_APPLIED_TODAY,
        Kind::Gauge,
        &["stream"],
        "Events applied by this process since the last UTC midnight.",
    ),
    metric(
        CONSUMER_FAILED,
        Kind::Counter,
        &["stream"],
        "Failed attempts to apply an event, parked ones included.",
    ),
    metric(
        CONSUMER_PARKED,
        Kind::Counter,
        &["stream"],
        "Events given up on after their last attempt.",
    ),
    seconds(
        EVENT_LATENCY,
        &["stream"],
        "Time from an event's timestamp to its being applied by a consumer.",
    ),
];
