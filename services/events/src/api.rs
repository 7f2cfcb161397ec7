//! The events API on the generated DAO: every call is confined to the caller's
//! agency by the table's `Scope`, built from the verified token.

use blueprint::chrono::{SubsecRound, Utc};
use blueprint::db::{Db, DbError, Keyset};
use blueprint::server::Context;
use blueprint::uuid::Uuid;
use events_api::dao::events;
use events_api::models::{Event, EventPage};
use events_api::operations::*;
use events_api::server::EventsService;

/// Lists are newest first; the cursor keeps that order stable between pages.
const NEWEST_FIRST: &str = "-occurred_at";

/// The events service: its database.
#[derive(Debug, Clone)]
pub struct Events {
    db: Db,
}

impl Events {
    pub fn new(db: Db) -> Events {
        Events { db }
    }
}

/// The caller's agency. The generated router calls these methods only for
/// verified callers, whose tokens carry `a-id`; `None` never happens there.
fn scope(context: &Context) -> Option<events::Scope> {
    events::Scope::from_claims(context.claims()?).ok()
}

impl EventsService for Events {
    async fn get_events(&self, request: GetEventsRequest, context: Context) -> GetEventsResponse {
        let Some(scope) = scope(&context) else {
            return GetEventsResponse::Unauthorized;
        };
        let filter = events::Filter {
            r#type: request.r#type,
            user_id: request.user_id,
            occurred_at_from: request.from,
            occurred_at_to: request.to,
            ..Default::default()
        };
        let page = Keyset::new(request.limit, request.cursor).sorted(NEWEST_FIRST);
        match events::list_after(&self.db, &scope, &filter, &page).await {
            Ok(slice) => GetEventsResponse::Ok(EventPage {
                events: slice.rows,
                next_cursor: slice.next,
            }),
            // A cursor this list did not give: the declared 422.
            Err(e) => e.into(),
        }
    }

    async fn get_events_by_id(
        &self,
        request: GetEventsByIdRequest,
        context: Context,
    ) -> GetEventsByIdResponse {
        let Some(scope) = scope(&context) else {
            return GetEventsByIdResponse::Unauthorized;
        };
        // Another agency's event is not found (404), never forbidden: ids do not leak.
        match events::find_by_id(&self.db, &scope, &request.id).await {
            Ok(Some(event)) => GetEventsByIdResponse::Ok(event),
            Ok(None) => GetEventsByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }

    async fn post_events(
        &self,
        request: PostEventsRequest,
        context: Context,
    ) -> PostEventsResponse {
        let (Some(claims), Some(scope)) = (context.claims(), scope(&context)) else {
            return PostEventsResponse::Unauthorized;
        };
        let form = request.body;
        let event = Event {
            // Version 7: ids grow with time, so inserts append to the key's index.
            id: Uuid::now_v7().to_string(),
            // Agency and user come from the token, never from the body.
            agency_id: claims.agency_id,
            user_id: claims.user_id,
            r#type: form.r#type,
            // Stored to the millisecond on every database: answer what is stored.
            occurred_at: form.occurred_at.unwrap_or_else(Utc::now).trunc_subsecs(3),
            data: form.data,
            ip_address: form.ip_address,
            user_agent: form.user_agent,
        };
        match events::insert(&self.db, &scope, &event).await {
            Ok(()) => PostEventsResponse::Created(event),
            Err(e) => e.into(),
        }
    }

    async fn delete_events_by_id(
        &self,
        request: DeleteEventsByIdRequest,
        context: Context,
    ) -> DeleteEventsByIdResponse {
        // The router lets only the agency's admins (role `admin`) through.
        let Some(scope) = scope(&context) else {
            return DeleteEventsByIdResponse::Unauthorized;
        };
        match events::delete_by_id(&self.db, &scope, &request.id).await {
            Ok(true) => DeleteEventsByIdResponse::NoContent,
            // Another agency's event, too: its admins see none of it.
            Ok(false) => DeleteEventsByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }
}

/// The database failed (not the input): the service's failure. The router catches
/// the panic and answers a JSON 500, as the generated `From<DbError>` does.
fn failed(e: DbError) -> ! {
    panic!("database failure: {e}")
}
