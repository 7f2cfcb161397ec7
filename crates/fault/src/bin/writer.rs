//! `fault-writer --db URL --writes N`: the plan's first N writes on `users`
//! through the generated DAO, `--per-tx` writes per transaction (each still its
//! own journal record), paced to `--rate` writes a second when given. Migrates
//! the database first; publishes nothing.

use std::time::{Duration, Instant};

use blueprint::db::{Db, migrate};
use blueprint_fault::{Op, plan};
use clap::Parser;
use users_api::dao::users;
use users_api::models::{Name, User, UserStatus};

#[derive(Debug, Parser)]
struct Args {
    /// The producer's database (`sqlite:PATH` or `postgres://...`).
    #[arg(long)]
    db: String,
    #[arg(long)]
    writes: u64,
    #[arg(long, default_value_t = 20)]
    per_tx: usize,
    /// Writes a second; 0: as fast as the database goes.
    #[arg(long, default_value_t = 0)]
    rate: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    blueprint_fault::init_logs();
    let args = Args::parse();
    let db = Db::connect(&args.db).await?;
    migrate::migrate(&db, &users_api::migrations(db.dialect())).await?;
    let started = Instant::now();
    let writes = plan(args.writes);
    for (i, chunk) in writes.chunks(args.per_tx.max(1)).enumerate() {
        if args.rate > 0 {
            let due = Duration::from_secs_f64((i * args.per_tx) as f64 / args.rate as f64);
            tokio::time::sleep(due.saturating_sub(started.elapsed())).await;
        }
        let mut tx = db.begin().await?;
        for w in chunk {
            let user = User {
                id: w.user.clone(),
                email: None,
                name: Name {
                    first: w.marker.clone(),
                    last: None,
                },
                status: UserStatus::Active,
            };
            match w.op {
                Op::Insert => users::insert(&mut tx, &user).await?,
                Op::Update => {
                    users::update(&mut tx, &user).await?;
                }
                Op::Delete => {
                    users::delete_by_id(&mut tx, &w.user).await?;
                }
            }
        }
        tx.commit().await?;
    }
    eprintln!(
        "fault-writer: {} writes in {:.1} s",
        writes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
