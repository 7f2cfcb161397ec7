//! Pull mode (Amazon SQS's model): a pull subscription's messages are stored by
//! the relay as for push, but no dispatcher posts them. A receiver leases a
//! batch (`receive`): each message is hidden from other receivers until its
//! lease ends, and counts an attempt. It then answers for each lease: `ack`
//! (delivered), `nack` (retried on the delivery policy, dead once it has no
//! retries left) or `delay` (visible again after that long; the lease holds
//! until then). A lease left unanswered ends at its visibility timeout and the
//! message is received again, one attempt more (dead instead when that
//! attempt was the policy's last, as after a nack). A lease that no longer holds
//! (answered, expired, another subscription's) is refused, never applied.
//!
//! Every step is logged in `attempts` beside push attempts: `received`,
//! `acked`, `delayed`, and as errors `nacked` and `lease expired`.

use std::time::Duration;

use blueprint::chrono::Utc;
use blueprint::db::{DbError, Dialect};
use blueprint::serde_json::{self, Value};
use blueprint::tokio::{self, time::Instant};
use blueprint::uuid::Uuid;
use delivery_api::dao::attempts;
use delivery_api::models::{
    Attempt, LeaseDelay, LeaseRefusal, LeaseResult, MessageStatus, PulledEvent, ReceiveForm,
    ReceivedMessage, Subscription, SubscriptionStatus,
};

use crate::api::Delivery;
use crate::dispatch::{at, random_unit};
use crate::policy;
use crate::store::{Leased, Queue, Settled};

/// A long poll looks again at least this often: messages also become visible by
/// time (a nack's delay, an expired lease), which rings no bell...
const RECHECK: Duration = Duration::from_secs(1);
/// ...and on SQLite, where another process's relay rings no bell here, this often.
const RECHECK_SQLITE: Duration = Duration::from_millis(250);
/// Why a lease is refused.
const STALE: &str = "unknown or expired lease, or already answered for";

/// How a receiver answers for a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Ack,
    Nack,
}

impl Delivery {
    /// Lease visible messages of `subscription` (active, pull) to the caller,
    /// waiting up to `form.wait` seconds for the first: woken by the bell
    /// when messages are stored (on PostgreSQL, by any process), and looking
    /// again every [`RECHECK`] ([`RECHECK_SQLITE`]).
    pub async fn receive(
        &self,
        subscription: &Subscription,
        form: &ReceiveForm,
    ) -> Result<Vec<ReceivedMessage>, DbError> {
        let deadline = Instant::now() + Duration::from_secs(u64::try_from(form.wait).unwrap_or(0));
        let queue = Queue {
            agency_id: subscription.agency_id,
            subscription_id: &subscription.id,
        };
        loop {
            // Listen before looking, so a message stored meanwhile still wakes us.
            let arrived = self.bell.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let leased = if subscription.status == SubscriptionStatus::Active {
                queue.lease(&self.db, form.max, form.visibility).await?
            } else {
                Vec::new()
            };
            let leased = self.drop_exhausted(subscription, leased).await?;
            let now = Instant::now();
            if !leased.is_empty() || now >= deadline {
                return Ok(leased.into_iter().map(received).collect());
            }
            let recheck = match self.db.dialect() {
                Dialect::Postgres => RECHECK,
                Dialect::Sqlite => RECHECK_SQLITE,
            };
            let _ = tokio::time::timeout_at(deadline.min(now + recheck), arrived).await;
        }
    }

    /// Ack or nack each lease; the answer lists which were applied.
    pub async fn answer(
        &self,
        subscription: &Subscription,
        leases: &[String],
        answer: Answer,
    ) -> Result<LeaseResult, DbError> {
        let queue = Queue {
            agency_id: subscription.agency_id,
            subscription_id: &subscription.id,
        };
        let mut result = LeaseResult {
            succeeded: Vec::new(),
            refused: Vec::new(),
        };
        for lease in leases {
            let Some(held) = queue.held(&self.db, lease).await? else {
                result.refused.push(refusal(lease));
                continue;
            };
            let now = Utc::now();
            let next = match answer {
                Answer::Ack => Settled {
                    status: MessageStatus::Delivered,
                    next_attempt_at: None,
                    delivered_at: Some(now),
                    last_error: None,
                },
                Answer::Nack => {
                    let delay = policy::jittered(
                        &subscription.delivery_policy,
                        held.attempts,
                        random_unit(),
                    );
                    Settled {
                        status: if delay.is_some() {
                            MessageStatus::Pending
                        } else {
                            MessageStatus::Dead
                        },
                        next_attempt_at: delay.map(|delay| at(now, delay)),
                        delivered_at: None,
                        last_error: Some("nacked".to_owned()),
                    }
                }
            };
            // The lease may have ended since it was read: then nothing changes.
            let Some(settled) = queue.settle(&self.db, lease, next).await? else {
                result.refused.push(refusal(lease));
                continue;
            };
            let (response, error) = match answer {
                Answer::Ack => (Some("acked"), None),
                Answer::Nack => (None, Some("nacked")),
            };
            self.log(subscription, &settled.id, response, error).await?;
            result.succeeded.push(lease.clone());
        }
        Ok(result)
    }

    /// Move the end of each lease (SQS's ChangeMessageVisibility).
    pub async fn delay(
        &self,
        subscription: &Subscription,
        delays: &[LeaseDelay],
    ) -> Result<LeaseResult, DbError> {
        let queue = Queue {
            agency_id: subscription.agency_id,
            subscription_id: &subscription.id,
        };
        let mut result = LeaseResult {
            succeeded: Vec::new(),
            refused: Vec::new(),
        };
        for delay in delays {
            match queue.delay(&self.db, &delay.lease, delay.seconds).await? {
                Some(held) => {
                    let response = format!("delayed {} s", delay.seconds);
                    self.log(subscription, &held.id, Some(&response), None)
                        .await?;
                    result.succeeded.push(delay.lease.clone());
                }
                None => result.refused.push(refusal(&delay.lease)),
            }
        }
        Ok(result)
    }

    /// Log the receives, and take out the messages whose expired lease was the
    /// last attempt the policy allows: dead (through their new lease), as a
    /// nack would have made them.
    async fn drop_exhausted(
        &self,
        subscription: &Subscription,
        leased: Vec<Leased>,
    ) -> Result<Vec<Leased>, DbError> {
        let queue = Queue {
            agency_id: subscription.agency_id,
            subscription_id: &subscription.id,
        };
        let mut kept = Vec::with_capacity(leased.len());
        for message in leased {
            if message.expired {
                self.log(subscription, &message.id, None, Some("lease expired"))
                    .await?;
                let retry = message.attempts.saturating_sub(1);
                if policy::jittered(&subscription.delivery_policy, retry, 0.0).is_none() {
                    let dead = Settled {
                        status: MessageStatus::Dead,
                        next_attempt_at: None,
                        delivered_at: None,
                        last_error: Some("lease expired".to_owned()),
                    };
                    queue.settle(&self.db, &message.lease, dead).await?;
                    continue;
                }
            }
            self.log(subscription, &message.id, Some("received"), None)
                .await?;
            kept.push(message);
        }
        Ok(kept)
    }

    /// One line of a pull message's log: no status code, no latency.
    async fn log(
        &self,
        subscription: &Subscription,
        message_id: &str,
        response: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), DbError> {
        let attempt = Attempt {
            id: format!("att_{}", Uuid::new_v4().simple()),
            message_id: message_id.to_owned(),
            subscription_id: subscription.id.clone(),
            agency_id: subscription.agency_id,
            attempted_at: Utc::now(),
            status_code: None,
            latency_ms: 0,
            response: response.map(str::to_owned),
            error: error.map(str::to_owned),
        };
        let scope = attempts::Scope {
            agency_id: subscription.agency_id,
        };
        attempts::insert(&self.db, &scope, &attempt).await
    }
}

/// A leased message as its receiver sees it: the event out of the stored
/// webhook body (`{"type", "timestamp", "data"}`).
fn received(message: Leased) -> ReceivedMessage {
    let body: Value = serde_json::from_str(&message.body).unwrap_or(Value::Null);
    let time = body
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| blueprint::chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(message.visible_until, |t| t.with_timezone(&Utc));
    ReceivedMessage {
        id: message.id,
        event: PulledEvent {
            r#type: message.event_type,
            payload: body.get("data").cloned().unwrap_or(Value::Null),
            time,
        },
        attempts: message.attempts,
        lease: message.lease,
        visible_until: message.visible_until,
    }
}

fn refusal(lease: &str) -> LeaseRefusal {
    LeaseRefusal {
        lease: lease.to_owned(),
        reason: STALE.to_owned(),
    }
}
