//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a secret is
//! `whsec_` + base64 of random bytes; a webhook is signed over
//! `"{webhook-id}.{webhook-timestamp}.{body}"` with HMAC-SHA256 keyed by the
//! secret's decoded bytes, sent as `webhook-signature: v1,<base64>`, one
//! space-separated entry per secret while a secret is being rotated.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: blueprint::chrono::TimeDelta = blueprint::chrono::TimeDelta::hours(24);

/// A new signing secret from the operating system's random source.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0u8; SECRET_BYTES];
    getrandom::fill(&mut key)?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64_STANDARD.encode(key)))
}

/// The key a secret holds, or `None` when it is not `whsec_` + base64.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX)?;
    BASE64_STANDARD
        .decode(encoded)
        .ok()
        .filter(|k| !k.is_empty())
}

/// `webhook-signature`'s value for a message signed with each of `keys` (the
/// current secret first, then those still valid during a rotation).
pub fn signature(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut header = String::new();
    for key in keys {
        // HMAC takes keys of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            continue;
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        header.push_str(&BASE64_STANDARD.encode(mac.finalize().into_bytes()));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's example: this secret, id, timestamp
    /// and body sign to this signature (its reference libraries test the same).
    #[test]
    fn signs_like_the_specification() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_or_default();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_random_and_decode() {
        let (a, b) = (
            new_secret().unwrap_or_default(),
            new_secret().unwrap_or_default(),
        );
        assert_ne!(a, b);
        assert_eq!(secret_key(&a).map(|k| k.len()), Some(SECRET_BYTES));
        assert_eq!(secret_key("whsec_not base64!"), None);
        assert_eq!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), None);
    }

    #[test]
    fn one_entry_per_key_during_rotation() {
        let header = signature(&[vec![1; 24], vec![2; 24]], "msg_1", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.split(' ').all(|s| s.starts_with("v1,")));
    }
}
