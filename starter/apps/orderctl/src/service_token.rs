//! `orderctl service-token`: the credential order-api presents to
//! order-processor (`PROCESSOR_TOKENS_FILE`), for the native stack and
//! Compose. Kubernetes and ECS generate their own (a chart Secret, an SSM
//! parameter).

use std::path::PathBuf;

use anyhow::Context;
use order_common::api::service_token::ServiceTokens;

#[derive(clap::Args, Debug)]
pub struct ServiceTokenArgs {
    /// Write the token to this file (mode 0600) instead of printing it. An
    /// existing file is kept, so restarting a stack keeps its credential.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &ServiceTokenArgs) -> anyhow::Result<bool> {
    let token = ServiceTokens::generate();
    let Some(path) = &args.out else {
        println!("{token}");
        return Ok(true);
    };
    if path.exists() {
        // A file that does not hold a valid list would only fail both
        // services at start-up; say so now.
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        ServiceTokens::parse(&text).map_err(|reason| {
            anyhow::anyhow!(
                "{} exists but is not a token list: {reason}",
                path.display()
            )
        })?;
        println!("kept {}", path.display());
        return Ok(true);
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::auth::write_private(path, &format!("{token}\n"))?;
    println!("wrote {}", path.display());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_valid_private_token_once_and_keeps_it() {
        let dir =
            std::env::temp_dir().join(format!("orderctl-service-token-{}", std::process::id()));
        let path = dir.join("processor-tokens");
        let args = ServiceTokenArgs {
            out: Some(path.clone()),
        };
        run(&args).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(ServiceTokens::parse(&first).is_ok(), "{first:?}");
        run(&args).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first, "kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("not a token list"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
