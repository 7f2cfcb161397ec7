//! The users API on its database: each operation is a DAO call. Writes go
//! through the generated DAO, so every change is journaled by the database's
//! triggers and published on `user_event` by the service's publisher, not by
//! this code.

use blueprint::db::{Db, DbError, Page, Write};
use blueprint::server::Context;
use users_api::dao::users::{self, Filter};
use users_api::models::{User, UserForm, UserStatus};
use users_api::operations::{
    DeleteUsersByIdRequest, DeleteUsersByIdResponse, GetUsersByIdRequest, GetUsersByIdResponse,
    GetUsersRequest, GetUsersResponse, PostUsersRequest, PostUsersResponse, PutUsersByIdRequest,
    PutUsersByIdResponse,
};
use users_api::server::UsersService;

/// The `users` service's implementation.
#[derive(Debug, Clone)]
pub struct Users {
    db: Db,
}

impl Users {
    pub fn new(db: Db) -> Users {
        Users { db }
    }
}

impl UsersService for Users {
    async fn get_users(&self, request: GetUsersRequest, _: Context) -> GetUsersResponse {
        let filter = Filter {
            id: request.id.into_iter().next(),
            email: request.email,
            status: request.status,
        };
        let page = Page::new(request.limit, request.offset).sorted(request.sort);
        match users::list(&self.db, &filter, &page).await {
            Ok(found) => GetUsersResponse::Ok(found),
            Err(e) => failed(e),
        }
    }

    async fn get_users_by_id(
        &self,
        request: GetUsersByIdRequest,
        _: Context,
    ) -> GetUsersByIdResponse {
        match users::find_by_id(&self.db, &request.id).await {
            Ok(Some(user)) => GetUsersByIdResponse::Ok(user),
            Ok(None) => GetUsersByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }

    async fn post_users(&self, request: PostUsersRequest, _: Context) -> PostUsersResponse {
        let UserForm {
            email,
            name,
            status,
        } = request.body;
        let user = User {
            id: new_id(),
            email,
            name,
            status: status.unwrap_or(UserStatus::Active),
        };
        match users::insert(&self.db, &user).await {
            Ok(()) => PostUsersResponse::Created(user),
            // A taken email is the declared 422 (the generated conversion).
            Err(e) => e.into(),
        }
    }

    async fn put_users_by_id(
        &self,
        request: PutUsersByIdRequest,
        _: Context,
    ) -> PutUsersByIdResponse {
        let current = match users::find_by_id(&self.db, &request.id).await {
            Ok(Some(user)) => user,
            Ok(None) => return PutUsersByIdResponse::NotFound,
            Err(e) => failed(e),
        };
        let UserForm {
            email,
            name,
            status,
        } = request.body;
        let user = User {
            id: current.id,
            email,
            name,
            status: status.unwrap_or(current.status),
        };
        // Unchanged content writes nothing, journals nothing, publishes nothing.
        match users::update(&self.db, &user).await {
            Ok(Write::Changed | Write::Unchanged) => PutUsersByIdResponse::Ok(user),
            Ok(Write::NotFound) => PutUsersByIdResponse::NotFound,
            Err(e) => e.into(),
        }
    }

    async fn delete_users_by_id(
        &self,
        request: DeleteUsersByIdRequest,
        _: Context,
    ) -> DeleteUsersByIdResponse {
        match users::delete_by_id(&self.db, &request.id).await {
            Ok(true) => DeleteUsersByIdResponse::NoContent,
            Ok(false) => DeleteUsersByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }
}

/// A new user's id: `usr-` and a random UUID's 32 hex digits.
fn new_id() -> String {
    format!("usr-{}", blueprint::uuid::Uuid::new_v4().simple())
}

/// The database failed (not the input): the service's failure. The router catches
/// the panic and answers a JSON 500, as the generated `From<DbError>` does.
fn failed(e: DbError) -> ! {
    panic!("database failure: {e}")
}
