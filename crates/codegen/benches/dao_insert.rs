//! Inserts per second through the generated DAO (JSON document, hash_code, journal
//! trigger and queue) against a plain single-row INSERT with bound columns, on
//! SQLite and PostgreSQL, in one run:
//!
//! ```text
//! cargo bench -p blueprint-codegen --bench dao_insert [-- <rows per round, default 500>]
//! ```
//!
//! Baselines on the same table definition:
//! - `plain`: `INSERT ... VALUES ($1..$5)` into a copy of `users` without journal;
//! - `plain+journal`: the same INSERT into the journaled `users` (trigger cost);
//! - `dao`: `dao::users::insert` into the journaled `users`;
//! - PostgreSQL only, `dao-quiet`: the same with the journal functions' NOTIFY for
//!   outside writers taken out for the round, so `dao/dao-quiet` is what its test
//!   of the session (skipped by ours) costs our writes.
//!
//! Each insert is its own transaction, sequential: the latency-bound case a request
//! handler sees. PostgreSQL runs twice on the testkit's throwaway servers (or both on
//! `BLUEPRINT_TEST_PG_URL`): `postgres` with `fsync=off` (CPU and round trips only)
//! and `pg-fsync` with the durable defaults (each commit waits for the WAL flush).
//! SQLite is a WAL file with `synchronous=NORMAL`, as `Db::connect` opens it.

#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is right

use std::time::Instant;

use blueprint::db::migrate::{self, Migrations};
use blueprint::db::{Db, Dialect};
use blueprint_codegen::sql::{self, migrations};
use blueprint_testkit::TestPostgres;

#[rustfmt::skip]
#[path = "../tests/generated/users/mod.rs"]
#[allow(dead_code, unused_qualifications)]
mod api;

use api::dao::users;
use api::models::{User, UserStatus};

fn user(i: usize, tag: &str) -> User {
    User {
        id: format!("{tag}-{i}"),
        email: format!("{tag}-{i}@example.com"),
        name: Some(format!("User number {i}")),
        status: UserStatus::Active,
    }
}

/// The journaled table's definition (to take its NOTIFY out and put it back).
async fn setup(db: &Db, dir: &std::path::Path) -> sql::Table {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/db/users.json"),
    )
    .unwrap();
    let spec = blueprint_spec::load_str("users.json", &text, &Default::default()).unwrap();
    let mut schema = sql::schema(&spec).unwrap();
    // The baseline table: same columns, checks and indexes, no journal.
    let mut plain = schema.tables[0].clone();
    plain.name = "users_plain".to_string();
    plain.journal = None;
    for index in &mut plain.indexes {
        index.name = index.name.replace("users_", "users_plain_");
    }
    schema.tables.push(plain);
    for f in migrations::generate(&schema, None, Default::default()).unwrap() {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, f.contents).unwrap();
    }
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    migrate::migrate(db, &set).await.unwrap();
    schema.tables.swap_remove(0)
}

async fn plain_insert(db: &Db, table: &str, u: &User) {
    let (pg, lite) = match table {
        "users" => (
            "INSERT INTO users (id, email, name, status, hash_code) VALUES ($1, $2, $3, $4, $5)",
            "INSERT INTO users (id, email, name, status, hash_code) VALUES (?1, ?2, ?3, ?4, ?5)",
        ),
        _ => (
            "INSERT INTO users_plain (id, email, name, status, hash_code) VALUES ($1, $2, $3, $4, $5)",
            "INSERT INTO users_plain (id, email, name, status, hash_code) VALUES (?1, ?2, ?3, ?4, ?5)",
        ),
    };
    match db {
        Db::Postgres(p) => {
            sqlx::query(pg)
                .bind(&u.id)
                .bind(&u.email)
                .bind(&u.name)
                .bind(u.status.as_str())
                .bind(1_i64)
                .execute(p)
                .await
                .unwrap();
        }
        Db::Sqlite(p) => {
            sqlx::query(lite)
                .bind(&u.id)
                .bind(&u.email)
                .bind(&u.name)
                .bind(u.status.as_str())
                .bind(1_i64)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    PlainJournaled,
    Dao,
    /// The DAO without the NOTIFY trigger (PostgreSQL).
    DaoQuiet,
}

async fn run(db: &Db, mode: Mode, rows: usize, tag: &str) -> f64 {
    let start = Instant::now();
    for i in 0..rows {
        let u = user(i, tag);
        match mode {
            Mode::Plain => plain_insert(db, "users_plain", &u).await,
            Mode::PlainJournaled => plain_insert(db, "users", &u).await,
            Mode::Dao | Mode::DaoQuiet => users::insert(db, &u).await.unwrap(),
        }
    }
    rows as f64 / start.elapsed().as_secs_f64()
}

const ROUNDS: usize = 21;

/// Best, median and range of a series.
struct Stats {
    best: f64,
    median: f64,
    min: f64,
}

impl Stats {
    fn of(values: &[f64]) -> Stats {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Stats {
            best: v[v.len() - 1],
            median: v[v.len() / 2],
            min: v[0],
        }
    }
}

async fn bench(name: &str, db: Db, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let table = setup(&db, dir.path()).await;
    let postgres = db.dialect() == Dialect::Postgres;
    // Warm up statement caches and the table's first pages.
    run(&db, Mode::Plain, 200, "warm-p").await;
    run(&db, Mode::Dao, 200, "warm-d").await;
    // Short interleaved rounds, so that every mode sees the same disturbances from
    // other work on the machine. Reported per mode: best (least disturbed), median
    // and range; and the DAO's ratio to plain per round (the two ran back to back,
    // so the pair shares its conditions), as median and range.
    let mut rates: [Vec<f64>; 4] = Default::default();
    for round in 0..ROUNDS {
        for (k, mode) in [Mode::Plain, Mode::PlainJournaled, Mode::Dao, Mode::DaoQuiet]
            .into_iter()
            .enumerate()
        {
            if mode == Mode::DaoQuiet {
                if !postgres {
                    continue;
                }
                let quiet = sql::postgres::journal_trigger(&table)
                    .replace(&sql::postgres::notify_outside_writers(&table), "");
                db.execute_script(&quiet).await.unwrap();
            }
            rates[k].push(run(&db, mode, rows, &format!("r{round}m{k}")).await);
            if mode == Mode::DaoQuiet {
                db.execute_script(&sql::postgres::journal_trigger(&table))
                    .await
                    .unwrap();
            }
        }
    }
    let [plain, journaled, dao] = [0, 1, 2].map(|k| Stats::of(&rates[k]));
    for (label, s) in [
        ("plain", &plain),
        ("plain+journal", &journaled),
        ("dao", &dao),
    ] {
        println!(
            "{name:<9} {label:<14} best {:>6.0}/s  median {:>6.0}/s  range {:>6.0}..{:<6.0}",
            s.best, s.median, s.min, s.best
        );
    }
    let paired = |k: usize| {
        let ratios: Vec<f64> = rates[k].iter().zip(&rates[0]).map(|(x, p)| x / p).collect();
        Stats::of(&ratios)
    };
    let (pj, pd) = (paired(1), paired(2));
    if postgres {
        let with: Vec<f64> = rates[2].iter().zip(&rates[3]).map(|(d, q)| d / q).collect();
        let with = Stats::of(&with);
        println!(
            "{name:<9} dao/dao-quiet (the NOTIFY test for outside writers): per round median {:.2} range {:.2}..{:.2}",
            with.median, with.min, with.best
        );
    }
    println!(
        "{name:<9} dao/plain: of bests {:.2}, of medians {:.2}, per round median {:.2} range {:.2}..{:.2}  \
         (plain+journal/plain per round median {:.2})",
        dao.best / plain.best,
        dao.median / plain.median,
        pd.median,
        pd.min,
        pd.best,
        pj.median,
    );
    db.close().await;
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("{ROUNDS} rounds of {rows} sequential single-row inserts per mode");
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("bench.sqlite").display());
        let sqlite = Db::connect(&url).await.unwrap();
        assert_eq!(sqlite.dialect(), Dialect::Sqlite);
        bench("sqlite", sqlite, rows).await;

        for (name, server) in [
            ("postgres", TestPostgres::start()),
            ("pg-fsync", TestPostgres::start_durable()),
        ] {
            match server {
                Ok(pg) => {
                    let db = Db::connect(&pg.database("bench").unwrap()).await.unwrap();
                    bench(name, db, rows).await;
                }
                Err(e) => println!("{name:<9} skipped: {e}"),
            }
        }
    });
}
