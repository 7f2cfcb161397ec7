//! The consumer of the users stream: a deleted user's events are kept, their
//! personal data erased, in every agency.

use blueprint::consume::{ConsumeError, EventMeta};
use blueprint::db::Tx;
use blueprint::uuid::Uuid;
use events_api::consumers::UserEventConsumer;
use events_api::dao::events;
use events_api::models::io_blueprint_users_v0::{UserDeleted, UserUpserted};

/// Erases the personal data of deleted users' events.
///
/// Applied once per event by the consumer's inbox (its mark commits with the
/// erasure, in `tx`), and idempotent besides: the erasure changes only rows
/// still holding personal data, so a replay changes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymiser;

impl UserEventConsumer for Anonymiser {
    async fn user_upserted(
        &self,
        _tx: &mut Tx,
        _event: UserUpserted,
        _meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        // Nothing of a user is kept here but the id its tokens carry.
        Ok(())
    }

    async fn user_deleted(
        &self,
        tx: &mut Tx,
        event: UserDeleted,
        _meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        // Tokens name users by uuid (`u-id`): another id has no events here.
        let Ok(user_id) = Uuid::parse_str(&event.id) else {
            return Ok(());
        };
        let filter = events::Filter {
            user_id: Some(user_id),
            ..Default::default()
        };
        events::erase_personal_data(&mut *tx, &filter).await?;
        Ok(())
    }
}
