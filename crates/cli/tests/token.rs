//! `dev token`: the development key pair is made on first use and reused; the
//! token verifies with its public half and carries the claims asked for; a
//! configured public key without its private key is an error, not a silent dev key.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blueprint::auth::{KeySet, Verifier};

fn dev(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(args)
        .current_dir(cwd)
        .env_remove("BLUEPRINT_JWT_PUBLIC_KEY")
        .output()
        .expect("run dev")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

const USER: &str = "3f0c4a5e-6a2b-4c55-9d7e-0a1b2c3d4e5f";
const AGENCY: &str = "8e1d2c3b-4a59-4687-a9b8-c7d6e5f40312";

#[test]
fn mints_tokens_with_the_dev_key_pair() {
    let dir = scratch("dev-token");
    std::fs::write(dir.join("blueprint.toml"), "").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let args = [
        "token", "--user", USER, "--agency", AGENCY, "--role", "admin",
    ];
    // From a sub-folder: the pair belongs to the workspace root.
    let out = dev(&dir.join("sub"), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("development key pair"));
    let public = std::fs::read_to_string(dir.join(".dev/jwt/public.pem")).unwrap();
    let token = String::from_utf8(out.stdout).unwrap();
    let verifier = Verifier::new(KeySet::from_pem(&public).unwrap());
    let claims = verifier.verify(token.trim()).unwrap();
    assert_eq!(claims.user_id.to_string(), USER);
    assert_eq!(claims.agency_id.to_string(), AGENCY);
    assert_eq!(claims.role.as_deref(), Some("admin"));

    // The second token is signed by the same pair.
    let again = dev(&dir, &args);
    assert!(again.status.success());
    assert!(again.stderr.is_empty(), "no new pair");
    let token = String::from_utf8(again.stdout).unwrap();
    assert!(verifier.verify(token.trim()).is_ok());
}

#[test]
fn a_configured_public_key_needs_its_private_key() {
    let dir = scratch("dev-token-configured");
    std::fs::write(
        dir.join("blueprint.toml"),
        "[auth]\npublic_key = \"keys/public.pem\"\n",
    )
    .unwrap();
    let out = dev(&dir, &["token", "--user", USER, "--agency", AGENCY]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without its private key"), "{err}");
    assert!(
        !dir.join(".dev").exists(),
        "no dev key made behind the config's back"
    );
}

#[test]
fn bad_input_is_a_usage_error() {
    let dir = scratch("dev-token-usage");
    let out = dev(&dir, &["token", "--user", "nope", "--agency", AGENCY]);
    assert_eq!(out.status.code(), Some(2));
    let out = dev(
        &dir,
        &[
            "token",
            "--user",
            USER,
            "--agency",
            AGENCY,
            "--expires-in",
            "1w",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}
