//! Standard Webhooks signatures: the runtime's `blueprint::webhook` (one
//! implementation for the signer here and for receivers such as `dev webhook
//! listen`), and how long a rotated-out secret keeps signing.

pub use blueprint::webhook::{new_secret, secret_key, signature};

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: blueprint::chrono::TimeDelta = blueprint::chrono::TimeDelta::hours(24);
