//! The dispatcher: due messages of active push subscriptions are posted as signed
//! webhooks, each attempt logged; 2xx delivers, 410 disables the subscription,
//! anything else is retried on the subscription's delivery policy (429 and 503
//! no sooner than their `Retry-After`) and, once the policy has no retries left,
//! the message is dead until redriven.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blueprint::chrono::{DateTime, Utc};
use blueprint::db::{Db, DbError};
use blueprint::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use blueprint::reqwest;
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::dao::{attempts, messages, subscriptions};
use delivery_api::models::{Attempt, Message, MessageStatus, Subscription, SubscriptionStatus};
use tokio::sync::{Notify, Semaphore};

use crate::settings::Settings;
use crate::target::CheckedResolver;
use crate::{policy, sign, store};

/// Attempts in flight at once, over every subscription.
const CONCURRENCY: usize = 64;
/// How much of an answer's body an attempt keeps.
pub const RESPONSE_KEPT: usize = 1024;
/// The longest `Retry-After` honoured, in seconds.
const MAX_RETRY_AFTER: u64 = 3600;
/// How often due messages are looked for when nothing wakes the dispatcher.
const POLL: Duration = Duration::from_millis(200);

/// The HTTP client webhooks are sent with: no redirects followed, no proxy, the
/// target policy applied to every resolved address.
pub fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(settings.attempt_timeout)
        .timeout(settings.attempt_timeout)
        .user_agent(concat!("blueprint-delivery/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(CheckedResolver(Arc::new(settings.targets.clone())))
        .build()
}

#[derive(Debug, Clone)]
pub struct Dispatcher {
    pub db: Db,
    pub client: reqwest::Client,
    /// Rung when messages are stored or requeued.
    pub wake: Arc<Notify>,
    busy: Arc<Mutex<HashSet<String>>>,
    throttle: Arc<Mutex<Throttle>>,
    slots: Arc<Semaphore>,
}

/// What one attempt came to.
#[derive(Debug)]
struct Outcome {
    status: Option<StatusCode>,
    retry_after: Option<Duration>,
    response: Option<String>,
    error: Option<String>,
}

impl Dispatcher {
    pub fn new(db: Db, client: reqwest::Client, wake: Arc<Notify>) -> Self {
        Dispatcher {
            db,
            client,
            wake,
            busy: Arc::default(),
            throttle: Arc::default(),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
        }
    }

    /// Attempt due messages as they fall due, until dropped.
    pub async fn run(self) {
        loop {
            let busy: Vec<String> = self.lock_busy().iter().cloned().collect();
            match store::due_messages(&self.db, &busy, CONCURRENCY as i64).await {
                Ok(due) => {
                    for key in due {
                        let Ok(permit) = self.slots.clone().acquire_owned().await else {
                            return;
                        };
                        self.lock_busy().insert(key.id.clone());
                        let this = self.clone();
                        tokio::spawn(async move {
                            if let Err(e) = this.attempt(&key).await {
                                tracing::warn!(message = %key.id, error = %e, "delivery: attempt not recorded");
                            }
                            this.lock_busy().remove(&key.id);
                            drop(permit);
                            this.wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "delivery: cannot look for due messages"),
            }
            let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
        }
    }

    fn lock_busy(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Post one message, log the attempt, and decide what comes next.
    async fn attempt(&self, key: &store::Key) -> Result<(), DbError> {
        let scope = messages::Scope {
            agency_id: key.agency_id,
        };
        let Some(message) = messages::find_by_id(&self.db, &scope, &key.id).await? else {
            return Ok(());
        };
        let subscription_scope = subscriptions::Scope {
            agency_id: key.agency_id,
        };
        let Some(subscription) =
            subscriptions::find_by_id(&self.db, &subscription_scope, &message.subscription_id)
                .await?
        else {
            return Ok(());
        };
        if message.status != MessageStatus::Pending
            || subscription.status != SubscriptionStatus::Active
        {
            return Ok(());
        }
        if let Some(limit) = &subscription.throttle {
            let taken = self
                .throttle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(
                    &subscription.id,
                    limit.max_receives_per_second,
                    Instant::now(),
                );
            if let Err(wait) = taken {
                // Over the subscription's rate: due again when its second is over,
                // without counting an attempt.
                let later = Message {
                    next_attempt_at: Some(at(Utc::now(), wait)),
                    ..message
                };
                messages::update(&self.db, &scope, &later).await?;
                return Ok(());
            }
        }

        let attempted_at = Utc::now();
        let started = Instant::now();
        let outcome = self.post(&subscription, &message, attempted_at).await;
        let latency = started.elapsed();

        let attempt = Attempt {
            id: format!("att_{}", Uuid::new_v4().simple()),
            message_id: message.id.clone(),
            subscription_id: subscription.id.clone(),
            agency_id: message.agency_id,
            attempted_at,
            status_code: outcome.status.map(|s| i32::from(s.as_u16())),
            latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
            response: outcome.response.clone(),
            error: outcome.error.clone(),
        };
        attempts::insert(
            &self.db,
            &attempts::Scope {
                agency_id: key.agency_id,
            },
            &attempt,
        )
        .await?;

        let attempts_made = message.attempts.saturating_add(1);
        let now = Utc::now();
        let next = match outcome.status {
            Some(status) if status.is_success() => Message {
                status: MessageStatus::Delivered,
                attempts: attempts_made,
                next_attempt_at: None,
                delivered_at: Some(now),
                last_error: None,
                ..message
            },
            Some(StatusCode::GONE) => {
                // The endpoint is gone: stop the subscription; the message waits
                // for it to be resumed.
                let disabled = Subscription {
                    status: SubscriptionStatus::Disabled,
                    disabled_reason: Some(format!(
                        "the endpoint answered 410 Gone at {}",
                        now.to_rfc3339_opts(blueprint::chrono::SecondsFormat::Secs, true)
                    )),
                    ..subscription
                };
                subscriptions::update(&self.db, &subscription_scope, &disabled).await?;
                tracing::info!(subscription = %disabled.id, "delivery: disabled (410 Gone)");
                Message {
                    attempts: attempts_made,
                    next_attempt_at: Some(now),
                    last_error: Some("410 Gone: subscription disabled".into()),
                    ..message
                }
            }
            _ => {
                let error = outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| match outcome.status {
                        Some(status) => format!("answered {status}"),
                        None => "no answer".into(),
                    });
                let unit = random_unit();
                match policy::jittered(&subscription.delivery_policy, attempts_made, unit) {
                    Some(delay) => {
                        let delay = delay.max(outcome.retry_after.unwrap_or_default());
                        Message {
                            attempts: attempts_made,
                            next_attempt_at: Some(at(now, delay)),
                            last_error: Some(error),
                            ..message
                        }
                    }
                    None => Message {
                        status: MessageStatus::Dead,
                        attempts: attempts_made,
                        next_attempt_at: None,
                        last_error: Some(error),
                        ..message
                    },
                }
            }
        };
        messages::update(&self.db, &scope, &next).await?;
        Ok(())
    }

    /// Send the webhook (signed now) and read at most [`RESPONSE_KEPT`] bytes of
    /// the answer.
    async fn post(
        &self,
        subscription: &Subscription,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Outcome {
        let timestamp = now.timestamp();
        // The current secret, and the one it replaced while that still signs.
        let previous = subscription.previous_secret.as_deref().filter(|_| {
            subscription
                .previous_secret_expires_at
                .is_some_and(|end| now < end)
        });
        let keys: Vec<Vec<u8>> = [Some(subscription.secret.as_str()), previous]
            .into_iter()
            .flatten()
            .filter_map(sign::secret_key)
            .collect();
        let signature = sign::signature(&keys, &message.id, timestamp, message.body.as_bytes());
        let mut headers = HeaderMap::new();
        for (name, value) in subscription.headers.iter().flatten() {
            match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(name), Ok(value)) => {
                    headers.insert(name, value);
                }
                _ => {
                    tracing::debug!(subscription = %subscription.id, header = %name, "delivery: header skipped")
                }
            }
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let standard = [
            ("webhook-id", message.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        for (name, value) in standard {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        let sent = self
            .client
            .post(&subscription.url)
            .headers(headers)
            .body(message.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                return Outcome {
                    status: None,
                    retry_after: None,
                    response: None,
                    error: Some(describe(&e)),
                };
            }
        };
        let status = response.status();
        let retry_after = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
        .then(|| retry_after(response.headers(), Utc::now()))
        .flatten();
        let mut kept = Vec::new();
        let mut error = None;
        while kept.len() < RESPONSE_KEPT {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())])
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        Outcome {
            status: Some(status),
            retry_after,
            response: (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned()),
            error: if status.is_success() { None } else { error },
        }
    }
}

/// `throttle.max_receives_per_second`, per subscription in this process: a
/// window of one second, counting the attempts started in it.
#[derive(Debug, Default)]
struct Throttle {
    windows: HashMap<String, (Instant, i32)>,
}

impl Throttle {
    /// Take one attempt of `subscription`'s budget of `per_second`, or how long
    /// until its window opens again.
    fn take(&mut self, subscription: &str, per_second: i32, now: Instant) -> Result<(), Duration> {
        const WINDOW: Duration = Duration::from_secs(1);
        let (start, count) = self
            .windows
            .entry(subscription.to_owned())
            .or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            (*start, *count) = (now, 0);
        }
        if *count < per_second.max(1) {
            *count += 1;
            return Ok(());
        }
        Err(WINDOW.saturating_sub(now.duration_since(*start)))
    }
}

/// `Retry-After`: seconds, or an HTTP date; at most [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds = match text.parse::<u64>() {
        Ok(seconds) => seconds,
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(text).ok()?;
            u64::try_from((at.with_timezone(&Utc) - now).num_seconds()).unwrap_or(0)
        }
    };
    Some(Duration::from_secs(seconds.min(MAX_RETRY_AFTER)))
}

pub(crate) fn at(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    now + blueprint::chrono::Duration::from_std(delay)
        .unwrap_or(blueprint::chrono::Duration::zero())
}

/// A uniform draw in -1..=1 for jitter.
pub(crate) fn random_unit() -> f64 {
    let draw = getrandom::u64().unwrap_or(u64::MAX / 2);
    (draw as f64 / u64::MAX as f64) * 2.0 - 1.0
}

/// A transport error in a few words, with its cause (the target policy's
/// refusal, a timeout, a refused connection).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_counts_per_second_and_subscription() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        assert_eq!(throttle.take("a", 2, start), Ok(()));
        assert_eq!(throttle.take("a", 2, start), Ok(()));
        let later = start + Duration::from_millis(300);
        assert_eq!(
            throttle.take("a", 2, later),
            Err(Duration::from_millis(700))
        );
        assert_eq!(throttle.take("b", 2, later), Ok(()));
        assert_eq!(
            throttle.take("a", 2, start + Duration::from_secs(1)),
            Ok(())
        );
    }

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 00:01:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3600)));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
