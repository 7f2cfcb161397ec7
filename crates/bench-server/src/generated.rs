//! The Blueprint-generated server: the generated router (input extraction,
//! validation, 422 answers) around `Users`, which does the in-memory work.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use blueprint::axum::Router;
use blueprint::server::Context;

use crate::data;
use users_api::models::{Name, User, UserStatus};
use users_api::operations::{
    DeleteUsersByIdRequest, DeleteUsersByIdResponse, GetUsersByIdRequest, GetUsersByIdResponse,
    GetUsersRequest, GetUsersResponse, PostUsersRequest, PostUsersResponse, PutUsersByIdRequest,
    PutUsersByIdResponse,
};
use users_api::server::{UsersService, router};

/// The generated `users` router, serving the seed data.
pub fn app() -> Router {
    router(Users::new())
}

/// The users, in seed order, with an index by id.
#[derive(Debug)]
struct Users {
    all: Vec<User>,
    by_id: HashMap<String, usize>,
    created: AtomicU64,
}

impl Users {
    fn new() -> Self {
        let all: Vec<User> = data::seed()
            .into_iter()
            .map(|u| User {
                id: u.id,
                email: u.email,
                name: Name {
                    first: u.first,
                    last: u.last,
                },
                status: UserStatus::from(u.status),
            })
            .collect();
        let by_id = all
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        Users {
            all,
            by_id,
            created: AtomicU64::new(0),
        }
    }

    fn get(&self, id: &str) -> Option<&User> {
        self.by_id.get(id).map(|&i| &self.all[i])
    }
}

impl UsersService for Users {
    async fn get_users(&self, request: GetUsersRequest, _: Context) -> GetUsersResponse {
        // The router has checked limit in 1..=100 and offset >= 0.
        let offset = usize::try_from(request.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let users = self
            .all
            .iter()
            .filter(|u| request.id.is_empty() || request.id.contains(&u.id))
            .filter(|u| (request.email.as_deref()).is_none_or(|e| u.email.as_deref() == Some(e)))
            .filter(|u| request.status.as_ref().is_none_or(|s| u.status == *s))
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        GetUsersResponse::Ok(users)
    }

    async fn get_users_by_id(
        &self,
        request: GetUsersByIdRequest,
        _: Context,
    ) -> GetUsersByIdResponse {
        match self.get(&request.id) {
            Some(user) => GetUsersByIdResponse::Ok(user.clone()),
            None => GetUsersByIdResponse::NotFound,
        }
    }

    async fn post_users(&self, request: PostUsersRequest, _: Context) -> PostUsersResponse {
        let form = request.body;
        PostUsersResponse::Created(User {
            id: data::new_id(self.created.fetch_add(1, Ordering::Relaxed)),
            email: form.email,
            name: form.name,
            status: form.status.unwrap_or(UserStatus::Active),
        })
    }

    async fn put_users_by_id(
        &self,
        request: PutUsersByIdRequest,
        _: Context,
    ) -> PutUsersByIdResponse {
        let Some(user) = self.get(&request.id) else {
            return PutUsersByIdResponse::NotFound;
        };
        let form = request.body;
        PutUsersByIdResponse::Ok(User {
            id: user.id.clone(),
            email: form.email,
            name: form.name,
            status: form.status.unwrap_or_else(|| user.status.clone()),
        })
    }

    async fn delete_users_by_id(
        &self,
        request: DeleteUsersByIdRequest,
        _: Context,
    ) -> DeleteUsersByIdResponse {
        match self.get(&request.id) {
            Some(_) => DeleteUsersByIdResponse::NoContent,
            None => DeleteUsersByIdResponse::NotFound,
        }
    }
}
