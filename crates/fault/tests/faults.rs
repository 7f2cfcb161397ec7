//! Fault tests of journal → stream → consumer: during a run of 100,000 journaled
//! writes (the writer paced so that every kill lands mid-run), the publisher, the
//! consumer and the stream servers are killed with SIGKILL and restarted; after
//! recovery every write must have produced exactly one applied event, counted in
//! the consumer's own table (which has no unique key):
//! - rows applied == writes == journal records, and as many distinct event ids
//!   (0 applied twice);
//! - the applied event ids are exactly the journal records' ids, and the applied
//!   (event type, user, marker) are exactly the writer's plan (0 lost);
//! - each user's events are applied in the order written (0 out of order).
//!
//! Scenarios: SQLite + the `sqlite:` log (kill the publisher, then the consumer);
//! PostgreSQL + one JetStream server (the publisher, the consumer, then
//! nats-server, restarted on its store and port); PostgreSQL + a 3-node JetStream
//! cluster on loopback with the stream in 3 copies (a node killed, the other two
//! go on; restarted later). Each prints its figures: events kept by the stream,
//! inbox rows, applied rows, how long each recovery took. Bounded: every wait has
//! a deadline, and every process is killed when the test ends (pass or fail).
//!
//! The scenarios run one at a time (each already keeps the 2-core CI machine busy).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use blueprint::chrono::{DateTime, Utc};
use blueprint::db::Db;
use blueprint::publish::{JournalRecord, Operation};
use blueprint::stream::Streams;
use blueprint_fault::{Op, Write, plan};
use blueprint_testkit::{TestNatsCluster, TestPostgres};

/// Writes per scenario.
const WRITES: u64 = 100_000;
/// The writer's pace (writes/s): a little above what the consumer applies on a
/// loaded 2-core machine, so the run lasts ~40 s and every kill lands mid-run.
const RATE: u64 = 2_500;
/// How long a killed process stays down before it is restarted.
const DOWN: Duration = Duration::from_secs(1);
/// The bound on one scenario, from start to the last check.
const SCENARIO: Duration = Duration::from_secs(300);
/// The bound on one recovery.
const RECOVERY: Duration = Duration::from_secs(60);
/// The consumer's ack wait: short, so that redeliveries of what a killed consumer
/// had fetched come back during the run (and must be deduplicated).
const ACK_WAIT_MS: &str = "2000";

const STREAM: &str = "io.blueprint.users.v0.user_event.json";

/// One scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn sqlite_log_survives_killed_publisher_and_consumer() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let sqlite = |name: &str| format!("sqlite:{}", dir.path().join(name).display());
    Scenario {
        name: "sqlite db + sqlite: log",
        producer_db: sqlite("users.sqlite"),
        consumer_db: sqlite("events.sqlite"),
        streams: sqlite("streams.sqlite"),
        replicas: 1,
        faults: vec![
            Fault::new(0.15, Target::Publisher),
            Fault::new(0.40, Target::Consumer),
            Fault::new(0.65, Target::Publisher),
        ],
    }
    .run(dir.path(), None);
}

#[test]
fn jetstream_survives_killed_publisher_consumer_and_server() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((pg, mut nats)) = servers(1) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    Scenario {
        name: "postgres + jetstream",
        producer_db: pg.database("fault_users").unwrap(),
        consumer_db: pg.database("fault_events").unwrap(),
        streams: nats.url(),
        replicas: 1,
        faults: vec![
            Fault::new(0.15, Target::Publisher),
            Fault::new(0.40, Target::Consumer),
            Fault::new(0.65, Target::Nats(0)),
        ],
    }
    .run(dir.path(), Some(&mut nats));
}

#[test]
fn jetstream_cluster_survives_a_killed_node() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((pg, mut nats)) = servers(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    Scenario {
        name: "postgres + jetstream R3 cluster",
        producer_db: pg.database("fault_users").unwrap(),
        consumer_db: pg.database("fault_events").unwrap(),
        streams: nats.url(),
        replicas: 3,
        faults: vec![
            Fault {
                restart: false,
                ..Fault::new(0.25, Target::Nats(0))
            },
            Fault::new(0.60, Target::Restart(0)),
        ],
    }
    .run(dir.path(), Some(&mut nats));
}

/// PostgreSQL and `nodes` nats-servers, or `None` when either is missing outside
/// CI (under `CI=true` a missing one fails).
fn servers(nodes: usize) -> Option<(TestPostgres, TestNatsCluster)> {
    let pg = match TestPostgres::start() {
        Ok(pg) => pg,
        Err(e) => {
            let ci = matches!(std::env::var("CI").as_deref(), Ok("true" | "1"));
            assert!(!ci, "PostgreSQL is required under CI: {e}");
            eprintln!("note: skipping, no PostgreSQL: {e}");
            return None;
        }
    };
    Some((pg, TestNatsCluster::start(nodes)?))
}

struct Scenario {
    name: &'static str,
    producer_db: String,
    consumer_db: String,
    streams: String,
    replicas: u8,
    faults: Vec<Fault>,
}

/// When the writer has journaled `at` of its writes, kill (or restart) `target`;
/// a killed process is restarted after [`DOWN`] unless `restart` is false.
struct Fault {
    at: f64,
    target: Target,
    restart: bool,
}

impl Fault {
    fn new(at: f64, target: Target) -> Fault {
        Fault {
            at,
            target,
            restart: true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Publisher,
    Consumer,
    /// Kill nats-server node `i`.
    Nats(usize),
    /// Start the killed node `i` again.
    Restart(usize),
}

impl Scenario {
    fn run(self, dir: &Path, mut nats: Option<&mut TestNatsCluster>) {
        let started = Instant::now();
        let deadline = started + SCENARIO;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let bin =
            |name: &str| PathBuf::from(env!("CARGO_BIN_EXE_fault-writer")).with_file_name(name);
        let mut consumer = Process::new(
            "consumer",
            bin("fault-consumer"),
            &[
                "--db",
                &self.consumer_db,
                "--streams",
                &self.streams,
                "--ack-wait-ms",
                ACK_WAIT_MS,
            ],
            dir,
        );
        let replicas = self.replicas.to_string();
        let mut publisher = Process::new(
            "publisher",
            bin("fault-publisher"),
            &[
                "--db",
                &self.producer_db,
                "--streams",
                &self.streams,
                "--replicas",
                &replicas,
            ],
            dir,
        );
        let (writes, rate) = (WRITES.to_string(), RATE.to_string());
        let mut writer = Process::new(
            "writer",
            bin("fault-writer"),
            &[
                "--db",
                &self.producer_db,
                "--writes",
                &writes,
                "--rate",
                &rate,
            ],
            dir,
        );
        consumer.start();
        publisher.start();
        writer.start();
        let probe = rt.block_on(Probe::connect(
            &self.producer_db,
            &self.consumer_db,
            deadline,
        ));

        let mut report = Vec::new();
        for fault in &self.faults {
            let at = (fault.at * WRITES as f64) as i64;
            let logs = [&writer, &publisher, &consumer];
            wait(deadline, &format!("{at} writes journaled"), &logs, || {
                rt.block_on(probe.progress()).written >= at
            });
            let what = match fault.target {
                Target::Publisher => {
                    publisher.kill();
                    "publisher killed"
                }
                Target::Consumer => {
                    consumer.kill();
                    "consumer killed"
                }
                Target::Nats(i) => {
                    nats.as_deref_mut().expect("nats").kill(i);
                    "nats-server killed"
                }
                Target::Restart(i) => {
                    nats.as_deref_mut().expect("nats").restart(i);
                    "nats-server node restarted"
                }
            };
            let at_kill = rt.block_on(probe.progress());
            let restarted = if fault.restart && !matches!(fault.target, Target::Restart(_)) {
                std::thread::sleep(DOWN);
                match fault.target {
                    Target::Publisher => publisher.start(),
                    Target::Consumer => consumer.start(),
                    Target::Nats(i) => nats.as_deref_mut().expect("nats").restart(i),
                    Target::Restart(_) => {}
                }
                Some(DOWN)
            } else {
                None
            };
            // Recovered: the whole path flows again (published, received, applied
            // all beyond where they were when the process came back).
            let from = rt.block_on(probe.progress());
            let back = Instant::now();
            let bound = deadline.min(back + RECOVERY);
            wait(
                bound,
                &format!("recovery after {what}"),
                &[&writer, &publisher, &consumer],
                || rt.block_on(probe.progress()).beyond(&from),
            );
            let after = match (fault.target, restarted) {
                (Target::Restart(_), _) => "it",
                (_, Some(_)) => "its restart",
                (_, None) => "the kill",
            };
            report.push(format!(
                "{what} at {} journaled / {} published / {} applied{}; flowing again {:.2} s after {after}",
                at_kill.written,
                at_kill.published,
                at_kill.applied,
                restarted.map_or(String::new(), |d| format!(", down {:.1} s", d.as_secs_f64())),
                back.elapsed().as_secs_f64(),
            ));
        }

        while !writer.exited() {
            let logs = [&writer, &publisher, &consumer];
            past(deadline, "the writer to finish", &logs);
            std::thread::sleep(Duration::from_millis(100));
        }
        let logs = [&writer, &publisher, &consumer];
        assert!(writer.succeeded(), "the writer failed:\n{}", writer.log());
        wait(deadline, "every write applied", &logs, || {
            let p = rt.block_on(probe.progress());
            p.published >= WRITES as i64 && p.applied >= WRITES as i64
        });
        // Late redeliveries (ack wait 2 s) must not add rows.
        std::thread::sleep(Duration::from_secs(3));
        let total = started.elapsed();

        let end = rt.block_on(probe.progress());
        let applied = rt.block_on(probe.applied());
        let expected_ids = rt.block_on(probe.journal_event_ids());
        let kept = rt.block_on(async {
            let streams = Streams::connect(&self.streams).await.ok()?;
            streams.info(STREAM).await.ok().map(|i| i.messages)
        });
        let distinct: HashSet<&str> = applied.iter().map(|a| a.event_id.as_str()).collect();
        let out_of_order = out_of_order(&applied);

        println!(
            "\n{}: {} writes in {:.1} s",
            self.name,
            WRITES,
            total.as_secs_f64()
        );
        for line in &report {
            println!("  {line}");
        }
        println!(
            "  journal records {}; stream kept {} events; inbox rows {}; applied rows {}, distinct event ids {} (applied twice: {}); keys applied out of order {}",
            end.written,
            kept.map_or("?".to_string(), |k| k.to_string()),
            end.received,
            applied.len(),
            distinct.len(),
            applied.len() - distinct.len(),
            out_of_order.len(),
        );
        for (key, markers) in out_of_order.iter().take(3) {
            println!("  out of order: {key} applied writes {markers:?}");
        }

        assert_eq!(end.written, WRITES as i64, "one journal record per write");
        assert_eq!(distinct.len(), applied.len(), "events applied twice");
        let missing: Vec<&String> = expected_ids
            .iter()
            .filter(|id| !distinct.contains(id.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{} journal records never applied, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        assert_eq!(
            applied.len(),
            expected_ids.len(),
            "applied events that were never written"
        );
        let mut wanted = plan(WRITES);
        wanted.sort();
        let mut got: Vec<Write> = applied.iter().map(Applied::write).collect();
        got.sort();
        assert!(
            got == wanted,
            "the applied events are not the writer's plan"
        );
        assert!(
            out_of_order.is_empty(),
            "{} keys applied out of order, e.g. {:?}",
            out_of_order.len(),
            out_of_order.iter().take(3).collect::<Vec<_>>()
        );
    }
}

/// Wait until `done`, polling; past `deadline` the test fails with the processes' logs.
fn wait(deadline: Instant, what: &str, logs: &[&Process], mut done: impl FnMut() -> bool) {
    while !done() {
        past(deadline, what, logs);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Fail with the processes' logs when `deadline` has passed.
fn past(deadline: Instant, what: &str, logs: &[&Process]) {
    if Instant::now() >= deadline {
        let logs: String = logs
            .iter()
            .map(|p| format!("--- {} ---\n{}\n", p.name, tail(&p.log(), 30)))
            .collect();
        panic!("timed out waiting for {what}\n{logs}");
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A process of the scenario, restartable; its stdout and stderr appended to a log
/// file. Killed (SIGKILL) when dropped.
struct Process {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    status: Option<std::process::ExitStatus>,
}

impl Process {
    fn new(name: &'static str, program: PathBuf, args: &[&str], dir: &Path) -> Process {
        Process {
            name,
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
            log: dir.join(format!("{name}.log")),
            child: None,
            status: None,
        }
    }

    fn start(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.program)
            .args(&self.args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.program.display()));
        self.child = Some(child);
        self.status = None;
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            self.status = child.wait().ok();
        }
    }

    fn exited(&mut self) -> bool {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            self.status = Some(status);
            self.child = None;
        }
        self.child.is_none()
    }

    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where the run is, read from the two databases.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Journal records (one per write).
    written: i64,
    /// Journal records taken off the queue (acknowledged by the stream).
    published: i64,
    /// Inbox rows (received, deduplicated by event id).
    received: i64,
    /// Rows of the consumer's `fault_applied`.
    applied: i64,
}

impl Progress {
    /// Published, received and applied have all moved on since `from`.
    fn beyond(&self, from: &Progress) -> bool {
        self.published > from.published
            && self.received > from.received
            && self.applied > from.applied
    }
}

/// One row of `fault_applied`, in the order applied.
#[derive(Debug)]
struct Applied {
    event_id: String,
    event_type: String,
    user_id: String,
    marker: Option<String>,
}

impl Applied {
    fn write(&self) -> Write {
        // Inserts and updates are both `user_upserted`: an insert's marker is
        // `w<k>` for its user `u<k>`; an update's user was inserted before.
        let inserted = |m: &String| m.get(1..) == self.user_id.get(1..);
        let op = match (self.event_type.as_str(), &self.marker) {
            ("user_deleted", _) => Op::Delete,
            (_, Some(m)) if inserted(m) => Op::Insert,
            _ => Op::Update,
        };
        Write {
            op,
            user: self.user_id.clone(),
            marker: self.marker.clone(),
        }
    }
}

/// Keys (users) whose events were applied in another order than written, each
/// with its markers as applied.
fn out_of_order(applied: &[Applied]) -> BTreeMap<&str, Vec<u64>> {
    let mut per_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for a in applied {
        if let Some(k) = a.marker.as_deref().and_then(|m| m[1..].parse::<u64>().ok()) {
            per_key.entry(&a.user_id).or_default().push(k);
        }
    }
    per_key.retain(|_, ks| ks.windows(2).any(|w| w[0] > w[1]));
    per_key
}

struct Probe {
    producer: Db,
    consumer: Db,
}

impl Probe {
    /// Both databases, once the processes have created them.
    async fn connect(producer: &str, consumer: &str, deadline: Instant) -> Probe {
        loop {
            if let (Ok(p), Ok(c)) = (Db::connect(producer).await, Db::connect(consumer).await) {
                return Probe {
                    producer: p,
                    consumer: c,
                };
            }
            assert!(Instant::now() < deadline, "the databases never opened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn progress(&self) -> Progress {
        Progress {
            written: count(&self.producer, r#"SELECT count(*) FROM "users_journal""#).await,
            published: count(
                &self.producer,
                r#"SELECT count(*) FROM "users_journal" WHERE "journal_queued_at" IS NULL"#,
            )
            .await,
            received: count(&self.consumer, r#"SELECT count(*) FROM "_blueprint_inbox""#).await,
            applied: count(&self.consumer, r#"SELECT count(*) FROM "fault_applied""#).await,
        }
    }

    async fn applied(&self) -> Vec<Applied> {
        let sql = r#"SELECT "event_id", "event_type", "user_id", "marker" FROM "fault_applied" ORDER BY "seq""#;
        let rows: Vec<(String, String, String, Option<String>)> = match &self.consumer {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        };
        rows.into_iter()
            .map(|(event_id, event_type, user_id, marker)| Applied {
                event_id,
                event_type,
                user_id,
                marker,
            })
            .collect()
    }

    /// The event id of every journal record, as the publisher derives it.
    async fn journal_event_ids(&self) -> Vec<String> {
        let rows: Vec<(i64, String)> = match &self.producer {
            Db::Sqlite(p) => {
                sqlx::query_as(r#"SELECT "journal_id", "journal_timestamp" FROM "users_journal""#)
                    .fetch_all(p)
                    .await
                    .unwrap()
            }
            Db::Postgres(p) => sqlx::query_as(
                r#"SELECT "journal_id", to_json("journal_timestamp") #>> '{}' FROM "users_journal""#,
            )
            .fetch_all(p)
            .await
            .unwrap(),
        };
        rows.into_iter()
            .map(|(journal_id, at)| {
                let timestamp: DateTime<Utc> = DateTime::parse_from_rfc3339(&at).unwrap().into();
                JournalRecord {
                    table: "users",
                    journal_id,
                    operation: Operation::Insert,
                    timestamp,
                    row: String::new(),
                }
                .event_id()
            })
            .collect()
    }
}

/// `SELECT count(*) ...`; 0 while the table does not exist yet.
async fn count(db: &Db, sql: &'static str) -> i64 {
    let counted = match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    };
    counted.unwrap_or(0)
}
