//! The relay: per subscription (push or pull), a durable consumer of its stream (named
//! `delivery-<subscription id>`, created at the subscription's recorded start)
//! whose events become messages in the database, then are acked. A message is
//! stored once per subscription and event (a unique index), so a redelivered
//! event stores nothing new. Messages are stored whatever the subscription's
//! status: a paused or disabled subscription gets them once active again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use blueprint::chrono::{SecondsFormat, Utc};
use blueprint::db::{Db, DbError};
use blueprint::serde_json::{self, Value, json};
use blueprint::stream::{ConsumerConfig, Message as StreamMessage, StartAt, StreamError, Streams};
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::dao::{messages, subscriptions};
use delivery_api::models::{Message, MessageStatus, Subscription, SubscriptionStatus};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::store;

/// How often the relay looks for new and removed subscriptions (besides being
/// woken by the API).
const RESCAN: Duration = Duration::from_secs(1);
/// Events fetched at once per subscription.
const BATCH: usize = 100;

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

/// Runs one relay task per subscription.
#[derive(Debug, Clone)]
pub struct Relay {
    pub db: Db,
    pub streams: Streams,
    /// Rung by the API when a subscription is created or removed.
    pub changed: Arc<Notify>,
    /// Rung when messages were stored (the dispatcher waits on it).
    pub stored: Arc<Notify>,
    /// Every waiter woken when messages were stored (pull mode's long polls).
    pub arrived: Arc<Notify>,
}

impl Relay {
    /// Keep a relay task running for every subscription, until dropped.
    pub async fn run(self) {
        let mut running: HashMap<String, (String, JoinHandle<()>)> = HashMap::new();
        loop {
            match store::relayed_subscriptions(&self.db).await {
                Ok(relayed) => {
                    let live: HashMap<String, store::Relayed> =
                        relayed.into_iter().map(|r| (r.id.clone(), r)).collect();
                    let mut gone = Vec::new();
                    running.retain(|id, (stream, task)| {
                        let keep = live.contains_key(id) && !task.is_finished();
                        if !keep {
                            task.abort();
                        }
                        if !live.contains_key(id) {
                            gone.push((stream.clone(), consumer_name(id)));
                        }
                        keep
                    });
                    // A deleted subscription's consumer, which its task may have
                    // bound after the API removed it.
                    for (stream, consumer) in gone {
                        match self.streams.delete_consumer(&stream, &consumer).await {
                            Ok(())
                            | Err(
                                StreamError::ConsumerNotFound { .. }
                                | StreamError::StreamNotFound(_),
                            ) => {}
                            Err(e) => {
                                tracing::warn!(consumer, error = %e, "relay: cannot delete the consumer")
                            }
                        }
                    }
                    for (id, subscription) in live {
                        running.entry(id).or_insert_with(|| {
                            let stream = subscription.stream.clone();
                            (stream, tokio::spawn(self.clone().relay(subscription)))
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "relay: cannot list subscriptions"),
            }
            let _ = tokio::time::timeout(RESCAN, self.changed.notified()).await;
        }
    }

    /// One subscription's relay: bind its consumer, then store what comes.
    async fn relay(self, key: store::Relayed) {
        let scope = subscriptions::Scope {
            agency_id: key.agency_id,
        };
        let mut consumer = loop {
            let subscription = match subscriptions::find_by_id(&self.db, &scope, &key.id).await {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(subscription = %key.id, error = %e, "relay: cannot read the subscription");
                    tokio::time::sleep(RESCAN).await;
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
                    tokio::time::sleep(RESCAN).await;
                }
            }
        };
        loop {
            let batch = match consumer.fetch(BATCH, Duration::from_secs(1)).await {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(subscription = %key.id, error = %e, "relay: fetch failed");
                    tokio::time::sleep(RESCAN).await;
                    continue;
                }
            };
            // The filter may have changed since the last batch.
            let subscription = match subscriptions::find_by_id(&self.db, &scope, &key.id).await {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(subscription = %key.id, error = %e, "relay: cannot read the subscription");
                    continue;
                }
            };
            match self.store(&subscription, &batch).await {
                Ok(()) => {
                    if let Err(e) = consumer.ack(&batch).await {
                        tracing::warn!(subscription = %key.id, error = %e, "relay: ack failed (the events come again)");
                    }
                    self.stored.notify_one();
                    self.arrived.notify_waiters();
                }
                Err(e) => {
                    // Not acked: the stream delivers them again after the ack wait.
                    tracing::warn!(subscription = %key.id, error = %e, "relay: cannot store messages");
                }
            }
        }
    }

    /// Store the events the subscription wants as pending messages, due now.
    async fn store(
        &self,
        subscription: &Subscription,
        batch: &[StreamMessage],
    ) -> Result<(), DbError> {
        let scope = messages::Scope {
            agency_id: subscription.agency_id,
        };
        let now = Utc::now();
        for received in batch {
            let event = &received.event;
            let wanted = subscription
                .event_types
                .as_ref()
                .is_none_or(|types| types.is_empty() || types.contains(&event.event_type));
            if !wanted {
                continue;
            }
            let message = Message {
                id: format!("msg_{}", Uuid::new_v4().simple()),
                subscription_id: subscription.id.clone(),
                agency_id: subscription.agency_id,
                stream: subscription.stream.clone(),
                sequence: i64::try_from(received.sequence).unwrap_or(i64::MAX),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                body: body(received),
                status: MessageStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                delivered_at: None,
                last_error: None,
                lease: None,
            };
            match messages::insert(&self.db, &scope, &message).await {
                // Stored before: this is a redelivery.
                Ok(()) | Err(DbError::Unique(_)) => {}
                Err(e) => return Err(e),
            }
        }
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
