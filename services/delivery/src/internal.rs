//! `GET /_internal_/subscriptions`: every subscription, whatever its agency,
//! with its delivery figures — what `dev status` and `dev stream ls` show.
//! Like `/_internal_/metrics`, it is for operators (not to be exposed beyond
//! the cluster) and needs no token; it shows no URL, header or secret.
//!
//! The figures are the `/subscriptions/{id}/stats` ones, counted by the same
//! query (`store::message_counts`), one per subscription: fine for the tens of
//! subscriptions of a development workspace, a cost to mind for thousands.

use std::collections::HashMap;

use blueprint::axum::Router;
use blueprint::axum::extract::State;
use blueprint::axum::response::Response;
use blueprint::axum::routing::get;
use blueprint::db::{Db, DbError};
use blueprint::http::StatusCode;
use blueprint::server::json;
use blueprint::stream::{StreamError, Streams};
use blueprint::uuid::Uuid;
use blueprint::{ErrorBody, server};
use delivery_api::dao::subscriptions;
use delivery_api::models::{SubscriptionMode, SubscriptionStatus};
use serde::Serialize;

use crate::{relay, store};

/// Where the list is served.
pub const SUBSCRIPTIONS_PATH: &str = "/_internal_/subscriptions";

/// One subscription and how its deliveries stand.
#[derive(Debug, Serialize)]
pub struct SubscriptionFigures {
    pub id: String,
    pub agency_id: Uuid,
    pub stream: String,
    pub mode: SubscriptionMode,
    pub status: SubscriptionStatus,
    pub delivered: i64,
    pub pending: i64,
    pub failing: i64,
    pub leased: i64,
    pub dead: i64,
    /// Events of the stream its relay has not taken in yet.
    pub lag: u64,
}

#[derive(Debug, Clone)]
struct Internal {
    db: Db,
    streams: Streams,
}

/// The route, to merge into the service's router.
pub fn router(db: Db, streams: Streams) -> Router {
    Router::new()
        .route(SUBSCRIPTIONS_PATH, get(list))
        .with_state(Internal { db, streams })
}

async fn list(State(internal): State<Internal>) -> Response {
    match internal.figures().await {
        Ok(subscriptions) => json(
            StatusCode::OK,
            &blueprint::serde_json::json!({ "subscriptions": subscriptions }),
        ),
        Err(e) => server::error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorBody::new("unavailable", format!("cannot read the subscriptions: {e}")),
        ),
    }
}

#[derive(Debug, thiserror::Error)]
enum FiguresError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("streams: {0}")]
    Streams(#[from] StreamError),
}

impl Internal {
    /// Every subscription (by stream, then id) with its figures.
    async fn figures(&self) -> Result<Vec<SubscriptionFigures>, FiguresError> {
        let mut lags: HashMap<String, HashMap<String, u64>> = HashMap::new();
        let mut figures = Vec::new();
        for key in store::subscriptions(&self.db).await? {
            let scope = subscriptions::Scope {
                agency_id: key.agency_id,
            };
            let Some(subscription) = subscriptions::find_by_id(&self.db, &scope, &key.id).await?
            else {
                continue; // deleted meanwhile
            };
            let counts = store::message_counts(&self.db, key.agency_id, &key.id).await?;
            if !lags.contains_key(&key.stream) {
                let consumers = match self.streams.info(&key.stream).await {
                    Ok(info) => info
                        .consumers
                        .iter()
                        .map(|c| (c.name.clone(), c.lag()))
                        .collect(),
                    Err(StreamError::StreamNotFound(_)) => HashMap::new(),
                    Err(e) => return Err(e.into()),
                };
                lags.insert(key.stream.clone(), consumers);
            }
            let lag = lags
                .get(&key.stream)
                .and_then(|consumers| consumers.get(&relay::consumer_name(&key.id)))
                .copied()
                .unwrap_or(0);
            figures.push(SubscriptionFigures {
                id: subscription.id,
                agency_id: subscription.agency_id,
                stream: subscription.stream,
                mode: subscription.mode,
                status: subscription.status,
                delivered: counts.delivered,
                pending: counts.pending,
                failing: counts.failing,
                leased: counts.leased,
                dead: counts.dead,
                lag,
            });
        }
        figures.sort_by(|a, b| (&a.stream, &a.id).cmp(&(&b.stream, &b.id)));
        Ok(figures)
    }
}
