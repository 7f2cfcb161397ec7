//! The {{key}} API on its database: each operation is a DAO call. Writes go through
//! the generated DAO, so every change is journaled (and published on
//! `{{model}}_event`) by the database, not by this code.

use blueprint::db::{Db, DbError, Page, Write};
use blueprint::server::Context;
use {{crate}}::dao::{{table}}::{self, Filter};
use {{crate}}::models::{ {{Model}}, {{Model}}Form };
use {{crate}}::operations::{
    Delete{{Plural}}ByIdRequest, Delete{{Plural}}ByIdResponse, Get{{Plural}}ByIdRequest,
    Get{{Plural}}ByIdResponse, Get{{Plural}}Request, Get{{Plural}}Response, Post{{Plural}}Request,
    Post{{Plural}}Response, Put{{Plural}}ByIdRequest, Put{{Plural}}ByIdResponse,
};
use {{crate}}::server::{{Service}};

/// The `{{key}}` service's implementation.
#[derive(Debug, Clone)]
pub struct {{Plural}} {
    db: Db,
}

impl {{Plural}} {
    pub fn new(db: Db) -> {{Plural}} {
        {{Plural}} { db }
    }
}

impl {{Service}} for {{Plural}} {
    async fn get_{{plural}}(&self, request: Get{{Plural}}Request, _: Context) -> Get{{Plural}}Response {
        let filter = Filter {
            name: request.name,
            ..Filter::default()
        };
        let page = Page::new(request.limit, request.offset).sorted(request.sort);
        match {{table}}::list(&self.db, &filter, &page).await {
            Ok(found) => Get{{Plural}}Response::Ok(found),
            Err(e) => failed(e),
        }
    }

    async fn get_{{plural}}_by_id(
        &self,
        request: Get{{Plural}}ByIdRequest,
        _: Context,
    ) -> Get{{Plural}}ByIdResponse {
        match {{table}}::find_by_id(&self.db, &request.id).await {
            Ok(Some(found)) => Get{{Plural}}ByIdResponse::Ok(found),
            Ok(None) => Get{{Plural}}ByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }

    async fn post_{{plural}}(&self, request: Post{{Plural}}Request, _: Context) -> Post{{Plural}}Response {
        let {{Model}}Form { name, description } = request.body;
        let created = {{Model}} {
            id: format!("{{prefix}}-{}", blueprint::uuid::Uuid::new_v4().simple()),
            name,
            description,
        };
        match {{table}}::insert(&self.db, &created).await {
            Ok(()) => Post{{Plural}}Response::Created(created),
            // What the database refuses (a taken unique value) is the declared 422.
            Err(e) => e.into(),
        }
    }

    async fn put_{{plural}}_by_id(
        &self,
        request: Put{{Plural}}ByIdRequest,
        _: Context,
    ) -> Put{{Plural}}ByIdResponse {
        let {{Model}}Form { name, description } = request.body;
        let changed = {{Model}} {
            id: request.id,
            name,
            description,
        };
        // Unchanged content writes nothing, journals nothing, publishes nothing.
        match {{table}}::update(&self.db, &changed).await {
            Ok(Write::Changed | Write::Unchanged) => Put{{Plural}}ByIdResponse::Ok(changed),
            Ok(Write::NotFound) => Put{{Plural}}ByIdResponse::NotFound,
            Err(e) => e.into(),
        }
    }

    async fn delete_{{plural}}_by_id(
        &self,
        request: Delete{{Plural}}ByIdRequest,
        _: Context,
    ) -> Delete{{Plural}}ByIdResponse {
        match {{table}}::delete_by_id(&self.db, &request.id).await {
            Ok(true) => Delete{{Plural}}ByIdResponse::NoContent,
            Ok(false) => Delete{{Plural}}ByIdResponse::NotFound,
            Err(e) => failed(e),
        }
    }
}

/// The database failed (not the input): the service's failure. The router catches
/// the panic and answers a JSON 500, as the generated `From<DbError>` does.
fn failed(e: DbError) -> ! {
    panic!("database failure: {e}")
}
