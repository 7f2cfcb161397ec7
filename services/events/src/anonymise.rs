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
        let Some(user_id) = token_user_id(&event.id) else {
            // No token can name this user: it has no events here.
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

/// The `u-id` tokens carry for the users service's user `id`: a uuid, written
/// bare or as the users service writes its ids (`usr-` + the uuid's 32 hex digits).
fn token_user_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id.strip_prefix("usr-").unwrap_or(id)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_ids_name_token_users() {
        let uuid = Uuid::from_u128(0x0190f5a4_7e2b_7c3a_9d1e_2b1f6c0a4e55);
        assert_eq!(
            token_user_id("0190f5a4-7e2b-7c3a-9d1e-2b1f6c0a4e55"),
            Some(uuid)
        );
        assert_eq!(
            token_user_id("usr-0190f5a47e2b7c3a9d1e2b1f6c0a4e55"),
            Some(uuid)
        );
        assert_eq!(token_user_id("usr-20151006-1"), None);
        assert_eq!(token_user_id(""), None);
    }
}
