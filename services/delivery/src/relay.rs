//! The relay: per subscription (push or pull), a durable consumer of its stream (named
//! `delivery-<subscription id>`, created at the subscription's recorded start)
//! whose events become messages in the database, then are acked. One process at a
//! time relays a subscription: the holder of its relay lease (`shards.rs`). A message is
//! stored once per subscription and event (a unique index), so a redelivered
//! event stores nothing new. Messages are stored whatever the subscription's
//! status: a paused or disabled subscription gets them once active again.

use std::sync::Arc;
use std::time::Duration;

use blueprint::chrono::{SecondsFormat, Utc};
use blueprint::db::{Db, DbError};
use blueprint::serde_json::{self, Value, json};
use blueprint::stream::{ConsumerConfig, Message as StreamMessage, StartAt, StreamError, Streams};
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::dao::subscriptions;
use delivery_api::models::{Message, MessageStatus, Subscription, SubscriptionStatus};

use crate::bell::Bell;
use crate::shards::{Held, shard_key};
use crate::store::{self, Listed, Writes};

/// How long the relay waits after a failure before trying again.
const RETRY: Duration = Duration::from_secs(1);
/// Events fetched at once per subscription.
const BATCH: usize = 100;
/// Batches a relay stores after its lease ended, of what its consumer holds.
const DRAIN: usize = 10;

/// The stream consumer of a subscription.
pub fn consumer_name(subscription_id: &str) -> String {
    format!("delivery-{subscription_id}")
}

/// Where a subscription's consumer starts: what it recorded at creation.
pub fn start_at(subscription: &Subscription) -> StartAt {
    if let Some(sequence) = subscription
        .start_sequence
        .and_then(|s| u64::try_from(s).ok())
    {
        return StartAt::Sequence(sequence.max(1));
    }
    match subscription.start.as_str() {
        "earliest" => StartAt::Earliest,
        time => blueprint::chrono::DateTime::parse_from_rfc3339(time)
            .map(|t| StartAt::Time(t.with_timezone(&Utc)))
            .unwrap_or(StartAt::Latest),
    }
}

/// The consumer of `subscription`, created at its start or bound to its position.
pub async fn bind(
    streams: &Streams,
    subscription: &Subscription,
) -> Result<blueprint::stream::Consumer, StreamError> {
    let config = ConsumerConfig::new(consumer_name(&subscription.id))
        .start(start_at(subscription))
        .ack_wait(Duration::from_secs(30));
    streams.consumer(&subscription.stream, &config).await
}

/// A subscription's relay, run by the process holding its relay lease
/// (`shards.rs`): one reader per consumer, so events are stored in stream order.
#[derive(Debug, Clone)]
pub struct Relay {
    pub db: Db,
    pub streams: Streams,
    /// Rung (in every process) when messages were stored: the shard workers and
    /// pull mode's long polls.
    pub bell: Bell,
    /// This process's turns at SQLite's write lock.
    pub writes: Writes,
}

impl Relay {
    /// One subscription's relay while `held`: bind its consumer, then store what
    /// comes, batch after batch (a batch that cannot be stored is tried again
    /// before the next is fetched, so a key's events stay in order).
    pub async fn relay(self, key: Listed, held: Arc<Held>) {
        let scope = subscriptions::Scope {
            agency_id: key.agency_id,
        };
        let mut consumer = loop {
            if !held.holds() {
                return;
            }
            let subscription = match subscriptions::find_by_id(&self.db, &scope, &key.id).await {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(subscription = %key.id, error = %e, "relay: cannot read the subscription");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            match bind(&self.streams, &subscription).await {
                Ok(consumer) => {
                    if subscription.status == SubscriptionStatus::Creating {
                        let active = Subscription {
                            status: SubscriptionStatus::Active,
                            ..subscription
                        };
                        if let Err(e) = subscriptions::update(&self.db, &scope, &active).await {
                            tracing::warn!(subscription = %key.id, error = %e, "relay: cannot activate");
                        }
                    }
                    break consumer;
                }
                Err(e) => {
                    tracing::debug!(subscription = %key.id, error = %e, "relay: stream not ready");
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        // Once the lease is given up or lost, what the consumer already holds here
        // (a continuous pull buffers events ahead of `fetch`) is stored before the
        // relay ends, at most DRAIN batches: else those events would wait for the
        // stream's ack wait, behind newer events of their keys.
        let mut drained = 0;
        loop {
            let stopping = !held.holds();
            if stopping && drained >= DRAIN {
                return;
            }
            let wait = if stopping {
                Duration::ZERO
            } else {
                Duration::from_secs(1)
            };
            let batch = match consumer.fetch(BATCH, wait).await {
                Ok(batch) if batch.is_empty() && stopping => return,
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(subscription = %key.id, error = %e, "relay: fetch failed");
                    if stopping {
                        return;
                    }
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            drained += usize::from(stopping);
            loop {
                // The filter may have changed since the last batch.
                let stored = match subscriptions::find_by_id(&self.db, &scope, &key.id).await {
                    Ok(Some(subscription)) => self.store(&subscription, &batch).await,
                    Ok(None) => return,
                    Err(e) => Err(e),
                };
                match stored {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(subscription = %key.id, error = %e, "relay: cannot store messages");
                        if !held.holds() {
                            // Not acked: the stream delivers them again after the ack wait.
                            return;
                        }
                        tokio::time::sleep(RETRY).await;
                    }
                }
            }
            if let Err(e) = consumer.ack(&batch).await {
                tracing::warn!(subscription = %key.id, error = %e, "relay: ack failed (the events come again)");
            }
            self.bell.ring().await;
        }
    }

    /// Store the events the subscription wants as pending messages, due now:
    /// one statement for the batch (a redelivered event stores nothing).
    async fn store(
        &self,
        subscription: &Subscription,
        batch: &[StreamMessage],
    ) -> Result<(), DbError> {
        let now = Utc::now();
        let wanted = |event: &blueprint::stream::Event| {
            subscription
                .event_types
                .as_ref()
                .is_none_or(|types| types.is_empty() || types.contains(&event.event_type))
        };
        let messages: Vec<Message> = batch
            .iter()
            .filter(|received| wanted(&received.event))
            .map(|received| {
                let event = &received.event;
                Message {
                    id: format!("msg_{}", Uuid::new_v4().simple()),
                    subscription_id: subscription.id.clone(),
                    agency_id: subscription.agency_id,
                    stream: subscription.stream.clone(),
                    sequence: i64::try_from(received.sequence).unwrap_or(i64::MAX),
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    shard_key: shard_key(event),
                    body: body(received),
                    status: MessageStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    delivered_at: None,
                    last_error: None,
                    lease: None,
                }
            })
            .collect();
        store::store_messages(&self.db, &self.writes, &messages).await?;
        Ok(())
    }
}

/// A webhook's body: `{"type", "timestamp", "data"}` (Standard Webhooks'
/// recommended envelope), `data` the event as published (a string when it is
/// not JSON).
fn body(received: &StreamMessage) -> String {
    let event = &received.event;
    let data = serde_json::from_slice::<Value>(&event.payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&event.payload).into_owned()));
    json!({
        "type": event.event_type,
        "timestamp": event.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}
