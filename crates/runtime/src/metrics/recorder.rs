//! The process-wide recorder: metrics-exporter-prometheus's recorder (no HTTP
//! listener of its own: `service_router` serves it), told the descriptions and
//! buckets of [`METRICS`], and keeping the [`DAILY`] gauges.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use ::metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString,
    Unit,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::{
    CONSUMER_APPLIED, CONSUMER_APPLIED_TODAY, EVENTS_PUBLISHED, EVENTS_PUBLISHED_TODAY, Kind,
    METRICS,
};

/// The counters whose count since UTC midnight the recorder keeps as a gauge.
const DAILY: &[(&str, &str)] = &[
    (EVENTS_PUBLISHED, EVENTS_PUBLISHED_TODAY),
    (CONSUMER_APPLIED, CONSUMER_APPLIED_TODAY),
];

/// How often recorded histogram samples are folded into their buckets between
/// scrapes (so an unscraped service does not keep every sample).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder, once installed: renders what it holds.
#[derive(Debug, Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    daily: Arc<Daily>,
}

impl Exporter {
    /// Everything recorded so far, in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        self.daily.roll(utc_day(SystemTime::now()));
        self.handle.render()
    }
}

/// Install Blueprint's recorder as the process's `metrics` recorder, once;
/// later calls return the same one. `None` when the process already had another
/// recorder: what is recorded goes there, and `/_internal_/metrics` is not served.
pub fn install() -> Option<&'static Exporter> {
    static INSTALLED: OnceLock<Option<Exporter>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let (recorder, exporter) = build();
            ::metrics::set_global_recorder(recorder).ok()?;
            let handle = exporter.handle.clone();
            // Without a thread, the samples wait for the next scrape.
            let _ = std::thread::Builder::new()
                .name("blueprint-metrics".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        handle.run_upkeep();
                    }
                });
            Some(exporter)
        })
        .as_ref()
}

/// A recorder that knows Blueprint's metrics, and the exporter rendering it.
fn build() -> (BlueprintRecorder, Exporter) {
    let mut builder = PrometheusBuilder::new();
    for metric in METRICS {
        if let Kind::Histogram(buckets) = metric.kind {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(metric.name.to_owned()), buckets)
                .expect("only an empty list of buckets is refused");
        }
    }
    let inner = builder.build_recorder();
    for metric in METRICS {
        let name = KeyName::from_const_str(metric.name);
        let unit = metric.seconds.then_some(Unit::Seconds);
        let help = SharedString::const_str(metric.help);
        match metric.kind {
            Kind::Counter => inner.describe_counter(name, unit, help),
            Kind::Gauge => inner.describe_gauge(name, unit, help),
            Kind::Histogram(_) => inner.describe_histogram(name, unit, help),
        }
    }
    let daily = Arc::new(Daily::default());
    let exporter = Exporter {
        handle: inner.handle(),
        daily: daily.clone(),
    };
    (BlueprintRecorder { inner, daily }, exporter)
}

/// The Prometheus recorder, with a count since UTC midnight next to each
/// [`DAILY`] counter.
#[derive(Debug)]
struct BlueprintRecorder {
    inner: PrometheusRecorder,
    daily: Arc<Daily>,
}

impl Recorder for BlueprintRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let total = self.inner.register_counter(key, metadata);
        match DAILY.iter().find(|(counter, _)| *counter == key.name()) {
            Some((_, gauge)) => self.daily.counter(key, total, || {
                let labels: Vec<Label> = key.labels().cloned().collect();
                self.inner
                    .register_gauge(&Key::from_parts(*gauge, labels), metadata)
            }),
            None => total,
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.inner.register_histogram(key, metadata)
    }
}

/// The daily counts, one per series of a [`DAILY`] counter.
#[derive(Debug, Default)]
struct Daily {
    counts: Mutex<HashMap<Key, Arc<DayCount>>>,
}

impl Daily {
    /// The handle counting into `total` and into the day's gauge (made by `gauge`
    /// the first time `key` is seen).
    fn counter(&self, key: &Key, total: Counter, gauge: impl FnOnce() -> Gauge) -> Counter {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts
            .entry(key.clone())
            .or_insert_with(|| Arc::new(DayCount::new(total, gauge())));
        Counter::from_arc(count.clone())
    }

    /// Start a new day's counts where `day` has begun, so a quiet stream reads 0
    /// after midnight rather than yesterday's count.
    fn roll(&self, day: u64) {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for count in counts.values() {
            count.add(day, 0);
        }
    }
}

/// A counter that also counts into the current UTC day's gauge.
#[derive(Debug)]
struct DayCount {
    total: Counter,
    today: Gauge,
    /// The day counted (days since the Unix epoch, UTC) and its count.
    day: Mutex<(u64, u64)>,
}

impl DayCount {
    fn new(total: Counter, today: Gauge) -> Self {
        DayCount {
            total,
            today,
            day: Mutex::new((utc_day(SystemTime::now()), 0)),
        }
    }

    fn add(&self, day: u64, n: u64) {
        let mut counted = self.day.lock().unwrap_or_else(PoisonError::into_inner);
        if counted.0 != day {
            *counted = (day, 0);
        }
        counted.1 += n;
        self.today.set(counted.1 as f64);
    }
}

impl CounterFn for DayCount {
    fn increment(&self, value: u64) {
        self.total.increment(value);
        self.add(utc_day(SystemTime::now()), value);
    }

    fn absolute(&self, value: u64) {
        // A counter set from outside has no daily increments to count.
        self.total.absolute(value);
    }
}

/// Days since the Unix epoch, UTC, at `time`.
fn utc_day(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_count_starts_over_at_utc_midnight() {
        let (recorder, exporter) = build();
        let key = Key::from_parts(EVENTS_PUBLISHED, vec![Label::new("stream", "s")]);
        let counter =
            recorder.register_counter(&key, &Metadata::new("t", ::metrics::Level::INFO, None));
        counter.increment(3);
        counter.increment(2);
        let text = exporter.handle.render();
        assert!(
            text.contains("blueprint_events_published_total{stream=\"s\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("blueprint_events_published_today{stream=\"s\"} 5"),
            "{text}"
        );
        // Registering again (as `counter!` does each time) keeps counting the same series.
        let again =
            recorder.register_counter(&key, &Metadata::new("t", ::metrics::Level::INFO, None));
        again.increment(1);
        let tomorrow = utc_day(SystemTime::now()) + 1;
        exporter.daily.roll(tomorrow);
        let text = exporter.handle.render();
        assert!(
            text.contains("blueprint_events_published_total{stream=\"s\"} 6"),
            "{text}"
        );
        assert!(
            text.contains("blueprint_events_published_today{stream=\"s\"} 0"),
            "{text}"
        );
    }
}
