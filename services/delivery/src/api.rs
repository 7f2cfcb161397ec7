//! The delivery API on its database: subscriptions and their messages, through
//! the generated scoped DAO (a caller sees only its agency's rows). Writing a
//! subscription checks what the spec cannot: the stream is one this service
//! relays, the target is one it may call, the start parses, the delivery policy
//! holds together.

use std::sync::Arc;

use blueprint::chrono::{DateTime, Utc};
use blueprint::db::{Db, DbError, Page, Write};
use blueprint::http::{HeaderName, HeaderValue};
use blueprint::serde_json;
use blueprint::server::Context;
use blueprint::stream::{StreamError, Streams};
use blueprint::tokio::sync::Notify;
use blueprint::uuid::Uuid;
use delivery_api::dao::{attempts, messages, subscriptions};
use delivery_api::models::{
    DeliveryPolicy, DeliverySummary, Message, MessageStatus, Received, RedriveResult, Subscription,
    SubscriptionForm, SubscriptionMode, SubscriptionStatus, ValidationError, Violation,
};
use delivery_api::operations::*;
use delivery_api::server::DeliveryService;

use crate::bell::Bell;
use crate::pull::Answer;
use crate::settings::Settings;
use crate::{policy, relay, sign, store};

/// The `delivery` service's implementation.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub db: Db,
    pub streams: Streams,
    pub settings: Arc<Settings>,
    /// Rung when subscriptions are created, changed or removed (the leases'
    /// coordinator).
    pub changed: Arc<Notify>,
    /// Rung when messages are requeued (the shard workers, pull's long polls).
    pub bell: Bell,
}

/// The caller's agency, the scope of every table (the same claim for each).
fn agency(context: &Context) -> Option<Uuid> {
    context.claims().map(|claims| claims.agency_id)
}

impl DeliveryService for Delivery {
    async fn get_subscriptions(
        &self,
        request: GetSubscriptionsRequest,
        context: Context,
    ) -> GetSubscriptionsResponse {
        let Some(agency_id) = agency(&context) else {
            return GetSubscriptionsResponse::Unauthorized;
        };
        let filter = subscriptions::Filter {
            stream: request.stream,
            ..Default::default()
        };
        let page = Page::new(request.limit, request.offset).sorted(request.sort);
        let scope = subscriptions::Scope { agency_id };
        match subscriptions::list(&self.db, &scope, &filter, &page).await {
            Ok(found) => GetSubscriptionsResponse::Ok(found),
            Err(e) => failed(e),
        }
    }

    async fn get_subscriptions_by_id(
        &self,
        request: GetSubscriptionsByIdRequest,
        context: Context,
    ) -> GetSubscriptionsByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return GetSubscriptionsByIdResponse::Unauthorized;
        };
        match self.subscription(agency_id, &request.id).await {
            Some(subscription) => GetSubscriptionsByIdResponse::Ok(subscription),
            None => GetSubscriptionsByIdResponse::NotFound,
        }
    }

    async fn post_subscriptions(
        &self,
        request: PostSubscriptionsRequest,
        context: Context,
    ) -> PostSubscriptionsResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsResponse::Unauthorized;
        };
        let form = self.full_stream_name(request.body);
        let start = form.start.clone().unwrap_or_else(|| "latest".to_owned());
        let mut violations = self.check(&form);
        if !matches!(start.as_str(), "latest" | "earliest")
            && DateTime::parse_from_rfc3339(&start).is_err()
        {
            violations.push(violation(
                "body.start",
                "must be latest, earliest or an RFC 3339 time",
            ));
        }
        if !violations.is_empty() {
            return PostSubscriptionsResponse::UnprocessableEntity(invalid(violations));
        }
        // `latest` is recorded as the sequence it means now, in the row itself, so
        // the relay starts there whenever it binds.
        let start_sequence = if start == "latest" {
            match self.streams.info(&form.stream).await {
                Ok(info) => Some(info.last_sequence.saturating_add(1)),
                Err(StreamError::StreamNotFound(_)) => Some(1),
                Err(e) => panic!("streams failure: {e}"),
            }
        } else {
            None
        };
        let subscription = Subscription {
            id: format!("sub_{}", Uuid::new_v4().simple()),
            agency_id,
            stream: form.stream,
            event_types: form.event_types,
            url: form.url,
            headers: form.headers,
            mode: form.mode.unwrap_or(SubscriptionMode::Push),
            delivery_policy: form.delivery_policy.unwrap_or_else(default_policy),
            throttle: form.throttle,
            shards: form.shards.unwrap_or(DEFAULT_SHARDS),
            shard_epoch: 0,
            status: SubscriptionStatus::Creating,
            disabled_reason: None,
            start,
            start_sequence: start_sequence.and_then(|s| i64::try_from(s).ok()),
            secret: new_secret(),
            previous_secret: None,
            previous_secret_expires_at: None,
        };
        let scope = subscriptions::Scope { agency_id };
        if let Err(e) = subscriptions::insert(&self.db, &scope, &subscription).await {
            failed(e)
        }
        // Bind the relay's consumer now, so the subscription answers active; when
        // the stream does not exist yet, the relay binds it later.
        let subscription = match relay::bind(&self.streams, &subscription).await {
            Ok(_) => {
                let active = Subscription {
                    status: SubscriptionStatus::Active,
                    ..subscription
                };
                if let Err(e) = subscriptions::update(&self.db, &scope, &active).await {
                    failed(e)
                }
                active
            }
            Err(e) => {
                tracing::info!(subscription = %subscription.id, error = %e, "relay not bound yet");
                subscription
            }
        };
        self.changed.notify_one();
        PostSubscriptionsResponse::Created(subscription)
    }

    async fn get_subscriptions_stats_by_id(
        &self,
        request: GetSubscriptionsStatsByIdRequest,
        context: Context,
    ) -> GetSubscriptionsStatsByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return GetSubscriptionsStatsByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return GetSubscriptionsStatsByIdResponse::NotFound;
        };
        let counts = match store::message_counts(&self.db, agency_id, &subscription.id).await {
            Ok(counts) => counts,
            Err(e) => failed(e),
        };
        // The relay's consumer: what the stream holds that it has not taken in.
        let consumer = relay::consumer_name(&subscription.id);
        let lag = match self.streams.info(&subscription.stream).await {
            Ok(info) => info
                .consumers
                .iter()
                .find(|c| c.name == consumer)
                .map_or(0, |c| c.lag()),
            Err(StreamError::StreamNotFound(_)) => 0,
            Err(e) => panic!("streams failure: {e}"),
        };
        GetSubscriptionsStatsByIdResponse::Ok(DeliverySummary {
            delivered: counts.delivered,
            pending: counts.pending,
            failing: counts.failing,
            leased: counts.leased,
            dead: counts.dead,
            lag: i64::try_from(lag).unwrap_or(i64::MAX),
        })
    }

    async fn put_subscriptions_by_id(
        &self,
        request: PutSubscriptionsByIdRequest,
        context: Context,
    ) -> PutSubscriptionsByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PutSubscriptionsByIdResponse::Unauthorized;
        };
        let Some(current) = self.subscription(agency_id, &request.id).await else {
            return PutSubscriptionsByIdResponse::NotFound;
        };
        let form = self.full_stream_name(request.body);
        let mut violations = self.check(&form);
        if form.stream != current.stream {
            violations.push(violation(
                "body.stream",
                &format!("cannot change (subscribe again): it is {}", current.stream),
            ));
        }
        if !violations.is_empty() {
            return PutSubscriptionsByIdResponse::UnprocessableEntity(invalid(violations));
        }
        // Other shards: the next epoch (see `shards.rs`).
        let shards = form.shards.unwrap_or(current.shards);
        let shard_epoch = if shards == current.shards {
            current.shard_epoch
        } else {
            current.shard_epoch.saturating_add(1)
        };
        let changed = Subscription {
            event_types: form.event_types,
            url: form.url,
            headers: form.headers,
            mode: form.mode.unwrap_or(current.mode.clone()),
            delivery_policy: form.delivery_policy.unwrap_or_else(default_policy),
            throttle: form.throttle,
            shards,
            shard_epoch,
            ..current
        };
        match subscriptions::update(&self.db, &subscriptions::Scope { agency_id }, &changed).await {
            Ok(Write::Changed | Write::Unchanged) => {
                self.changed.notify_one();
                PutSubscriptionsByIdResponse::Ok(changed)
            }
            Ok(Write::NotFound) => PutSubscriptionsByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }

    async fn post_subscriptions_pause_by_id(
        &self,
        request: PostSubscriptionsPauseByIdRequest,
        context: Context,
    ) -> PostSubscriptionsPauseByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsPauseByIdResponse::Unauthorized;
        };
        match self
            .set_status(agency_id, &request.id, SubscriptionStatus::Paused)
            .await
        {
            true => PostSubscriptionsPauseByIdResponse::NoContent,
            false => PostSubscriptionsPauseByIdResponse::NotFound,
        }
    }

    async fn post_subscriptions_resume_by_id(
        &self,
        request: PostSubscriptionsResumeByIdRequest,
        context: Context,
    ) -> PostSubscriptionsResumeByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsResumeByIdResponse::Unauthorized;
        };
        let found = self
            .set_status(agency_id, &request.id, SubscriptionStatus::Active)
            .await;
        self.changed.notify_one();
        self.bell.ring().await;
        match found {
            true => PostSubscriptionsResumeByIdResponse::NoContent,
            false => PostSubscriptionsResumeByIdResponse::NotFound,
        }
    }

    async fn post_subscriptions_rotate_by_id(
        &self,
        request: PostSubscriptionsRotateByIdRequest,
        context: Context,
    ) -> PostSubscriptionsRotateByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsRotateByIdResponse::Unauthorized;
        };
        let Some(current) = self.subscription(agency_id, &request.id).await else {
            return PostSubscriptionsRotateByIdResponse::NotFound;
        };
        let rotated = Subscription {
            secret: new_secret(),
            previous_secret: Some(current.secret.clone()),
            previous_secret_expires_at: Some(Utc::now() + sign::ROTATION_OVERLAP),
            ..current
        };
        let scope = subscriptions::Scope { agency_id };
        match subscriptions::update(&self.db, &scope, &rotated).await {
            Ok(Write::Changed | Write::Unchanged) => {
                PostSubscriptionsRotateByIdResponse::Created(rotated)
            }
            Ok(Write::NotFound) => PostSubscriptionsRotateByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }

    async fn post_subscriptions_redrive_by_id(
        &self,
        request: PostSubscriptionsRedriveByIdRequest,
        context: Context,
    ) -> PostSubscriptionsRedriveByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsRedriveByIdResponse::Unauthorized;
        };
        if self.subscription(agency_id, &request.id).await.is_none() {
            return PostSubscriptionsRedriveByIdResponse::NotFound;
        }
        let scope = messages::Scope { agency_id };
        let filter = messages::Filter {
            subscription_id: Some(request.id),
            status: Some(MessageStatus::Dead),
            ..Default::default()
        };
        let mut requeued = 0;
        loop {
            // Requeued messages leave the filter, so the first page is always next.
            let page = Page::new(Page::MAX_LIMIT, 0).sorted("created_at");
            let dead = match messages::list(&self.db, &scope, &filter, &page).await {
                Ok(dead) => dead,
                Err(e) => failed(e),
            };
            if dead.is_empty() {
                break;
            }
            for message in dead {
                if let Err(e) = messages::update(&self.db, &scope, &requeue(message)).await {
                    failed(e)
                }
                requeued += 1;
            }
        }
        self.bell.ring().await;
        PostSubscriptionsRedriveByIdResponse::Accepted(RedriveResult { requeued })
    }

    async fn post_subscriptions_receive_by_id(
        &self,
        request: PostSubscriptionsReceiveByIdRequest,
        context: Context,
    ) -> PostSubscriptionsReceiveByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsReceiveByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return PostSubscriptionsReceiveByIdResponse::NotFound;
        };
        if subscription.mode != SubscriptionMode::Pull {
            return PostSubscriptionsReceiveByIdResponse::Conflict;
        }
        match self.receive(&subscription, &request.body).await {
            Ok(messages) => PostSubscriptionsReceiveByIdResponse::Ok(Received { messages }),
            Err(e) => failed(e),
        }
    }

    async fn post_subscriptions_ack_by_id(
        &self,
        request: PostSubscriptionsAckByIdRequest,
        context: Context,
    ) -> PostSubscriptionsAckByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsAckByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return PostSubscriptionsAckByIdResponse::NotFound;
        };
        match self
            .answer(&subscription, &request.body.leases, Answer::Ack)
            .await
        {
            Ok(result) => PostSubscriptionsAckByIdResponse::Ok(result),
            Err(e) => failed(e),
        }
    }

    async fn post_subscriptions_nack_by_id(
        &self,
        request: PostSubscriptionsNackByIdRequest,
        context: Context,
    ) -> PostSubscriptionsNackByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsNackByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return PostSubscriptionsNackByIdResponse::NotFound;
        };
        match self
            .answer(&subscription, &request.body.leases, Answer::Nack)
            .await
        {
            Ok(result) => PostSubscriptionsNackByIdResponse::Ok(result),
            Err(e) => failed(e),
        }
    }

    async fn post_subscriptions_delay_by_id(
        &self,
        request: PostSubscriptionsDelayByIdRequest,
        context: Context,
    ) -> PostSubscriptionsDelayByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostSubscriptionsDelayByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return PostSubscriptionsDelayByIdResponse::NotFound;
        };
        match self.delay(&subscription, &request.body.delays).await {
            Ok(result) => PostSubscriptionsDelayByIdResponse::Ok(result),
            Err(e) => failed(e),
        }
    }

    async fn delete_subscriptions_by_id(
        &self,
        request: DeleteSubscriptionsByIdRequest,
        context: Context,
    ) -> DeleteSubscriptionsByIdResponse {
        let Some(agency_id) = agency(&context) else {
            return DeleteSubscriptionsByIdResponse::Unauthorized;
        };
        let Some(subscription) = self.subscription(agency_id, &request.id).await else {
            return DeleteSubscriptionsByIdResponse::NotFound;
        };
        let scope = subscriptions::Scope { agency_id };
        match subscriptions::delete_by_id(&self.db, &scope, &subscription.id).await {
            Ok(true) => {}
            Ok(false) => return DeleteSubscriptionsByIdResponse::NotFound,
            Err(e) => failed(e),
        }
        self.changed.notify_one();
        let consumer = relay::consumer_name(&subscription.id);
        match self
            .streams
            .delete_consumer(&subscription.stream, &consumer)
            .await
        {
            Ok(()) | Err(StreamError::ConsumerNotFound { .. } | StreamError::StreamNotFound(_)) => {
            }
            Err(e) => tracing::warn!(consumer, error = %e, "cannot delete the relay's consumer"),
        }
        DeleteSubscriptionsByIdResponse::NoContent
    }

    async fn get_messages_by_subscription_id(
        &self,
        request: GetMessagesBySubscriptionIdRequest,
        context: Context,
    ) -> GetMessagesBySubscriptionIdResponse {
        let Some(agency_id) = agency(&context) else {
            return GetMessagesBySubscriptionIdResponse::Unauthorized;
        };
        if self
            .subscription(agency_id, &request.subscription_id)
            .await
            .is_none()
        {
            return GetMessagesBySubscriptionIdResponse::NotFound;
        }
        let filter = messages::Filter {
            subscription_id: Some(request.subscription_id),
            status: request.status,
            ..Default::default()
        };
        let page = Page::new(request.limit, request.offset).sorted(request.sort);
        match messages::list(&self.db, &messages::Scope { agency_id }, &filter, &page).await {
            Ok(found) => GetMessagesBySubscriptionIdResponse::Ok(found),
            Err(e) => failed(e),
        }
    }

    async fn get_attempts_by_subscription_id_and_message_id(
        &self,
        request: GetAttemptsBySubscriptionIdAndMessageIdRequest,
        context: Context,
    ) -> GetAttemptsBySubscriptionIdAndMessageIdResponse {
        let Some(agency_id) = agency(&context) else {
            return GetAttemptsBySubscriptionIdAndMessageIdResponse::Unauthorized;
        };
        let found = self.message(agency_id, &request.subscription_id, &request.message_id);
        if found.await.is_none() {
            return GetAttemptsBySubscriptionIdAndMessageIdResponse::NotFound;
        }
        let filter = attempts::Filter {
            message_id: Some(request.message_id),
            ..Default::default()
        };
        let page = Page::new(request.limit, request.offset).sorted(request.sort);
        match attempts::list(&self.db, &attempts::Scope { agency_id }, &filter, &page).await {
            Ok(found) => GetAttemptsBySubscriptionIdAndMessageIdResponse::Ok(found),
            Err(e) => failed(e),
        }
    }

    async fn post_messages_redrive_by_subscription_id_and_id(
        &self,
        request: PostMessagesRedriveBySubscriptionIdAndIdRequest,
        context: Context,
    ) -> PostMessagesRedriveBySubscriptionIdAndIdResponse {
        let Some(agency_id) = agency(&context) else {
            return PostMessagesRedriveBySubscriptionIdAndIdResponse::Unauthorized;
        };
        let Some(message) = self
            .message(agency_id, &request.subscription_id, &request.id)
            .await
        else {
            return PostMessagesRedriveBySubscriptionIdAndIdResponse::NotFound;
        };
        let message = if message.status == MessageStatus::Dead {
            let requeued = requeue(message);
            if let Err(e) =
                messages::update(&self.db, &messages::Scope { agency_id }, &requeued).await
            {
                failed(e)
            }
            self.bell.ring().await;
            requeued
        } else {
            message
        };
        PostMessagesRedriveBySubscriptionIdAndIdResponse::Accepted(message)
    }
}

impl Delivery {
    async fn subscription(&self, agency_id: Uuid, id: &str) -> Option<Subscription> {
        let scope = subscriptions::Scope { agency_id };
        match subscriptions::find_by_id(&self.db, &scope, id).await {
            Ok(found) => found,
            Err(e) => failed(e),
        }
    }

    /// The message, when it belongs to that subscription of the caller's agency.
    async fn message(&self, agency_id: Uuid, subscription_id: &str, id: &str) -> Option<Message> {
        match messages::find_by_id(&self.db, &messages::Scope { agency_id }, id).await {
            Ok(found) => found.filter(|m| m.subscription_id == subscription_id),
            Err(e) => failed(e),
        }
    }

    /// Set a subscription's status (a resumed one loses its disabled reason);
    /// whether it was found.
    async fn set_status(&self, agency_id: Uuid, id: &str, status: SubscriptionStatus) -> bool {
        let Some(current) = self.subscription(agency_id, id).await else {
            return false;
        };
        let changed = Subscription {
            status,
            disabled_reason: None,
            ..current
        };
        match subscriptions::update(&self.db, &subscriptions::Scope { agency_id }, &changed).await {
            Ok(write) => write != Write::NotFound,
            Err(e) => failed(e),
        }
    }

    /// The form with its stream's full name when it names a relayed stream by
    /// its union name (`user_event`); else as it is (and checked).
    fn full_stream_name(&self, form: SubscriptionForm) -> SubscriptionForm {
        match self.settings.relayed(&form.stream) {
            Some(full) if full != form.stream => SubscriptionForm {
                stream: full.to_owned(),
                ..form
            },
            _ => form,
        }
    }

    /// What the spec's checks cannot see in a form, every violation.
    fn check(&self, form: &SubscriptionForm) -> Vec<Violation> {
        let mut violations = Vec::new();
        if !self.settings.streams.contains(&form.stream) {
            let relayed = if self.settings.streams.is_empty() {
                "none is configured".to_owned()
            } else {
                format!("relayed: {}", self.settings.streams.join(", "))
            };
            violations.push(violation(
                "body.stream",
                &format!("is not relayed by this service ({relayed})"),
            ));
        }
        if let Err(why) = self.settings.targets.check_url(&form.url) {
            violations.push(violation("body.url", &why));
        }
        for (name, value) in form.headers.iter().flatten() {
            let valid = HeaderName::try_from(name.as_str()).is_ok()
                && HeaderValue::try_from(value.as_str()).is_ok();
            let reserved = name.to_ascii_lowercase().starts_with("webhook-")
                || name.eq_ignore_ascii_case("content-type")
                || name.eq_ignore_ascii_case("host")
                || name.eq_ignore_ascii_case("content-length");
            if !valid || reserved {
                let why = if valid {
                    "is set by the service"
                } else {
                    "is not a valid HTTP header"
                };
                violations.push(violation(&format!("body.headers.{name}"), why));
            }
        }
        if let Some(delivery_policy) = &form.delivery_policy {
            for error in policy::check(delivery_policy) {
                violations.push(violation(
                    &format!("body.delivery_policy.{}", error.field),
                    &error.message,
                ));
            }
        }
        violations
    }
}

/// Shards of a subscription that names none (the spec's default for `subscription.shards`).
const DEFAULT_SHARDS: i32 = 4;

/// A dead message back in the queue: due now, with the whole policy ahead.
fn requeue(message: Message) -> Message {
    Message {
        status: MessageStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(Utc::now()),
        last_error: None,
        lease: None,
        ..message
    }
}

/// A new signing secret. Without randomness from the system the service cannot
/// work safely: its failure (500), never a weak secret.
fn new_secret() -> String {
    match sign::new_secret() {
        Ok(secret) => secret,
        Err(e) => panic!("no randomness for a secret: {e}"),
    }
}

/// The policy of a subscription that gives none: the spec's defaults (SNS's).
fn default_policy() -> DeliveryPolicy {
    // Every field of `delivery_policy` has a default in the spec.
    serde_json::from_str("{}").expect("delivery_policy defaults every field")
}

fn violation(path: &str, message: &str) -> Violation {
    Violation {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

fn invalid(violations: Vec<Violation>) -> ValidationError {
    let message = match violations.len() {
        1 => "1 invalid input".to_owned(),
        n => format!("{n} invalid inputs"),
    };
    ValidationError {
        code: "validation_failed".to_owned(),
        message,
        violations: Some(violations),
    }
}

/// The database failed (not the input): the service's failure. The router catches
/// the panic and answers a JSON 500.
fn failed(e: DbError) -> ! {
    panic!("database failure: {e}")
}
