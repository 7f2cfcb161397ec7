//! The data both servers start with, so their answers are byte-for-byte alike.

/// How many users each server holds in memory.
pub const USERS: usize = 1_000;

/// One user of the seed data, in neither server's types.
#[derive(Debug)]
pub struct SeedUser {
    pub id: String,
    pub email: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    /// One of `pending`, `active`, `inactive`.
    pub status: &'static str,
}

/// `usr-0` .. `usr-999`: every third user has no email, statuses rotate.
pub fn seed() -> Vec<SeedUser> {
    const STATUSES: [&str; 3] = ["active", "pending", "inactive"];
    (0..USERS)
        .map(|i| SeedUser {
            id: format!("usr-{i}"),
            email: (i % 3 != 2).then(|| format!("user{i}@example.com")),
            first: Some(format!("First{i}")),
            last: (i % 2 == 0).then(|| format!("Last{i}")),
            status: STATUSES[i % STATUSES.len()],
        })
        .collect()
}

/// The id of the `n`th user created by `POST /users` (not stored: see the crate docs).
pub fn new_id(n: u64) -> String {
    format!("usr-new-{n}")
}
