//! Reading `/_internal_/metrics` back: the Prometheus text format parsed into
//! samples ([`Scrape`]), and the figures `dev status` shows ([`Figures`]).
//!
//! Hand-written rather than a crate: the format is a line per sample, and the
//! parsers on crates.io either split labels with a regular expression that stops
//! at the first `}` (our `operation` labels are route templates, `/users/{id}`)
//! or are LGPL. Tests check this reader against the Prometheus Python client's
//! parser on the runtime's own output.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    CONSUMER_APPLIED, CONSUMER_APPLIED_TODAY, CONSUMER_FAILED, CONSUMER_LAG, CONSUMER_PARKED,
    EVENT_LATENCY, EVENTS_PUBLISHED, EVENTS_PUBLISHED_TODAY, HTTP_DURATION, HTTP_REQUESTS,
    JOURNAL_QUEUE_DEPTH, PUBLISH_FAILURES, PUBLISH_LAG,
};

/// A line of the text format that is not a sample, comment or blank line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReadError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// One sample: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every sample of a scrape, in order (`# HELP`/`# TYPE` lines are skipped; a
/// histogram is its `_bucket`, `_sum` and `_count` samples).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parse the Prometheus text format (version 0.0.4).
    pub fn parse(text: &str) -> Result<Scrape, ReadError> {
        let mut samples = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let sample = parse_sample(line).map_err(|message| ReadError {
                line: index + 1,
                message,
            })?;
            samples.push(sample);
        }
        Ok(Scrape { samples })
    }

    /// The samples named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The values of `name` by the value of its label `label`, summed over its other labels.
    pub fn by_label(&self, name: &str, label: &str) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for sample in self.named(name) {
            let key = sample.label(label).unwrap_or_default().to_owned();
            *out.entry(key).or_insert(0.0) += sample.value;
        }
        out
    }

    /// The histogram `name` (its `_bucket` samples accepted by `keep`), every
    /// matching series' buckets added up.
    pub fn histogram(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> Buckets {
        let bucket = format!("{name}_bucket");
        let mut bounds: Vec<(f64, f64)> = Vec::new();
        for sample in self.named(&bucket).filter(|s| keep(s)) {
            let Some(le) = sample.label("le").and_then(|le| parse_value(le).ok()) else {
                continue;
            };
            match bounds.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, count)) => *count += sample.value,
                None => bounds.push((le, sample.value)),
            }
        }
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        Buckets { cumulative: bounds }
    }
}

/// A histogram's cumulative buckets: `(upper bound, observations ≤ it)`, by bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets {
    pub cumulative: Vec<(f64, f64)>,
}

impl Buckets {
    /// Observations in all.
    pub fn count(&self) -> f64 {
        self.cumulative.last().map_or(0.0, |(_, n)| *n)
    }

    /// The `q` quantile (0..=1) estimated as Prometheus' `histogram_quantile`
    /// does: linear within the bucket it falls in; the highest finite bound when
    /// it falls in `+Inf`. `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(bound, count) in &self.cumulative {
            if count >= rank {
                if bound.is_infinite() {
                    return Some(lower.0);
                }
                let within = count - lower.1;
                let share = if within > 0.0 {
                    (rank - lower.1) / within
                } else {
                    1.0
                };
                return Some(lower.0 + (bound - lower.0) * share);
            }
            lower = (bound, count);
        }
        Some(lower.0)
    }
}

/// p50 and p99 of a histogram, in its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p99: f64,
}

impl Quantiles {
    fn of(buckets: &Buckets) -> Option<Quantiles> {
        Some(Quantiles {
            p50: buckets.quantile(0.5)?,
            p99: buckets.quantile(0.99)?,
        })
    }
}

/// The key figures of one service's metrics, for `dev status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// HTTP requests answered.
    pub requests: u64,
    /// Of which 5xx.
    pub server_errors: u64,
    /// Latency over all operations, in seconds.
    pub latency: Option<Quantiles>,
    /// Per operation (route template).
    pub operations: BTreeMap<String, Operation>,
    /// Journal records waiting to be published, by table.
    pub queue_depth: BTreeMap<String, u64>,
    /// Journal write → published over all tables, in seconds.
    pub publish_lag: Option<Quantiles>,
    /// By stream this service publishes.
    pub published: BTreeMap<String, Published>,
    /// By stream this service consumes.
    pub consumed: BTreeMap<String, Consumed>,
}

/// The figures of one HTTP operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Operation {
    pub requests: u64,
    pub server_errors: u64,
    pub latency: Option<Quantiles>,
}

/// The figures of one published stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    pub events: u64,
    /// Since the last UTC midnight.
    pub today: u64,
    pub failures: u64,
}

/// The figures of one consumed stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consumed {
    /// Events not applied yet.
    pub lag: u64,
    pub applied: u64,
    /// Since the last UTC midnight.
    pub applied_today: u64,
    pub failed: u64,
    pub parked: u64,
    /// Event timestamp → applied, in seconds.
    pub latency: Option<Quantiles>,
}

impl Figures {
    /// The figures of a scrape's text.
    pub fn from_text(text: &str) -> Result<Figures, ReadError> {
        Ok(Figures::from_scrape(&Scrape::parse(text)?))
    }

    /// The figures of a parsed scrape.
    pub fn from_scrape(scrape: &Scrape) -> Figures {
        let mut figures = Figures::default();
        for sample in scrape.named(HTTP_REQUESTS) {
            let operation = sample.label("operation").unwrap_or_default();
            let entry = figures.operations.entry(operation.to_owned()).or_default();
            let n = count(sample.value);
            let server_error = sample.label("status").is_some_and(|s| s.starts_with('5'));
            entry.requests += n;
            figures.requests += n;
            if server_error {
                entry.server_errors += n;
                figures.server_errors += n;
            }
        }
        for (operation, entry) in &mut figures.operations {
            let buckets = scrape.histogram(HTTP_DURATION, |s| {
                s.label("operation") == Some(operation.as_str())
            });
            entry.latency = Quantiles::of(&buckets);
        }
        figures.latency = Quantiles::of(&scrape.histogram(HTTP_DURATION, |_| true));
        figures.queue_depth = counts(scrape.by_label(JOURNAL_QUEUE_DEPTH, "table"));
        figures.publish_lag = Quantiles::of(&scrape.histogram(PUBLISH_LAG, |_| true));
        let published = [
            (
                EVENTS_PUBLISHED,
                (|p, n| p.events = n) as fn(&mut Published, u64),
            ),
            (EVENTS_PUBLISHED_TODAY, |p, n| p.today = n),
            (PUBLISH_FAILURES, |p, n| p.failures = n),
        ];
        for (name, set) in published {
            for (stream, n) in counts(scrape.by_label(name, "stream")) {
                set(figures.published.entry(stream).or_default(), n);
            }
        }
        let consumed = [
            (CONSUMER_LAG, (|c, n| c.lag = n) as fn(&mut Consumed, u64)),
            (CONSUMER_APPLIED, |c, n| c.applied = n),
            (CONSUMER_APPLIED_TODAY, |c, n| c.applied_today = n),
            (CONSUMER_FAILED, |c, n| c.failed = n),
            (CONSUMER_PARKED, |c, n| c.parked = n),
        ];
        for (name, set) in consumed {
            for (stream, n) in counts(scrape.by_label(name, "stream")) {
                set(figures.consumed.entry(stream).or_default(), n);
            }
        }
        for (stream, entry) in &mut figures.consumed {
            let buckets = scrape.histogram(EVENT_LATENCY, |s| {
                s.label("stream") == Some(stream.as_str())
            });
            entry.latency = Quantiles::of(&buckets);
        }
        figures
    }

    /// Requests per second between an `earlier` scrape of the same process and
    /// this one, `elapsed` apart (0 when the process restarted in between).
    pub fn requests_per_second(&self, earlier: &Figures, elapsed: Duration) -> f64 {
        let seconds = elapsed.as_secs_f64();
        if seconds <= 0.0 {
            return 0.0;
        }
        self.requests.saturating_sub(earlier.requests) as f64 / seconds
    }
}

fn count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

fn counts(values: BTreeMap<String, f64>) -> BTreeMap<String, u64> {
    values.into_iter().map(|(k, v)| (k, count(v))).collect()
}

/// `name{labels} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("expected a metric name at {line:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| format!("{name}: no value"))
        .and_then(|v| parse_value(v).map_err(|e| format!("{name}: {e}")))?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("{name}: timestamp {timestamp:?} is not an integer"))?;
    }
    if let Some(extra) = fields.next() {
        return Err(format!("{name}: unexpected {extra:?} after the value"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The labels after `{`, up to and including `}`; what follows.
fn parse_labels<'a>(mut text: &'a str, out: &mut Vec<(String, String)>) -> Result<&'a str, String> {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix('}') {
            return Ok(rest);
        }
        let (name, rest) = text
            .split_once('=')
            .ok_or_else(|| format!("a label without `=` at {text:?}"))?;
        let name = name.trim();
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("invalid label name {name:?}"));
        }
        let rest = rest
            .trim_start()
            .strip_prefix('"')
            .ok_or_else(|| format!("label {name}: the value is not quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err(format!("label {name}: unterminated value")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("label {name}: unterminated value")),
            }
        };
        out.push((name.to_owned(), value));
        text = rest[end + 1..].trim_start();
        if let Some(after) = text.strip_prefix(',') {
            text = after;
        } else if !text.starts_with('}') {
            return Err(format!("expected `,` or `}}` after label {name}"));
        }
    }
}

/// A sample value: a float, `+Inf`, `-Inf` or `NaN`.
fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text
            .parse::<f64>()
            .map_err(|_| format!("{text:?} is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_escapes_special_values_and_timestamps() {
        let text = "# HELP x A help line.\n# TYPE x counter\n\
            x{a=\"/users/{id}\",b=\"say \\\"hi\\\"\\n\\\\\",} 3 1700000000000\n\
            y +Inf\nz{} NaN\n\n";
        let scrape = Scrape::parse(text).expect("parses");
        let x = &scrape.samples[0];
        assert_eq!(x.label("a"), Some("/users/{id}"));
        assert_eq!(x.label("b"), Some("say \"hi\"\n\\"));
        assert_eq!(x.value, 3.0);
        assert_eq!(scrape.samples[1].value, f64::INFINITY);
        assert!(scrape.samples[2].value.is_nan());
    }

    #[test]
    fn bad_lines_are_errors_with_their_line() {
        for (text, message) in [
            ("ok 1\nx{a=\"b} 1", "label a: unterminated value"),
            ("ok 1\nx{a=b} 1", "label a: the value is not quoted"),
            (
                "ok 1\nx{a=\"b\" c=\"d\"} 1",
                "expected `,` or `}` after label a",
            ),
            ("ok 1\nx one", "x: \"one\" is not a number"),
            ("ok 1\nx", "x: no value"),
            ("ok 1\n{a=\"b\"} 1", "expected a metric name"),
        ] {
            let error = Scrape::parse(text).expect_err(text);
            assert_eq!(error.line, 2, "{text}");
            assert!(error.message.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn quantiles_interpolate_within_buckets_as_prometheus_does() {
        let buckets = Buckets {
            cumulative: vec![(0.1, 0.0), (0.25, 3.0), (0.5, 4.0), (f64::INFINITY, 4.0)],
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(buckets.quantile(0.5).expect("p50"), 0.2));
        assert!(close(buckets.quantile(0.99).expect("p99"), 0.49));
        // A quantile in the +Inf bucket is the highest finite bound.
        let overflow = Buckets {
            cumulative: vec![(0.1, 1.0), (f64::INFINITY, 10.0)],
        };
        assert_eq!(overflow.quantile(0.99), Some(0.1));
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn figures_add_up_series_and_rates_compare_two_scrapes() {
        let text = "\
blueprint_http_requests_total{operation=\"/a\",method=\"GET\",status=\"200\"} 8
blueprint_http_requests_total{operation=\"/a\",method=\"GET\",status=\"503\"} 2
blueprint_http_requests_total{operation=\"unmatched\",method=\"GET\",status=\"404\"} 5
blueprint_journal_queue_depth{table=\"users\"} 4
blueprint_consumer_lag{stream=\"s\"} 9
blueprint_consumer_failed_total{stream=\"s\"} 1
";
        let figures = Figures::from_text(text).expect("parses");
        assert_eq!((figures.requests, figures.server_errors), (15, 2));
        assert_eq!(figures.operations["/a"].requests, 10);
        assert_eq!(figures.queue_depth["users"], 4);
        assert_eq!(figures.consumed["s"].lag, 9);
        assert_eq!(figures.consumed["s"].failed, 1);
        let earlier = Figures {
            requests: 5,
            ..Figures::default()
        };
        let rate = figures.requests_per_second(&earlier, Duration::from_secs(2));
        assert_eq!(rate, 5.0);
    }
}
