//! `memory:`: streams held in this process, for unit tests. Clones of one
//! [`Streams`](super::Streams) handle share them; another `open("memory:")` starts
//! empty. Same semantics as the durable backends (the conformance suite runs here
//! too), minus durability.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::event::AckRef;
use super::{
    Bell, ConsumerConfig, ConsumerInfo, Event, Message, PublishAck, StartAt, StreamConfig,
    StreamError, StreamInfo, wait_for_ring,
};

#[derive(Debug, Clone, Default)]
pub struct Memory(Arc<Mutex<BTreeMap<String, Log>>>);

#[derive(Debug)]
struct Log {
    config: StreamConfig,
    name: Arc<str>,
    /// Sequence of the next event stored.
    next_seq: u64,
    events: VecDeque<Stored>,
    /// Event id -> (sequence, stored at), for the duplicate window.
    recent_ids: HashMap<String, (u64, Instant)>,
    consumers: BTreeMap<String, ConsumerState>,
    bell: Bell,
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    published: DateTime<Utc>,
    at: Instant,
    event: Event,
}

#[derive(Debug)]
struct ConsumerState {
    config: ConsumerConfig,
    delivered: u64,
    /// Delivered, not acked: sequence -> (deliveries, redelivery deadline).
    pending: BTreeMap<u64, (u32, Instant)>,
}

impl Memory {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Log>> {
        // A panic while holding the lock leaves consistent data: every update
        // below is a single step.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_log<T>(
        &self,
        stream: &str,
        f: impl FnOnce(&mut Log) -> Result<T, StreamError>,
    ) -> Result<T, StreamError> {
        let mut logs = self.lock();
        let log = logs
            .get_mut(stream)
            .ok_or_else(|| StreamError::StreamNotFound(stream.to_string()))?;
        log.expire(Instant::now());
        f(log)
    }

    pub(super) async fn ensure_stream(&self, config: &StreamConfig) -> Result<(), StreamError> {
        let mut logs = self.lock();
        let log = logs.entry(config.name.clone()).or_insert_with(|| Log {
            config: config.clone(),
            name: config.name.as_str().into(),
            next_seq: 1,
            events: VecDeque::new(),
            recent_ids: HashMap::new(),
            consumers: BTreeMap::new(),
            bell: Bell::default(),
        });
        log.config = config.clone();
        log.expire(Instant::now());
        Ok(())
    }

    pub(super) async fn publish(
        &self,
        stream: &str,
        events: &[Event],
    ) -> Result<Vec<PublishAck>, StreamError> {
        let (acks, bell) = self.with_log(stream, |log| {
            let now = Instant::now();
            let window = log.config.effective_duplicate_window();
            let acks = events
                .iter()
                .map(|event| {
                    if let Some(&(seq, at)) = log.recent_ids.get(&event.id)
                        && now.duration_since(at) < window
                    {
                        return PublishAck {
                            sequence: seq,
                            duplicate: true,
                        };
                    }
                    let seq = log.next_seq;
                    log.next_seq += 1;
                    // Publish times never go backwards, so time order is sequence order.
                    let published = log
                        .events
                        .back()
                        .map_or_else(Utc::now, |last| last.published.max(Utc::now()));
                    log.events.push_back(Stored {
                        seq,
                        published,
                        at: now,
                        event: event.clone(),
                    });
                    log.recent_ids.insert(event.id.clone(), (seq, now));
                    PublishAck {
                        sequence: seq,
                        duplicate: false,
                    }
                })
                .collect();
            log.expire(now);
            Ok((acks, log.bell.clone()))
        })?;
        bell.ring();
        Ok(acks)
    }

    pub(super) async fn consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<MemoryConsumer, StreamError> {
        let bell = self.with_log(stream, |log| {
            let start = log.start_after(config.start);
            log.consumers
                .entry(config.name.clone())
                .and_modify(|c| c.config = config.clone())
                .or_insert_with(|| ConsumerState {
                    config: config.clone(),
                    delivered: start,
                    pending: BTreeMap::new(),
                });
            Ok(log.bell.clone())
        })?;
        Ok(MemoryConsumer {
            memory: self.clone(),
            stream: stream.to_string(),
            name: config.name.clone(),
            bell,
        })
    }

    pub(super) async fn delete_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<(), StreamError> {
        self.with_log(stream, |log| match log.consumers.remove(name) {
            Some(_) => Ok(()),
            None => Err(consumer_not_found(stream, name)),
        })
    }

    pub(super) async fn reader(
        &self,
        stream: &str,
        start: StartAt,
    ) -> Result<MemoryReader, StreamError> {
        let (after, bell) =
            self.with_log(stream, |log| Ok((log.start_after(start), log.bell.clone())))?;
        Ok(MemoryReader {
            memory: self.clone(),
            stream: stream.to_string(),
            after,
            bell,
        })
    }

    pub(super) async fn info(&self, stream: &str) -> Result<StreamInfo, StreamError> {
        self.with_log(stream, |log| {
            Ok(StreamInfo {
                name: stream.to_string(),
                first_sequence: log.first_seq(),
                last_sequence: log.next_seq - 1,
                messages: log.events.len() as u64,
                consumers: log
                    .consumers
                    .iter()
                    .map(|(name, c)| log.consumer_info(name, c))
                    .collect(),
            })
        })
    }

    pub(super) async fn names(&self) -> Result<Vec<String>, StreamError> {
        Ok(self.lock().keys().cloned().collect())
    }
}

fn consumer_not_found(stream: &str, name: &str) -> StreamError {
    StreamError::ConsumerNotFound {
        stream: stream.to_string(),
        consumer: name.to_string(),
    }
}

impl Log {
    fn first_seq(&self) -> u64 {
        self.events.front().map_or(self.next_seq, |e| e.seq)
    }

    /// Drop what retention no longer keeps, and ids past the duplicate window.
    fn expire(&mut self, now: Instant) {
        if let Some(max) = self.config.max_messages {
            while self.events.len() as u64 > max {
                self.events.pop_front();
            }
        }
        if let Some(age) = self.config.max_age {
            while self
                .events
                .front()
                .is_some_and(|e| now.duration_since(e.at) >= age)
            {
                self.events.pop_front();
            }
        }
        let window = self.config.effective_duplicate_window();
        self.recent_ids
            .retain(|_, (_, at)| now.duration_since(*at) < window);
    }

    /// The sequence a consumer or reader starting at `start` has "already seen".
    fn start_after(&self, start: StartAt) -> u64 {
        let last = self.next_seq - 1;
        match start {
            StartAt::Earliest => 0,
            StartAt::Latest => last,
            StartAt::Sequence(n) => n.saturating_sub(1),
            StartAt::Time(t) => self
                .events
                .iter()
                .find(|e| e.published >= t)
                .map_or(last, |e| e.seq - 1),
        }
    }

    fn get(&self, seq: u64) -> Option<&Stored> {
        let first = self.events.front()?.seq;
        self.events
            .get(usize::try_from(seq.checked_sub(first)?).ok()?)
    }

    fn message(&self, stored: &Stored, deliveries: u32) -> Message {
        Message {
            stream: self.name.clone(),
            sequence: stored.seq,
            published: stored.published,
            deliveries,
            event: stored.event.clone(),
            ack: AckRef::Sequence,
        }
    }

    fn consumer_info(&self, name: &str, c: &ConsumerState) -> ConsumerInfo {
        let last = self.next_seq - 1;
        let first_pending = c.pending.keys().next().copied();
        ConsumerInfo {
            name: name.to_string(),
            delivered: c.delivered,
            ack_floor: first_pending.map_or(c.delivered, |s| s - 1),
            num_pending: self
                .events
                .iter()
                .rev()
                .take_while(|e| e.seq > c.delivered)
                .count() as u64,
            num_ack_pending: c.pending.len() as u64,
            num_redelivered: c.pending.values().filter(|(d, _)| *d > 1).count() as u64,
        }
        .clamped(last)
    }

    /// Take up to `max` messages for consumer `name` (see `Consumer::fetch`); when
    /// none is due, also the time the next redelivery falls due.
    fn take(
        &mut self,
        name: &str,
        max: usize,
        now: Instant,
    ) -> Result<(Vec<Message>, Option<Instant>), StreamError> {
        let mut c = self
            .consumers
            .remove(name)
            .ok_or_else(|| consumer_not_found(&self.name, name))?;
        let mut out = Vec::new();
        let due: Vec<(u64, u32)> = c
            .pending
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(seq, (deliveries, _))| (*seq, *deliveries))
            .collect();
        for (seq, deliveries) in due {
            if out.len() == max {
                break;
            }
            match self.get(seq) {
                Some(stored) if !c.config.exhausted(deliveries) => {
                    let deliveries = deliveries + 1;
                    c.pending
                        .insert(seq, (deliveries, now + c.config.ack_wait_for(deliveries)));
                    out.push(self.message(stored, deliveries));
                }
                // Delivered as often as allowed, or dropped by retention.
                _ => {
                    c.pending.remove(&seq);
                }
            }
        }
        while out.len() < max && c.pending.len() < c.config.max_ack_pending as usize {
            let next = (c.delivered + 1).max(self.first_seq());
            let Some(stored) = self.get(next) else { break };
            c.delivered = next;
            c.pending.insert(next, (1, now + c.config.ack_wait_for(1)));
            out.push(self.message(stored, 1));
        }
        if c.delivered < self.first_seq().saturating_sub(1) {
            c.delivered = self.first_seq() - 1;
        }
        let next_due = c.pending.values().map(|(_, d)| *d).min();
        self.consumers.insert(name.to_string(), c);
        Ok((out, next_due))
    }
}

impl ConsumerInfo {
    fn clamped(mut self, last: u64) -> ConsumerInfo {
        self.delivered = self.delivered.min(last);
        self.ack_floor = self.ack_floor.min(last);
        self
    }
}

#[derive(Debug)]
pub struct MemoryConsumer {
    memory: Memory,
    stream: String,
    name: String,
    bell: Bell,
}

impl MemoryConsumer {
    pub(super) async fn fetch(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        let until = Instant::now() + max_wait;
        let mut ring = self.bell.subscribe();
        loop {
            ring.borrow_and_update();
            let now = Instant::now();
            let (out, next_due) = self
                .memory
                .with_log(&self.stream, |log| log.take(&self.name, max, now))?;
            if !out.is_empty() || now >= until {
                return Ok(out);
            }
            wait_for_ring(&mut ring, next_due.map_or(until, |d| d.min(until))).await;
        }
    }

    pub(super) async fn ack(&mut self, messages: &[Message]) -> Result<(), StreamError> {
        self.memory.with_log(&self.stream, |log| {
            let c = log
                .consumers
                .get_mut(&self.name)
                .ok_or_else(|| consumer_not_found(&self.stream, &self.name))?;
            for m in messages {
                c.pending.remove(&m.sequence);
            }
            Ok(())
        })
    }

    pub(super) async fn nack(
        &mut self,
        message: &Message,
        delay: Option<Duration>,
    ) -> Result<(), StreamError> {
        self.memory.with_log(&self.stream, |log| {
            let c = log
                .consumers
                .get_mut(&self.name)
                .ok_or_else(|| consumer_not_found(&self.stream, &self.name))?;
            let delay = delay.unwrap_or_else(|| c.config.nack_delay(message.deliveries));
            if let Some(p) = c.pending.get_mut(&message.sequence) {
                p.1 = Instant::now() + delay;
            }
            Ok(())
        })?;
        // A waiting fetch of this consumer may now have something due sooner.
        self.bell.ring();
        Ok(())
    }

    pub(super) async fn info(&mut self) -> Result<ConsumerInfo, StreamError> {
        self.memory.with_log(&self.stream, |log| {
            let c = log
                .consumers
                .get(&self.name)
                .ok_or_else(|| consumer_not_found(&self.stream, &self.name))?;
            Ok(log.consumer_info(&self.name, c))
        })
    }
}

#[derive(Debug)]
pub struct MemoryReader {
    memory: Memory,
    stream: String,
    /// Last sequence read.
    after: u64,
    bell: Bell,
}

impl MemoryReader {
    pub(super) async fn read(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        let until = Instant::now() + max_wait;
        let mut ring = self.bell.subscribe();
        loop {
            ring.borrow_and_update();
            let after = self.after;
            let out: Vec<Message> = self.memory.with_log(&self.stream, |log| {
                Ok(log
                    .events
                    .iter()
                    .skip_while(|e| e.seq <= after)
                    .take(max)
                    .map(|e| log.message(e, 1))
                    .collect())
            })?;
            if let Some(last) = out.last() {
                self.after = last.sequence;
            }
            if !out.is_empty() || Instant::now() >= until {
                return Ok(out);
            }
            wait_for_ring(&mut ring, until).await;
        }
    }
}
