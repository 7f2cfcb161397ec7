//! Public keys: read from PEM or JWKS, each pinned to its one algorithm.

use std::path::Path;

use ed25519_dalek::VerifyingKey as Ed25519Key;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::PublicKey as P256Key;
use pkcs8::DecodePublicKey;
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use spki::ObjectIdentifier;
use spki::der::pem;

/// The environment variable naming the public key file (PEM or JWKS).
pub const PUBLIC_KEY_ENV: &str = "BLUEPRINT_JWT_PUBLIC_KEY";

/// RSA keys shorter than this are refused (bits).
const MIN_RSA_BITS: usize = 2048;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// A public key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("no public key is configured: set {PUBLIC_KEY_ENV} to a PEM or JWKS file")]
    NotConfigured,
}

fn invalid(message: impl Into<String>) -> KeyError {
    KeyError::Invalid(message.into())
}

/// One verification key, pinned to its algorithm.
#[derive(Clone)]
pub(crate) struct Key {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
    /// Signature and algorithm only: claims are checked by the verifier, in one place.
    pub validation: Validation,
}

impl Key {
    fn new(kid: Option<String>, algorithm: Algorithm, decoding: DecodingKey) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Key {
            kid,
            algorithm,
            decoding,
            validation,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The public keys tokens are verified with.
#[derive(Debug, Clone)]
pub struct KeySet {
    pub(crate) keys: Vec<Key>,
}

impl KeySet {
    /// The key file named by `BLUEPRINT_JWT_PUBLIC_KEY`.
    pub fn from_env() -> Result<Self, KeyError> {
        match std::env::var_os(PUBLIC_KEY_ENV) {
            Some(path) if !path.is_empty() => Self::from_file(Path::new(&path)),
            _ => Err(KeyError::NotConfigured),
        }
    }

    /// A PEM file with one public key, or a JWKS file (JSON) with several.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let keys = if text.trim_start().starts_with('{') {
            Self::from_jwks(&text)
        } else {
            Self::from_pem(&text)
        };
        keys.map_err(|e| match e {
            KeyError::Invalid(m) => invalid(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// One public key in PEM: `PUBLIC KEY` (SubjectPublicKeyInfo: RSA, EC P-256 or
    /// Ed25519) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let (label, der) = pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| invalid(format!("not a PEM public key ({e})")))?;
        let key = match label {
            "PUBLIC KEY" => public_key_from_spki(&der)?,
            "RSA PUBLIC KEY" => rsa_key(
                RsaPublicKey::from_pkcs1_der(&der)
                    .map_err(|e| invalid(format!("invalid RSA public key: {e}")))?,
            )?,
            label if label.contains("PRIVATE KEY") => {
                return Err(invalid(
                    "this is a private key: a service is configured with the public key only",
                ));
            }
            other => {
                return Err(invalid(format!(
                    "a PEM `{other}` is not a public key (expected `PUBLIC KEY`)"
                )));
            }
        };
        Ok(KeySet { keys: vec![key] })
    }

    /// A JWKS document, `{"keys": [...]}`: RSA (RS256), EC P-256 (ES256) and OKP
    /// Ed25519 (EdDSA) keys; keys marked for encryption (`"use": "enc"`) are skipped.
    pub fn from_jwks(text: &str) -> Result<Self, KeyError> {
        let set: JwkSet =
            serde_json::from_str(text).map_err(|e| invalid(format!("not a JWKS document: {e}")))?;
        let mut keys = Vec::new();
        for (i, jwk) in set.keys.iter().enumerate() {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let name = jwk
                .common
                .key_id
                .as_deref()
                .map_or_else(|| format!("key {i}"), |kid| format!("key `{kid}`"));
            let key = jwk_key(jwk).map_err(|e| invalid(format!("{name}: {e}")))?;
            if let Some(kid) = &key.kid
                && keys.iter().any(|k: &Key| k.kid.as_ref() == Some(kid))
            {
                return Err(invalid(format!("{name} is in the set twice")));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(invalid("the JWKS has no signature verification key"));
        }
        Ok(KeySet { keys })
    }

    /// The algorithms the keys accept, one per key.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.keys.iter().map(|k| k.algorithm)
    }
}

fn public_key_from_spki(der: &[u8]) -> Result<Key, KeyError> {
    let spki = spki::SubjectPublicKeyInfoRef::try_from(der)
        .map_err(|e| invalid(format!("invalid public key: {e}")))?;
    let oid = spki.algorithm.oid;
    if oid == OID_RSA {
        rsa_key(
            RsaPublicKey::from_public_key_der(der)
                .map_err(|e| invalid(format!("invalid RSA public key: {e}")))?,
        )
    } else if oid == OID_EC {
        let key = P256Key::from_public_key_der(der)
            .map_err(|_| invalid("an EC public key must be on curve P-256 (ES256)"))?;
        Ok(p256_key(&key, None))
    } else if oid == OID_ED25519 {
        let key = Ed25519Key::from_public_key_der(der)
            .map_err(|e| invalid(format!("invalid Ed25519 public key: {e}")))?;
        Ok(ed25519_key(&key, None))
    } else {
        Err(invalid(format!(
            "unsupported public key algorithm {oid}: use RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)"
        )))
    }
}

fn rsa_key(key: RsaPublicKey) -> Result<Key, KeyError> {
    let bits = key.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(invalid(format!(
            "an RSA key of {bits} bits is too short (at least {MIN_RSA_BITS})"
        )));
    }
    Ok(Key::new(
        None,
        Algorithm::RS256,
        DecodingKey::from_rsa_raw_components(&key.n_bytes(), &key.e_bytes()),
    ))
}

fn p256_key(key: &P256Key, kid: Option<String>) -> Key {
    // The RustCrypto backend reads an EC key as its SEC1 point.
    Key::new(
        kid,
        Algorithm::ES256,
        DecodingKey::from_ec_der(&key.to_sec1_bytes()),
    )
}

fn ed25519_key(key: &Ed25519Key, kid: Option<String>) -> Key {
    // The RustCrypto backend reads an Ed25519 key as its 32 raw bytes.
    Key::new(
        kid,
        Algorithm::EdDSA,
        DecodingKey::from_ed_der(key.as_bytes()),
    )
}

/// One JWK, validated as a key of its type (RSA size, EC point on P-256, Ed25519
/// point), with the algorithm its type implies; a declared `alg` must agree.
fn jwk_key(jwk: &Jwk) -> Result<Key, String> {
    let kid = jwk.common.key_id.clone();
    let b64 = |field: &str, value: &str| -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value.trim_end_matches('='))
            .map_err(|_| format!("`{field}` is not base64url"))
    };
    let key = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => {
            let n = rsa::BoxedUint::from_be_slice_vartime(&b64("n", &p.n)?);
            let e = rsa::BoxedUint::from_be_slice_vartime(&b64("e", &p.e)?);
            let key = RsaPublicKey::new(n, e).map_err(|e| format!("invalid RSA key: {e}"))?;
            Key {
                kid: kid.clone(),
                ..rsa_key(key).map_err(|e| e.to_string())?
            }
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            let mut point = vec![0x04];
            point.extend(b64("x", &p.x)?);
            point.extend(b64("y", &p.y)?);
            let key = P256Key::from_sec1_bytes(&point).map_err(|_| "invalid P-256 point")?;
            p256_key(&key, kid.clone())
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            let bytes: [u8; 32] = b64("x", &p.x)?
                .try_into()
                .map_err(|_| "an Ed25519 key is 32 bytes")?;
            let key = Ed25519Key::from_bytes(&bytes).map_err(|_| "invalid Ed25519 key")?;
            ed25519_key(&key, kid.clone())
        }
        AlgorithmParameters::EllipticCurve(_) | AlgorithmParameters::OctetKeyPair(_) => {
            return Err("unsupported curve: use P-256 (ES256) or Ed25519 (EdDSA)".into());
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err(
                "a symmetric (`oct`) key cannot verify tokens here: publish public keys only"
                    .into(),
            );
        }
        _ => {
            return Err("unsupported key type: use RSA, EC P-256 or OKP Ed25519".into());
        }
    };
    if let Some(declared) = jwk.common.key_algorithm {
        let matches = matches!(
            (declared, key.algorithm),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        );
        if !matches {
            return Err(format!(
                "`alg` {declared:?} is not supported for this key (it verifies {:?} only)",
                key.algorithm
            ));
        }
    }
    Ok(key)
}
