//! Which webhook targets the service may call (SSRF): a target resolving to this
//! machine, a private network, a link-local address (the cloud metadata service
//! among them) or an address no host has is refused unless the configuration
//! allows that class. Checked on the URL when a subscription is written, and on
//! every address the name resolves to when a webhook is sent (the client's
//! resolver), so a name re-pointed after the check is refused too.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use blueprint::reqwest::Url;
use blueprint::reqwest::dns::{Addrs, Name, Resolve, Resolving};
use blueprint::tokio;

/// Classes of addresses refused by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (shared), fc00::/7.
    Private,
    /// 169.254/16 (169.254.169.254: the cloud metadata service), fe80::/10.
    LinkLocal,
}

impl Class {
    pub fn parse(name: &str) -> Option<Class> {
        match name.trim() {
            "loopback" => Some(Class::Loopback),
            "private" => Some(Class::Private),
            "link-local" => Some(Class::LinkLocal),
            _ => None,
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Loopback => "loopback",
            Class::Private => "private",
            Class::LinkLocal => "link-local",
        })
    }
}

/// What the service may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    allowed: Vec<Class>,
}

impl TargetPolicy {
    pub fn allowing(allowed: impl IntoIterator<Item = Class>) -> TargetPolicy {
        let mut allowed: Vec<Class> = allowed.into_iter().collect();
        allowed.dedup();
        TargetPolicy { allowed }
    }

    pub fn allowed_classes(&self) -> &[Class] {
        &self.allowed
    }

    /// Why the service must not call `ip`, if it must not.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let class = match classify(ip) {
            Ok(None) => return None,
            Ok(Some(class)) => class,
            Err(why) => return Some(format!("{ip} is {why}")),
        };
        if self.allowed.contains(&class) {
            None
        } else {
            Some(format!("{ip} is a {class} address"))
        }
    }

    /// The URL, if the service may post to it: `http` or `https`, a host, no
    /// credentials, and an IP address (when it is one) the policy allows.
    /// Names are checked when they are resolved, at each delivery.
    pub fn check_url(&self, text: &str) -> Result<Url, String> {
        let url = Url::parse(text).map_err(|e| format!("is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("must be http or https, not `{}`", url.scheme()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials (send them in `headers`)".into());
        }
        let Some(host) = url.host_str() else {
            return Err("has no host".into());
        };
        // The URL parser has normalised IP literals (`0x7f.1` is `127.0.0.1`).
        let ip = match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(ip) => ip,
            Err(_) => {
                let name = host.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    return Ok(url);
                }
            }
        };
        match self.refusal(ip) {
            Some(why) => Err(format!("targets {why}, which this service may not call")),
            None => Ok(url),
        }
    }
}

/// Addresses no webhook may go to (`Err`: what it is), else the class, if any,
/// that must be allowed.
fn classify(ip: IpAddr) -> Result<Option<Class>, &'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() || a == 0 {
                Err("not a host's address")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Err("a broadcast, multicast or reserved address")
            } else if v4.is_loopback() {
                Ok(Some(Class::Loopback))
            } else if v4.is_link_local() {
                Ok(Some(Class::LinkLocal))
            } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Ok(Some(Class::Private))
            } else {
                Ok(None)
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                Err("not a host's address")
            } else if v6.is_multicast() {
                Err("a multicast address")
            } else if v6.is_loopback() {
                Ok(Some(Class::Loopback))
            } else if first & 0xffc0 == 0xfe80 {
                Ok(Some(Class::LinkLocal))
            } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                // AWS's metadata service over IPv6.
                Ok(Some(Class::LinkLocal))
            } else if first & 0xfe00 == 0xfc00 {
                Ok(Some(Class::Private))
            } else {
                Ok(None)
            }
        }
    }
}

/// The HTTP client's resolver: the system's, keeping only the addresses the
/// policy allows (an error when none is left).
#[derive(Debug, Clone)]
pub struct CheckedResolver(pub Arc<TargetPolicy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.refusal(addr.ip()) {
                    Some(why) => {
                        refused = Some(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| "no address".into());
                return Err(
                    format!("{host} resolves to {why}, which this service may not call").into(),
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

    use super::*;

    #[test]
    fn refuses_internal_targets_by_default() {
        let policy = TargetPolicy::default();
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "http://172.20.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(policy.check_url(url).is_err(), "{url} was accepted");
        }
        for url in ["https://example.com/hook", "http://93.184.216.34:8080/x"] {
            assert!(policy.check_url(url).is_ok(), "{url} was refused");
        }
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_allowed_addresses() {
        let name = |text: &str| text.parse::<Name>().unwrap();
        let refusing = CheckedResolver(Arc::new(TargetPolicy::default()));
        let refused = refusing
            .resolve(name("localhost"))
            .await
            .err()
            .map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.contains("is a loopback address")),
            "{refused:?}"
        );
        let allowing = CheckedResolver(Arc::new(TargetPolicy::allowing([Class::Loopback])));
        let found: Vec<SocketAddr> = allowing.resolve(name("localhost")).await.unwrap().collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()) && !found.is_empty());
    }

    #[test]
    fn allows_what_is_configured() {
        let policy = TargetPolicy::allowing([Class::Loopback]);
        assert!(policy.check_url("http://127.0.0.1:9/").is_ok());
        assert!(policy.check_url("http://localhost:9/").is_ok());
        assert!(policy.check_url("http://10.0.0.1/").is_err());
        assert!(policy.check_url("http://169.254.169.254/").is_err());
        assert_eq!(
            policy.check_url("http://169.254.169.254/").err().as_deref(),
            Some(
                "targets 169.254.169.254 is a link-local address, which this service may not call"
            )
        );
    }
}
