//! Minting tokens, for development (`dev token`) and tests. Services never sign:
//! the users service holds the private key in production.

use ed25519_dalek::SigningKey as Ed25519SigningKey;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use pkcs8::der::pem::LineEnding;
use pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};
use spki::der::{Decode, pem};

use super::{Claims, KeyError};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// A private key that signs tokens with its one algorithm.
pub struct SigningKey {
    algorithm: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A PKCS#8 `PRIVATE KEY` PEM (Ed25519 → EdDSA, EC P-256 → ES256, RSA → RS256),
    /// or a PKCS#1 `RSA PRIVATE KEY`.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let invalid = |m: String| KeyError::Invalid(m);
        let (label, der) = pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| invalid(format!("not a PEM private key ({e})")))?;
        let (algorithm, key) = match label {
            "RSA PRIVATE KEY" => (Algorithm::RS256, EncodingKey::from_rsa_der(&der)),
            "PRIVATE KEY" => {
                let info = PrivateKeyInfoRef::from_der(&der)
                    .map_err(|e| invalid(format!("invalid PKCS#8 private key: {e}")))?;
                let oid = info.algorithm.oid;
                if oid == OID_ED25519 {
                    (Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
                } else if oid == OID_EC {
                    (Algorithm::ES256, EncodingKey::from_ec_der(&der))
                } else if oid == OID_RSA {
                    // The RustCrypto backend signs with the PKCS#1 key inside.
                    let pkcs1 = info.private_key.as_bytes();
                    (Algorithm::RS256, EncodingKey::from_rsa_der(pkcs1))
                } else {
                    return Err(invalid(format!("unsupported private key algorithm {oid}")));
                }
            }
            other => return Err(invalid(format!("a PEM `{other}` is not a private key"))),
        };
        Ok(SigningKey {
            algorithm,
            key,
            kid: None,
        })
    }

    /// The same key, naming itself `kid` in the tokens it signs.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// A signed token carrying `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        self.sign_with_header(&self.header(), claims)
    }

    /// The header [`sign`](Self::sign) uses: the key's algorithm and kid.
    pub fn header(&self) -> Header {
        let mut header = Header::new(self.algorithm);
        header.kid.clone_from(&self.kid);
        header
    }

    /// A token with this exact header and any claims (tests craft odd tokens so).
    pub fn sign_with_header(
        &self,
        header: &Header,
        claims: &impl serde::Serialize,
    ) -> Result<String, KeyError> {
        encode(header, claims, &self.key)
            .map_err(|e| KeyError::Invalid(format!("cannot sign with this key: {e}")))
    }
}

/// A development key pair (Ed25519: small keys, fast, deterministic signatures),
/// as PEM text: what `dev up` writes under `.dev/` when no key is configured.
#[derive(Clone)]
pub struct DevKeyPair {
    /// PKCS#8 `PRIVATE KEY`.
    pub private_pem: String,
    /// SubjectPublicKeyInfo `PUBLIC KEY`.
    pub public_pem: String,
}

impl std::fmt::Debug for DevKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKeyPair")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

impl DevKeyPair {
    /// A new random key pair.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| KeyError::Invalid(format!("no randomness for a key: {e}")))?;
        let key = Ed25519SigningKey::from_bytes(&seed);
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Invalid(e.to_string()))?
            .to_string();
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(DevKeyPair {
            private_pem,
            public_pem,
        })
    }
}
