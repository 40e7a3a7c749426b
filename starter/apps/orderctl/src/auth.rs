//! Development identity: `keygen` writes a signing key and its public JWKS,
//! `jwks` writes the JWKS of a key made elsewhere (the Helm chart's),
//! `token` prints a token signed with it, and [`TokenArgs`] gives `smoke` and
//! `load` the token they send (one given, or one minted from the key).
//!
//! order-api only ever reads the JWKS (the public half), never the key.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use order_common::dev_tokens::{DEV_AUDIENCE, DEV_ISSUER, Grant, SigningKey};

/// The key `keygen` writes, in its directory.
pub const KEY_FILE: &str = "signing-key.pem";
/// The public JWKS `keygen` writes beside it.
pub const JWKS_FILE: &str = "jwks.json";
/// Where `make dev` keeps them (git-ignored).
const DEFAULT_DIR: &str = ".run/auth";

#[derive(Args)]
pub struct KeygenArgs {
    /// The directory to write signing-key.pem (mode 0600) and jwks.json into.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// Replace a key that exists (tokens signed with it stop being accepted).
    #[arg(long)]
    force: bool,
}

/// Writes a new ES256 key and its JWKS, unless a key is there already.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<bool> {
    let key_path = args.dir.join(KEY_FILE);
    let jwks_path = args.dir.join(JWKS_FILE);
    if key_path.exists() && !args.force {
        // Keep the key (tokens already handed out stay valid); rewrite its
        // JWKS, so the pair always matches.
        let key = read_key(&key_path)?;
        write_jwks(&jwks_path, &key)?;
        println!(
            "kept {} (kid {}); --force makes a new one",
            key_path.display(),
            key.kid()
        );
        return Ok(true);
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let key = SigningKey::generate_es256()?;
    write_private(&key_path, key.private_pem())?;
    write_jwks(&jwks_path, &key)?;
    println!(
        "wrote {} and {} (ES256, kid {})",
        key_path.display(),
        jwks_path.display(),
        key.kid()
    );
    Ok(true)
}

#[derive(Args)]
pub struct JwksArgs {
    /// The private key: PKCS#8, or SEC1 P-256 (what the Helm chart generates).
    #[arg(long, env = "ORDER_API_SIGNING_KEY")]
    signing_key: PathBuf,
    /// Where to write the public JWKS document (order-api's AUTH_JWKS_FILE).
    #[arg(long)]
    out: PathBuf,
}

/// Writes the public JWKS of an existing key: the chart's init container
/// turns its development key (a Secret) into the file order-api reads, so
/// order-api's own container never sees the private key.
pub fn jwks(args: &JwksArgs) -> anyhow::Result<bool> {
    let key = read_key(&args.signing_key)?;
    write_jwks(&args.out, &key)?;
    println!("wrote {} (kid {})", args.out.display(), key.kid());
    Ok(true)
}

fn write_jwks(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    let jwks = serde_json::to_string_pretty(&SigningKey::jwks([key]))?;
    std::fs::write(path, jwks + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Writes a secret readable by its owner only.
pub(crate) fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(pem.as_bytes())?;
    Ok(())
}

fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    SigningKey::from_pem(&pem).with_context(|| format!("{}", path.display()))
}

/// The key, issuer and audience a token is minted with.
#[derive(Args, Clone)]
pub struct SignerArgs {
    /// The private key (`orderctl keygen` writes it).
    #[arg(
        long,
        env = "ORDER_API_SIGNING_KEY",
        default_value = ".run/auth/signing-key.pem"
    )]
    signing_key: PathBuf,
    /// The token's `iss`: order-api's AUTH_ISSUER.
    #[arg(long, env = "AUTH_ISSUER", default_value = DEV_ISSUER)]
    issuer: String,
    /// The token's `aud`: order-api's AUTH_AUDIENCE (the first, if several).
    #[arg(long, env = "AUTH_AUDIENCE", default_value = DEV_AUDIENCE)]
    audience: String,
}

impl SignerArgs {
    fn mint(&self, subject: &str, admin: bool, ttl: Duration) -> anyhow::Result<String> {
        let key = read_key(&self.signing_key)?;
        order_common::api::validate::check_id(subject)
            .map_err(|reason| anyhow::anyhow!("--customer {reason}"))?;
        Ok(key.token(&Grant {
            subject: subject.to_owned(),
            admin,
            issuer: self.issuer.clone(),
            audience: self
                .audience
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            ttl,
        }))
    }
}

#[derive(Args)]
pub struct TokenCommandArgs {
    /// The customer the token is for (its `sub`).
    #[arg(long)]
    customer: String,
    /// Add the orders:admin scope: any customer's orders.
    #[arg(long)]
    admin: bool,
    /// How long the token is valid: seconds, or with a unit (90s, 15m, 1h, 1d); at most 30d.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    ttl: Duration,
    #[command(flatten)]
    signer: SignerArgs,
}

/// Prints a token.
pub fn token(args: &TokenCommandArgs) -> anyhow::Result<bool> {
    println!(
        "{}",
        args.signer.mint(&args.customer, args.admin, args.ttl)?
    );
    Ok(true)
}

/// How `smoke` and `load` authenticate.
#[derive(Args, Clone)]
pub struct TokenArgs {
    /// A bearer token to send as it is (from any issuer order-api trusts).
    /// Without it, one is minted from --signing-key.
    #[arg(long, env = "ORDER_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the bearer token (a mounted Kubernetes Secret), instead of --token.
    #[arg(long, env = "ORDER_API_TOKEN_FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl TokenArgs {
    /// The token given, or one minted for `subject` (valid for an hour).
    pub fn token(&self, subject: &str, admin: bool) -> anyhow::Result<String> {
        if let Some(path) = &self.token_file {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            return Ok(token.trim().to_owned());
        }
        match &self.token {
            Some(token) => Ok(token.trim().to_owned()),
            None => self
                .signer
                .mint(subject, admin, Duration::from_secs(3600))
                .context("no ORDER_API_TOKEN given, and none could be minted"),
        }
    }
}

/// A client that sends `Authorization: Bearer <token>` on every request.
pub fn client(builder: reqwest::ClientBuilder, token: &str) -> anyhow::Result<reqwest::Client> {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .context("the token is not a valid header value")?;
    value.set_sensitive(true);
    Ok(builder
        .default_headers(reqwest::header::HeaderMap::from_iter([(
            reqwest::header::AUTHORIZATION,
            value,
        )]))
        .build()?)
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("must be seconds, or a number with s, m, h or d (such as 1h)".into()),
    };
    match number.parse::<u64>() {
        Ok(n) if (1..=30 * 86_400).contains(&(n * scale)) => Ok(Duration::from_secs(n * scale)),
        _ => Err("must be from 1 second to 30 days".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_take_units_and_stay_in_range() {
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("30d"), Ok(Duration::from_secs(30 * 86_400)));
        for bad in ["", "0", "31d", "1w", "h", "-1h", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwks_publishes_the_public_half_of_a_sec1_or_pkcs8_key() {
        let dir = std::env::temp_dir().join(format!("orderctl-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A SEC1 P-256 key, as the chart's `genPrivateKey "ecdsa"` makes it (test-only).
        let sec1 = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDZthWgMSF7Tka9LAipmbJUexwc0Pn4+/I0w24w1+iZpoAoGCCqGSM49
AwEHoUQDQgAEJLbhkB6rUy9OxkcalGzh0T+Zqvf8B3ZTu68VA4hdMcGKiJxsR8Vs
akC0j0DFFNXXYnCwZUS7OZGrl8nR3sc5oA==
-----END EC PRIVATE KEY-----
";
        let pkcs8 = SigningKey::generate_es256().unwrap();
        for (name, pem) in [("sec1.pem", sec1), ("pkcs8.pem", pkcs8.private_pem())] {
            let key_path = dir.join(name);
            std::fs::write(&key_path, pem).unwrap();
            let out = dir.join(format!("{name}.jwks.json"));
            let args = JwksArgs {
                signing_key: key_path,
                out: out.clone(),
            };
            assert!(jwks(&args).unwrap());
            let document: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
            let [jwk] = document["keys"].as_array().unwrap().as_slice() else {
                panic!("one key: {document}");
            };
            assert_eq!(jwk["kid"], SigningKey::from_pem(pem).unwrap().kid());
            assert_eq!(
                (jwk["kty"].as_str(), jwk["alg"].as_str()),
                (Some("EC"), Some("ES256"))
            );
            assert!(jwk.get("d").is_none(), "no private part in the JWKS");
        }

        // A missing or unreadable key: an error naming the file, and no JWKS written.
        for (name, content) in [("missing.pem", None), ("garbage.pem", Some("not a key"))] {
            let key_path = dir.join(name);
            if let Some(content) = content {
                std::fs::write(&key_path, content).unwrap();
            }
            let out = dir.join(format!("{name}.jwks.json"));
            let err = jwks(&JwksArgs {
                signing_key: key_path.clone(),
                out: out.clone(),
            })
            .expect_err(name);
            assert!(
                format!("{err:#}").contains(&key_path.display().to_string()),
                "{err:#}"
            );
            assert!(!out.exists(), "{name}: nothing written");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keygen_keeps_a_key_and_tokens_verify_against_its_jwks() {
        let dir = std::env::temp_dir().join(format!("orderctl-keygen-{}", std::process::id()));
        let args = KeygenArgs {
            dir: dir.clone(),
            force: false,
        };
        keygen(&args).unwrap();
        let first = read_key(&dir.join(KEY_FILE)).unwrap();
        keygen(&args).unwrap();
        assert_eq!(
            read_key(&dir.join(KEY_FILE)).unwrap().kid(),
            first.kid(),
            "kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the private key is the owner's only");
        }
        let jwks: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(JWKS_FILE)).unwrap()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], first.kid());
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "no private part in the JWKS"
        );
        keygen(&KeygenArgs {
            dir: dir.clone(),
            force: true,
        })
        .unwrap();
        assert_ne!(
            read_key(&dir.join(KEY_FILE)).unwrap().kid(),
            first.kid(),
            "replaced"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
