//! How several delivery processes share the work: leases in the database.
//!
//! The work is cut into units: each subscription's relay (push or pull), and each
//! shard of an active push subscription under its current epoch (a message's
//! shard is its `shard_key` modulo the subscription's `shards`). A unit is worked
//! by the process holding its lease (`shard_leases`), which renews it every
//! quarter of its lifetime (`BLUEPRINT_DELIVERY_LEASE_TTL`, 10 s by default); a
//! lease not renewed in time expires, and another process takes the unit over.
//! Processes say they are alive the same way (`delivery_processes`), so each
//! takes about its share: the units over the live processes, rounded up. One with
//! more gives the excess up (after the attempt in flight); one with fewer takes
//! free or expired units.
//!
//! A process stops working a unit it no longer holds before its next step: when
//! the renewal did not return it, or when the renewal is late (its local
//! deadline, the start of the last renewal plus the lifetime, passed), so it
//! stops before anyone else may take the unit over.
//!
//! Rebalancing: changing `shards` moves the subscription to the next epoch. A
//! shard of epoch `e` is taken only once no lease of an earlier epoch of its
//! subscription holds (one conditional insert, `store::Leases::acquire`), and
//! old-epoch workers stop before their next attempt (they see the new epoch, and
//! their units are no longer wanted). So at any time one epoch's shards are
//! worked; a key's messages are in one shard of each epoch; each shard delivers
//! its messages in stream order — the order of a key is kept across the change,
//! and a message is never worked by two processes at once but for a lease that
//! expired while its holder was still attempting (a process stalled longer than
//! the lifetime, or killed: that attempt may be made again).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use blueprint::db::{Db, DbError};
use blueprint::stream::{Event, StreamError, Streams};
use blueprint::tokio::{self, sync::Notify, task::JoinHandle, time::Instant};
use sha2::{Digest, Sha256};

use crate::dispatch::Dispatcher;
use crate::relay::{self, Relay};
use crate::store::{self, Leases, Listed, Unit};

/// The stable hash a message is sharded by: the first 63 bits of the SHA-256 of
/// the event's partition key, else of its id (the same in every process and
/// release, so a key always falls in the same shard of an epoch).
pub fn shard_key(event: &Event) -> i64 {
    let key = event.partition_key.as_deref().unwrap_or(&event.id);
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes) & i64::MAX
}

/// A unit this process works: whether it still may.
#[derive(Debug)]
pub struct Held {
    stopped: AtomicBool,
    /// The local deadline: when the lease may have expired unrenewed.
    until: Mutex<Instant>,
}

impl Held {
    fn new(until: Instant) -> Held {
        Held {
            stopped: AtomicBool::new(false),
            until: Mutex::new(until),
        }
    }

    /// Whether the unit may still be worked (checked before every step).
    pub fn holds(&self) -> bool {
        !self.stopped.load(Ordering::Acquire) && Instant::now() < *self.lock()
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    fn stopping(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn renewed(&self, until: Instant) {
        *self.lock() = until;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A unit's task in this process.
#[derive(Debug)]
struct Running {
    held: Arc<Held>,
    task: JoinHandle<()>,
    stream: String,
}

/// Keeps this process's share of the units leased and worked.
#[derive(Debug, Clone)]
pub struct Coordinator {
    pub db: Db,
    pub streams: Streams,
    pub leases: Leases,
    pub relay: Relay,
    pub dispatcher: Dispatcher,
    /// Rung when subscriptions are created, changed or removed.
    pub changed: Arc<Notify>,
}

impl Coordinator {
    /// Renew, rebalance and start or stop units every quarter of the lease
    /// lifetime (and when woken), until dropped; `listening` (the bell's) lives
    /// as long.
    pub async fn run(self, listening: Option<JoinHandle<()>>) {
        let _listening = listening.map(AbortOnDrop);
        let mut running: HashMap<Unit, Running> = HashMap::new();
        let every = self.leases.ttl / 4;
        loop {
            if let Err(e) = self.tick(&mut running).await {
                tracing::warn!(error = %e, "delivery: cannot renew or share the leases");
            }
            let _ = tokio::time::timeout(every, self.changed.notified()).await;
        }
    }

    async fn tick(&self, running: &mut HashMap<Unit, Running>) -> Result<(), DbError> {
        let started = Instant::now();
        let live = self.leases.heartbeat(&self.db).await?;
        let subscriptions = store::subscriptions(&self.db).await?;
        let renewed: HashSet<String> = self.leases.renew(&self.db).await?.into_iter().collect();
        let mut wanted: BTreeMap<Unit, &Listed> = BTreeMap::new();
        for subscription in &subscriptions {
            let relay = Unit {
                subscription_id: subscription.id.clone(),
                epoch: 0,
                shard: Unit::RELAY,
            };
            wanted.insert(relay, subscription);
            if subscription.delivering {
                for shard in 0..subscription.shards.max(1) {
                    let unit = Unit {
                        subscription_id: subscription.id.clone(),
                        epoch: subscription.epoch,
                        shard,
                    };
                    wanted.insert(unit, subscription);
                }
            }
        }

        // Finished tasks have released their lease.
        running.retain(|_, r| !r.task.is_finished());
        let mut gone = Vec::new();
        for (unit, r) in running.iter() {
            if renewed.contains(&unit.lease_id()) {
                r.held.renewed(started + self.leases.ttl);
            } else {
                r.held.stop();
            }
            if !wanted.contains_key(unit) {
                r.held.stop();
                if unit.is_relay() && !subscriptions.iter().any(|s| s.id == unit.subscription_id) {
                    gone.push((
                        r.stream.clone(),
                        relay::consumer_name(&unit.subscription_id),
                    ));
                }
            }
        }
        // A deleted subscription's consumer, which its relay may have bound after
        // the API removed it.
        for (stream, consumer) in gone {
            match self.streams.delete_consumer(&stream, &consumer).await {
                Ok(())
                | Err(StreamError::ConsumerNotFound { .. } | StreamError::StreamNotFound(_)) => {}
                Err(e) => tracing::warn!(consumer, error = %e, "relay: cannot delete the consumer"),
            }
        }

        // This process's share: the units over the live processes, rounded up.
        let share = wanted.len().div_ceil(live.len().max(1));
        let mut working: Vec<&Unit> = running
            .iter()
            .filter(|(_, r)| !r.held.stopping())
            .map(|(unit, _)| unit)
            .collect();
        working.sort();
        if working.len() > share {
            for unit in &working[share..] {
                if let Some(r) = running.get(*unit) {
                    r.held.stop();
                }
            }
            return Ok(());
        }
        let mut count = working.len();
        if count == share {
            return Ok(());
        }
        let taken: HashSet<String> = self.leases.held(&self.db).await?.into_iter().collect();
        let free: Vec<(&Unit, &&Listed)> = wanted
            .iter()
            .filter(|(unit, _)| !running.contains_key(*unit) && !taken.contains(&unit.lease_id()))
            .collect();
        // Processes start looking at different places, so they rarely race for
        // one unit.
        let me = live
            .iter()
            .position(|id| *id == self.leases.owner)
            .unwrap_or(0);
        let offset = free.len() * me / live.len().max(1);
        for (unit, subscription) in free[offset..].iter().chain(&free[..offset]) {
            if count >= share {
                break;
            }
            if !self.leases.acquire(&self.db, unit).await? {
                continue;
            }
            let held = Arc::new(Held::new(started + self.leases.ttl));
            let task = self.start((*unit).clone(), (**subscription).clone(), held.clone());
            running.insert(
                (*unit).clone(),
                Running {
                    held,
                    task,
                    stream: subscription.stream.clone(),
                },
            );
            count += 1;
        }
        Ok(())
    }

    /// Work `unit` while it is held, then give its lease up.
    fn start(&self, unit: Unit, subscription: Listed, held: Arc<Held>) -> JoinHandle<()> {
        tracing::debug!(lease = %unit.lease_id(), "delivery: lease taken");
        let this = self.clone();
        tokio::spawn(async move {
            if unit.is_relay() {
                this.relay.clone().relay(subscription, held).await;
            } else {
                this.dispatcher
                    .clone()
                    .shard(subscription, unit.clone(), held)
                    .await;
            }
            // Someone may have taken it over meanwhile: then this changes nothing.
            if let Err(e) = this.leases.release(&this.db, &unit).await {
                tracing::warn!(lease = %unit.lease_id(), error = %e, "delivery: cannot release a lease (it expires)");
            }
        })
    }
}

/// Aborts its task when dropped.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long to wait before looking again, doubling while there is nothing to do.
#[derive(Debug, Clone, Copy)]
pub struct Idle {
    wait: Duration,
    min: Duration,
    max: Duration,
}

impl Idle {
    pub fn new(min: Duration, max: Duration) -> Idle {
        Idle {
            wait: min,
            min,
            max,
        }
    }

    /// The next wait when idle.
    pub fn next(&mut self) -> Duration {
        let wait = self.wait;
        self.wait = (self.wait * 2).min(self.max);
        wait
    }

    pub fn reset(&mut self) {
        self.wait = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_key_is_the_partition_key_else_the_id_and_stable() {
        let event = |id: &str| Event::new(id, "t", Vec::new().into());
        let a = shard_key(&event("e1"));
        assert_eq!(a, shard_key(&event("e1")));
        assert!(a >= 0);
        assert_ne!(a, shard_key(&event("e2")));
        let keyed = |id: &str| event(id).with_partition_key("order-7");
        assert_eq!(shard_key(&keyed("e1")), shard_key(&keyed("e2")));
        // Fixed forever: messages already stored keep their shard.
        assert_eq!(shard_key(&event("")), 0x63b0_c442_98fc_1c14);
    }
}
