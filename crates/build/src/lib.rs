//! Build-script helpers for Blueprint services.
//!
//! A service's `build.rs` is one line,
//!
//! ```ignore
//! fn main() {
//!     blueprint_build::git_commit();
//! }
//! ```
//!
//! and its `main` hands `option_env!("GIT_COMMIT")` to `blueprint::service`, which
//! serves it on `GET /_internal_/version` so `dev status` can tell whether what runs
//! is what is in the repository.

use std::process::Command;

/// The variable the commit is compiled in as (and read from, when set for the
/// build: image builds copy the sources without `.git`).
pub const GIT_COMMIT: &str = "GIT_COMMIT";

/// Tell cargo to compile the current commit in as `GIT_COMMIT`: `git rev-parse
/// HEAD`, with `-dirty` when tracked files differ from it (`git status`); a
/// non-empty `GIT_COMMIT` in the build's environment wins. Outside a git checkout
/// (and without the variable) nothing is set, and the version endpoint says
/// `null`.
///
/// The build script runs again when `HEAD`, the branch it points at, git's index
/// or the package's own files change; an edit elsewhere in the repository shows
/// as `-dirty` once git's index is refreshed (any `git status` or `git add`).
pub fn git_commit() {
    println!("cargo:rerun-if-env-changed={GIT_COMMIT}");
    println!("cargo:rerun-if-changed=.");
    if let Some(commit) = std::env::var(GIT_COMMIT)
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        println!("cargo:rustc-env={GIT_COMMIT}={}", commit.trim());
        return;
    }
    let Some(head) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    // Worktrees keep HEAD and the index apart from the shared refs: ask git where.
    let mut watched = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for file in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env={GIT_COMMIT}={head}{suffix}");
}

/// What `git ARGS` prints, trimmed; `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
