//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), both sides:
//! the delivery service signs with [`signature`], receivers (`dev webhook
//! listen`, tests, benchmarks) check with [`verify`].
//!
//! A secret is `whsec_` + base64 of random bytes; a webhook is signed over
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
pub const SECRET_BYTES: usize = 32;
/// How far a webhook's timestamp may be from the receiver's clock (replays).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// The webhook's id: the same on every attempt, so receivers dedupe by it.
pub const ID_HEADER: &str = "webhook-id";
/// Seconds since the Unix epoch when this attempt was signed.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// `v1,<base64>` entries, space-separated.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

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

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// `webhook-signature`'s value for a message signed with each of `keys` (the
/// current secret first, then those still valid during a rotation).
pub fn signature(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut header = String::new();
    for key in keys {
        let Some(mac) = mac(key, id, timestamp, body) else {
            continue;
        };
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        header.push_str(&BASE64_STANDARD.encode(mac.finalize().into_bytes()));
    }
    header
}

/// Why a webhook is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the secret is not whsec_ followed by base64")]
    Secret,
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("webhook-timestamp is not a number of seconds")]
    Timestamp,
    #[error("webhook-timestamp is {0} s away from now (more than {TOLERANCE_SECONDS} s)")]
    Stale(i64),
    #[error("no v1 signature matches")]
    Signature,
}

/// Check a webhook signed with `secret` (its `webhook-*` headers as `(id,
/// timestamp, signature)`), at `now` (Unix seconds): the timestamp within
/// [`TOLERANCE_SECONDS`], and one `v1` entry of the signature the HMAC of the
/// id, timestamp and body (compared in constant time).
pub fn verify(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let key = secret_key(secret).ok_or(VerifyError::Secret)?;
    let id = id.ok_or(VerifyError::Missing(ID_HEADER))?;
    let timestamp = timestamp.ok_or(VerifyError::Missing(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(VerifyError::Missing(SIGNATURE_HEADER))?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > TOLERANCE_SECONDS {
        return Err(VerifyError::Stale(skew));
    }
    let mac = mac(&key, id, timestamp, body).ok_or(VerifyError::Secret)?;
    let matches = signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| BASE64_STANDARD.decode(encoded).ok())
        .any(|expected| mac.clone().verify_slice(&expected).is_ok());
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Signature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    /// The Standard Webhooks specification's example: this secret, id, timestamp
    /// and body sign to this signature (its reference libraries test the same).
    #[test]
    fn signs_like_the_specification() {
        let key = secret_key(SECRET).unwrap();
        assert_eq!(signature(&[key], ID, 1614265330, BODY), SIGNED);
    }

    #[test]
    fn new_secrets_are_random_and_decode() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
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

    #[test]
    fn verifies_what_it_signs_and_nothing_else() {
        let at = 1614265330;
        let check = |secret: &str, ts: &str, sig: &str, body: &[u8], now: i64| {
            verify(secret, Some(ID), Some(ts), Some(sig), body, now)
        };
        assert_eq!(check(SECRET, "1614265330", SIGNED, BODY, at), Ok(()));
        // Any entry of a rotation may match.
        let rotated = format!("v1,AAAA {SIGNED}");
        assert_eq!(check(SECRET, "1614265330", &rotated, BODY, at + 60), Ok(()));
        assert_eq!(
            check(SECRET, "1614265330", SIGNED, br#"{"test": 2432232315}"#, at),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            check(SECRET, "1614265331", SIGNED, BODY, at),
            Err(VerifyError::Signature)
        );
        let other = new_secret().unwrap();
        assert_eq!(
            check(&other, "1614265330", SIGNED, BODY, at),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            check(SECRET, "1614265330", SIGNED, BODY, at + 301),
            Err(VerifyError::Stale(301))
        );
        assert_eq!(
            check(SECRET, "soon", SIGNED, BODY, at),
            Err(VerifyError::Timestamp)
        );
        assert_eq!(
            verify(SECRET, None, Some("1"), Some(SIGNED), BODY, 1),
            Err(VerifyError::Missing(ID_HEADER))
        );
    }
}
