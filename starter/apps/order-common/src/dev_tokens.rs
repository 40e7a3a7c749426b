//! Development signing keys and tokens: what stands in for an identity
//! provider on a laptop, in Compose, in the chart's test and in the tests.
//!
//! A key is an ES256 (P-256) key pair, generated with aws-lc-rs (already the
//! TLS backend of the AWS SDK here, so no OpenSSL is needed). Its private half
//! is a PKCS#8 PEM file any JWT library reads (a SEC1 `EC PRIVATE KEY` PEM,
//! what Helm's `genPrivateKey "ecdsa"` makes for the chart, is read too); its
//! public half is published
//! as a JWKS document, which order-api reads from a file
//! (`AUTH_JWKS_FILE`) or a URL (`AUTH_JWKS_URL`) exactly as it reads a real
//! issuer's. The key id (`kid`) is the key's RFC 7638 thumbprint, so the same
//! key always has the same id and a new key a new one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use aws_lc_rs::{
    encoding::AsDer,
    rsa::KeySize,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair},
};
use jsonwebtoken::{
    Algorithm, EncodingKey, Header,
    jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash},
};
use serde_json::{Value, json};

use crate::api::contract::ADMIN_SCOPE;

/// The `iss` of development tokens (and order-api's `AUTH_ISSUER` beside them).
pub const DEV_ISSUER: &str = "urn:order-system:dev";
/// The `aud` of development tokens (and order-api's `AUTH_AUDIENCE`).
pub const DEV_AUDIENCE: &str = "order-api";

/// A private signing key with its public JWK.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    encoding: EncodingKey,
    pem: String,
    jwk: Jwk,
}

impl SigningKey {
    /// A new ES256 (P-256) key: what `orderctl keygen` writes.
    pub fn generate_es256() -> anyhow::Result<Self> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| anyhow::anyhow!("could not generate a P-256 key"))?;
        let der = pair
            .to_pkcs8v1()
            .map_err(|_| anyhow::anyhow!("could not encode the P-256 key"))?;
        Self::from_pem(&pkcs8_pem(der.as_ref()))
    }

    /// A new RS256 key (2048 bits), for tests of issuers that sign with RSA.
    pub fn generate_rs256() -> anyhow::Result<Self> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("could not generate an RSA key"))?;
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
            .map_err(|_| anyhow::anyhow!("could not encode the RSA key"))?;
        Self::from_pem(&pkcs8_pem(der.as_ref()))
    }

    /// A key read back from its PEM: PKCS#8 (P-256 → ES256, RSA → RS256), or
    /// SEC1 (`EC PRIVATE KEY`, P-256 only), which is converted to PKCS#8.
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let der = pem::parse(pem).context("not a PEM file")?;
        if der.tag() == SEC1_TAG {
            return Self::from_pem(&pkcs8_pem(&sec1_p256_to_pkcs8(der.contents())?));
        }
        let (algorithm, encoding) =
            if EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.contents()).is_ok() {
                (Algorithm::ES256, EncodingKey::from_ec_pem(pem.as_bytes())?)
            } else if RsaKeyPair::from_pkcs8(der.contents()).is_ok() {
                (Algorithm::RS256, EncodingKey::from_rsa_pem(pem.as_bytes())?)
            } else {
                anyhow::bail!("not a PKCS#8 P-256 or RSA private key");
            };
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm)?;
        jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256)?);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::from(algorithm));
        Ok(Self {
            algorithm,
            encoding,
            pem: pem.to_owned(),
            jwk,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn kid(&self) -> &str {
        self.jwk.common.key_id.as_deref().expect("set in from_pem")
    }

    /// The private key as PKCS#8 PEM (write it with mode 0600).
    pub fn private_pem(&self) -> &str {
        &self.pem
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A JWKS document holding the public keys of `keys`.
    pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> JwkSet {
        JwkSet {
            keys: keys.into_iter().map(|key| key.jwk.clone()).collect(),
        }
    }

    /// Signs `claims` as they are, with this key's `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("a JSON object signs")
    }

    /// A token for `grant`, valid from now for `grant.ttl`.
    pub fn token(&self, grant: &Grant) -> String {
        self.sign(&grant.claims(SystemTime::now()))
    }
}

/// What a development token says: who, for which issuer and audience, for
/// how long, and whether it carries [`ADMIN_SCOPE`].
#[derive(Debug, Clone)]
pub struct Grant {
    pub subject: String,
    pub admin: bool,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl Grant {
    /// A grant for `subject` with the development issuer and audience, for
    /// an hour.
    pub fn dev(subject: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            admin: false,
            issuer: DEV_ISSUER.to_owned(),
            audience: DEV_AUDIENCE.to_owned(),
            ttl: Duration::from_secs(3600),
        }
    }

    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// The claims of a token issued at `now`.
    pub fn claims(&self, now: SystemTime) -> Value {
        let now = now
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let mut claims = json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.subject,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl.as_secs(),
        });
        if self.admin {
            claims["scope"] = json!(ADMIN_SCOPE);
        }
        claims
    }
}

/// The PEM label of a SEC1 (RFC 5915) EC private key.
const SEC1_TAG: &str = "EC PRIVATE KEY";

/// A SEC1 P-256 private key as PKCS#8 v1 DER: jsonwebtoken reads only PKCS#8.
fn sec1_p256_to_pkcs8(sec1: &[u8]) -> anyhow::Result<Vec<u8>> {
    let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, sec1)
        .map_err(|err| anyhow::anyhow!("not a SEC1 P-256 private key: {err}"))?;
    let der = pair
        .to_pkcs8v1()
        .map_err(|_| anyhow::anyhow!("could not encode the P-256 key"))?;
    Ok(der.as_ref().to_vec())
}

fn pkcs8_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_with_stable_ids() {
        for key in [
            SigningKey::generate_es256().unwrap(),
            SigningKey::generate_rs256().unwrap(),
        ] {
            let again = SigningKey::from_pem(key.private_pem()).unwrap();
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.algorithm(), key.algorithm());
            let token = key.token(&Grant::dev("CUST001"));
            assert_eq!(token.split('.').count(), 3);
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
        }
        assert!(SigningKey::from_pem("not a key").is_err());
    }

    // Test-only keys, made for these tests and used nowhere else. A SEC1 P-256
    // key as the chart makes it (Helm's engine, `genPrivateKey "ecdsa"`), and
    // the same key as PKCS#8 (`openssl pkcs8 -topk8 -nocrypt`).
    const HELM_SEC1_P256: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDZthWgMSF7Tka9LAipmbJUexwc0Pn4+/I0w24w1+iZpoAoGCCqGSM49
AwEHoUQDQgAEJLbhkB6rUy9OxkcalGzh0T+Zqvf8B3ZTu68VA4hdMcGKiJxsR8Vs
akC0j0DFFNXXYnCwZUS7OZGrl8nR3sc5oA==
-----END EC PRIVATE KEY-----
";
    const SAME_KEY_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNm2FaAxIXtORr0sC
KmZslR7HBzQ+fj78jTDbjDX6JmmhRANCAAQktuGQHqtTL07GRxqUbOHRP5mq9/wH
dlO7rxUDiF0xwYqInGxHxWxqQLSPQMUU1ddicLBlRLs5kauXydHexzmg
-----END PRIVATE KEY-----
";
    // A SEC1 key on another curve (P-384, `openssl ecparam -genkey -noout`).
    const SEC1_P384: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDCQgf7NmLaCy7YUfUil1bee9+2tHCoFa9tVgnVkhhnHZ7t4Sh2alrpD
0Nr5D64NfO6gBwYFK4EEACKhZANiAARkB/z0fYL1V/SPeBTUxUTNK8f1rofRjHxZ
l/EszjrPprirvht6a71TkUXuO4z+W7A2mL+EMS9g54NW5HinEsdQjuS+fHCLczQB
YUwNxg9xTDwWCzZNa7BkdWg6z/18kIM=
-----END EC PRIVATE KEY-----
";

    #[test]
    fn a_sec1_p256_key_reads_as_its_pkcs8_twin_and_signs_verifiable_tokens() {
        let sec1 = SigningKey::from_pem(HELM_SEC1_P256).unwrap();
        let pkcs8 = SigningKey::from_pem(SAME_KEY_PKCS8).unwrap();
        assert_eq!(sec1.algorithm(), Algorithm::ES256);
        assert_eq!(sec1.kid(), pkcs8.kid(), "one key, one thumbprint");
        assert_eq!(sec1.jwk(), pkcs8.jwk());
        assert!(
            sec1.private_pem()
                .starts_with("-----BEGIN PRIVATE KEY-----"),
            "kept as PKCS#8"
        );
        assert_eq!(
            SigningKey::from_pem(sec1.private_pem()).unwrap().kid(),
            sec1.kid()
        );

        // A token it signs verifies against its published JWK.
        let token = sec1.token(&Grant::dev("CUST001").admin());
        let key = jsonwebtoken::DecodingKey::from_jwk(sec1.jwk()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_issuer(&[DEV_ISSUER]);
        validation.set_audience(&[DEV_AUDIENCE]);
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], "CUST001");
        assert_eq!(claims["scope"], ADMIN_SCOPE);
    }

    #[test]
    fn a_sec1_key_on_another_curve_or_damaged_is_refused() {
        let err = SigningKey::from_pem(SEC1_P384).err().expect("P-384");
        assert!(
            format!("{err:#}").contains("not a SEC1 P-256 private key"),
            "{err:#}"
        );
        // The private scalar changed, the public key kept: they no longer match.
        let mismatched = HELM_SEC1_P256.replace("MHcCAQEEIDZt", "MHcCAQEEIDZu");
        assert!(SigningKey::from_pem(&mismatched).is_err());
        let truncated =
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDZt\n-----END EC PRIVATE KEY-----\n";
        assert!(SigningKey::from_pem(truncated).is_err());
    }
}
