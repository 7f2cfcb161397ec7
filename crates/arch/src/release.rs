//! Release versions: the next semantic version of a service from what changed
//! since its last release tag `<key>-v<version>`.
//!
//! - a breaking contract change → major, only when allowed (`[diff] allow` or a
//!   major-version namespace); otherwise the release is refused;
//! - a compatible contract change (added or relaxed) → minor;
//! - anything else that changed (code, dependencies, descriptions) → patch;
//! - nothing changed → no release.
//!
//! The first release (no tag yet) is `<N>.0.0` when the namespace is `…vN` with
//! N ≥ 1, else `0.1.0`; a namespace moved to `vN` lifts the next major to at
//! least N, so versions and namespaces agree.

use semver::Version;
use serde::Serialize;

use crate::plan::{Change, Contract};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    First,
    Patch,
    Minor,
    Major,
}

/// What `dev release` does for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Decision {
    /// Nothing changed since the last tag.
    Unchanged { version: String },
    Release {
        #[serde(skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
        version: String,
        bump: Bump,
    },
    /// A breaking change nothing allows.
    Refused {
        #[serde(skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
        changes: Vec<String>,
    },
}

/// One service's line of `dev release --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub service: String,
    pub key: String,
    #[serde(flatten)]
    pub decision: Decision,
    /// The tag created (or that would be, with `--dry-run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// What changed since the previous release.
    pub change: Change,
}

impl Release {
    pub fn new(service: &str, key: &str, decision: Decision, change: Change) -> Release {
        let tag = match &decision {
            Decision::Release { version, .. } => Some(format!("{key}-v{version}")),
            _ => None,
        };
        Release {
            service: service.to_string(),
            key: key.to_string(),
            decision,
            tag,
            change,
        }
    }

    /// The annotated tag's message: a title line, then what changed.
    pub fn message(&self) -> String {
        let Decision::Release { version, bump, .. } = &self.decision else {
            return String::new();
        };
        let mut s = format!("{} {version}\n\n", self.service);
        let what = match bump {
            Bump::First => "first release",
            Bump::Patch => "patch: code, dependencies or descriptions changed",
            Bump::Minor => "minor: compatible contract change",
            Bump::Major => "major: breaking contract change, allowed",
        };
        s.push_str(what);
        s.push('\n');
        if !self.change.files.is_empty() {
            s.push_str(&format!("files: {}\n", self.change.files.len()));
        }
        for p in &self.change.packages {
            s.push_str(&format!("dependency: {p}\n"));
        }
        s
    }
}

/// The major version a namespace declares (`io.acme.users.v2` → 2; 0 without one).
pub fn namespace_major(namespace: &str) -> u64 {
    namespace
        .rsplit('.')
        .next()
        .and_then(|last| last.strip_prefix('v'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The tag of a release.
pub fn tag(key: &str, version: &Version) -> String {
    format!("{key}-v{version}")
}

/// The version of a release tag of `key`; `None` for other tags and pre-releases.
pub fn parse_tag(key: &str, tag: &str) -> Option<Version> {
    let v: Version = tag.strip_prefix(key)?.strip_prefix("-v")?.parse().ok()?;
    v.pre.is_empty().then_some(v)
}

/// The newest release among `tags` of `key`.
pub fn latest<'t>(key: &str, tags: impl IntoIterator<Item = &'t str>) -> Option<Version> {
    tags.into_iter().filter_map(|t| parse_tag(key, t)).max()
}

/// The first version of a service whose namespace has major version `major`.
pub fn first_version(major: u64) -> Version {
    if major == 0 {
        Version::new(0, 1, 0)
    } else {
        Version::new(major, 0, 0)
    }
}

/// The next version after `previous` (`None`: no release yet) for `change`;
/// `major` is the namespace's major version now.
pub fn decide(previous: Option<&Version>, change: &Change, major: u64) -> Decision {
    let Some(prev) = previous else {
        return Decision::Release {
            previous: None,
            version: first_version(major).to_string(),
            bump: Bump::First,
        };
    };
    let previous_text = Some(prev.to_string());
    let bump = match change.contract {
        Contract::Blocked => {
            return Decision::Refused {
                previous: previous_text,
                changes: change.blocking.clone(),
            };
        }
        Contract::Breaking => Bump::Major,
        Contract::Additive | Contract::New => Bump::Minor,
        Contract::Documentation => Bump::Patch,
        Contract::Unchanged if change.is_changed() => Bump::Patch,
        Contract::Unchanged => {
            return Decision::Unchanged {
                version: prev.to_string(),
            };
        }
    };
    let mut next = match bump {
        Bump::Major => Version::new(prev.major + 1, 0, 0),
        Bump::Minor => Version::new(prev.major, prev.minor + 1, 0),
        Bump::Patch | Bump::First => Version::new(prev.major, prev.minor, prev.patch + 1),
    };
    if major > next.major {
        next = Version::new(major, 0, 0);
    }
    Decision::Release {
        previous: previous_text,
        version: next.to_string(),
        bump,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(contract: Contract, files: &[&str]) -> Change {
        Change {
            contract,
            files: files.iter().map(|f| f.to_string()).collect(),
            ..Change::unchanged("users")
        }
    }

    fn version(d: &Decision) -> Option<&str> {
        match d {
            Decision::Release { version, .. } => Some(version),
            _ => None,
        }
    }

    #[test]
    fn bumps_follow_the_contract() {
        let v = Version::new(0, 3, 1);
        let cases = [
            (
                change(Contract::Unchanged, &["services/users/src/main.rs"]),
                Some("0.3.2"),
            ),
            (change(Contract::Documentation, &[]), Some("0.3.2")),
            (change(Contract::Additive, &[]), Some("0.4.0")),
            (change(Contract::Breaking, &[]), Some("1.0.0")),
            (change(Contract::Blocked, &[]), None),
            (change(Contract::Unchanged, &[]), None),
        ];
        for (c, expected) in cases {
            assert_eq!(version(&decide(Some(&v), &c, 0)), expected, "{c:?}");
        }
        assert!(matches!(
            decide(Some(&v), &change(Contract::Unchanged, &[]), 0),
            Decision::Unchanged { .. }
        ));
        // A namespace moved to v2 lifts the major.
        assert_eq!(
            version(&decide(Some(&v), &change(Contract::Breaking, &[]), 2)),
            Some("2.0.0")
        );
    }

    #[test]
    fn first_release_and_tags() {
        let c = change(Contract::New, &[]);
        assert_eq!(version(&decide(None, &c, 0)), Some("0.1.0"));
        assert_eq!(version(&decide(None, &c, 3)), Some("3.0.0"));
        assert_eq!(tag("users", &Version::new(1, 2, 3)), "users-v1.2.3");
        assert_eq!(namespace_major("io.acme.users.v2"), 2);
        assert_eq!(namespace_major("io.acme.users"), 0);
        assert_eq!(
            latest(
                "users",
                [
                    "users-v0.9.0",
                    "users-v0.10.0",
                    "users-v1.0.0-rc.1",
                    "user-v9.0.0",
                    "users-api-v5.0.0",
                    "users-vx",
                ]
            ),
            Some(Version::new(0, 10, 0))
        );
    }
}
