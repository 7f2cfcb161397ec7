//! The dispatcher: one worker per shard of an active push subscription that this
//! process leases (`shards.rs`) posts the shard's messages as signed webhooks,
//! in stream order, one at a time (different shards and subscriptions proceed
//! concurrently, at most [`CONCURRENCY`] attempts at once per process). Each
//! attempt is logged; 2xx delivers, 410 disables the subscription,
//! anything else is retried on the subscription's delivery policy (429 and 503
//! no sooner than their `Retry-After`) and, once the policy has no retries left,
//! the message is dead until redriven.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blueprint::chrono::{DateTime, Utc};
use blueprint::db::{Db, DbError};
use blueprint::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use blueprint::reqwest;
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::dao::{attempts, messages, subscriptions};
use delivery_api::models::{
    Attempt, Message, MessageStatus, Subscription, SubscriptionMode, SubscriptionStatus,
};
use tokio::sync::Semaphore;

use crate::bell::Bell;
use crate::settings::Settings;
use crate::shards::{Held, Idle};
use crate::store::{Head, Listed, Unit, Writes};
use crate::target::CheckedResolver;
use crate::{policy, sign, store};

/// Attempts in flight at once, over every subscription.
const CONCURRENCY: usize = 64;
/// How much of an answer's body an attempt keeps.
pub const RESPONSE_KEPT: usize = 1024;
/// The longest `Retry-After` honoured, in seconds.
const MAX_RETRY_AFTER: u64 = 3600;
/// How often an idle shard looks for messages when nothing wakes it: from this,
/// doubling while it finds none...
const IDLE_MIN: Duration = Duration::from_millis(50);
/// ...to this (also the longest wait for a head not due yet, in case it changed).
const IDLE_MAX: Duration = Duration::from_secs(1);

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
    pub bell: Bell,
    /// This process's turns at SQLite's write lock.
    pub writes: Writes,
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

/// What a shard worker does after looking at its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Look at the (new) head now.
    Next,
    /// Look again after this long (throttled).
    Wait(Duration),
    /// The shard is no longer this worker's: the subscription is gone, paused,
    /// pulled, or in another epoch, or the lease no longer holds.
    Stop,
}

impl Dispatcher {
    pub fn new(db: Db, client: reqwest::Client, bell: Bell, writes: Writes) -> Self {
        Dispatcher {
            db,
            client,
            bell,
            writes,
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
        }
    }

    /// Work one shard of a push subscription while `held`: attempt its head
    /// (the pending message of the lowest stream sequence) when due, and only
    /// then the next — retries of the head hold the shard up; that is what in
    /// order means. Per webhook: one read (the head, with its subscription's
    /// `hash_code`; the subscription is read again only when that changed) and
    /// one transaction (the attempt logged, the message settled).
    pub async fn shard(self, subscription: Listed, unit: Unit, held: Arc<Held>) {
        let mut idle = Idle::new(IDLE_MIN, IDLE_MAX);
        let mut known = Known::default();
        while held.holds() {
            let bell = self.bell.notified();
            tokio::pin!(bell);
            bell.as_mut().enable();
            let head =
                store::shard_head(&self.db, &subscription.id, subscription.shards, unit.shard)
                    .await;
            let wait = match head {
                Ok(None) => idle.next(),
                Ok(Some(head)) => {
                    idle.reset();
                    let due_in = head
                        .message
                        .next_attempt_at
                        .and_then(|t| (t - Utc::now()).to_std().ok())
                        .unwrap_or_default();
                    if !due_in.is_zero() {
                        due_in.min(IDLE_MAX)
                    } else {
                        let Ok(_permit) = self.slots.acquire().await else {
                            return;
                        };
                        match self.attempt(head, &mut known, &unit, &held).await {
                            Ok(Step::Next) => continue,
                            Ok(Step::Wait(wait)) => wait,
                            Ok(Step::Stop) => return,
                            Err(e) => {
                                tracing::warn!(subscription = %subscription.id, error = %e, "delivery: attempt not recorded");
                                idle.next()
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(subscription = %subscription.id, error = %e, "delivery: cannot read a shard's head");
                    idle.next()
                }
            };
            let _ = tokio::time::timeout(wait, bell).await;
        }
    }

    /// The head's subscription: the worker's copy while its `hash_code` is the
    /// one the head was read with, else read again. `None` once deleted.
    async fn subscription(
        &self,
        head: &Head,
        known: &mut Known,
    ) -> Result<Option<Subscription>, DbError> {
        let Some(hash) = head.subscription_hash else {
            return Ok(None);
        };
        if let Some((known_hash, subscription)) = &known.0
            && *known_hash == hash
        {
            return Ok(Some(subscription.clone()));
        }
        let scope = subscriptions::Scope {
            agency_id: head.message.agency_id,
        };
        let found =
            subscriptions::find_by_id(&self.db, &scope, &head.message.subscription_id).await?;
        known.0 = found.clone().map(|subscription| (hash, subscription));
        Ok(found)
    }

    /// Post one message, log the attempt, and decide what comes next.
    async fn attempt(
        &self,
        head: Head,
        known: &mut Known,
        unit: &Unit,
        held: &Held,
    ) -> Result<Step, DbError> {
        let Some(subscription) = self.subscription(&head, known).await? else {
            return Ok(Step::Stop);
        };
        if subscription.status != SubscriptionStatus::Active
            || subscription.mode != SubscriptionMode::Push
            || subscription.shard_epoch != unit.epoch
        {
            return Ok(Step::Stop);
        }
        let message = head.message;
        if message.status != MessageStatus::Pending {
            return Ok(Step::Next);
        }
        if let Some(limit) = &subscription.throttle {
            let taken = {
                let _turn = self.writes.turn().await;
                store::take_throttle(&self.db, &subscription.id, limit.max_receives_per_second)
                    .await?
            };
            if !taken {
                // Over the subscription's rate in this second, over every process:
                // look again when the next one starts, without counting an attempt.
                let into = Utc::now().timestamp_subsec_millis();
                return Ok(Step::Wait(Duration::from_millis(
                    u64::from(1000_u32.saturating_sub(into)) + 1,
                )));
            }
        }
        if !held.holds() {
            return Ok(Step::Stop);
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

        let attempts_made = message.attempts.saturating_add(1);
        let now = Utc::now();
        let mut disabled = None;
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
                disabled = Some(Subscription {
                    status: SubscriptionStatus::Disabled,
                    disabled_reason: Some(format!(
                        "the endpoint answered 410 Gone at {}",
                        now.to_rfc3339_opts(blueprint::chrono::SecondsFormat::Secs, true)
                    )),
                    ..subscription
                });
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

        // The attempt, the message's next state (and a 410's disabled
        // subscription) in one transaction: one commit per webhook.
        let scope = messages::Scope {
            agency_id: next.agency_id,
        };
        {
            let _turn = self.writes.turn().await;
            let mut tx = self.db.begin_write().await?;
            attempts::insert(
                &mut tx,
                &attempts::Scope {
                    agency_id: scope.agency_id,
                },
                &attempt,
            )
            .await?;
            messages::update(&mut tx, &scope, &next).await?;
            if let Some(disabled) = &disabled {
                let subscription_scope = subscriptions::Scope {
                    agency_id: disabled.agency_id,
                };
                subscriptions::update(&mut tx, &subscription_scope, disabled).await?;
            }
            tx.commit().await?;
        }
        if let Some(disabled) = disabled {
            known.0 = None;
            tracing::info!(subscription = %disabled.id, "delivery: disabled (410 Gone)");
        }
        Ok(Step::Next)
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

/// A shard worker's copy of its subscription, with the `hash_code` it was
/// read under.
#[derive(Debug, Default)]
struct Known(Option<(i64, Subscription)>);

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
