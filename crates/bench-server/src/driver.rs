//! What the benchmark driver needs besides `wrk`: the endpoints it loads, the
//! server processes (stopped when dropped), a one-shot HTTP client to check the
//! two implementations answer alike, and the parsing of `wrk`'s report.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which server the `bench-server` binary runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    Generated,
    Handwritten,
}

impl Implementation {
    pub const ALL: [Implementation; 2] = [Implementation::Generated, Implementation::Handwritten];

    /// The value of `bench-server --impl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::Generated => "generated",
            Implementation::Handwritten => "handwritten",
        }
    }
}

/// One request the benchmark repeats, and the status both servers must answer.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What the report calls it.
    pub label: &'static str,
    pub method: &'static str,
    /// Path and query.
    pub target: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<String>,
    pub status: u16,
}

/// The benchmarked requests: one resource, a filtered page, a valid create, an
/// invalid create (`email` over its 320-character maximum).
pub fn endpoints() -> Vec<Endpoint> {
    let long_email = format!("{}@example.com", "x".repeat(400));
    vec![
        Endpoint {
            label: "GET /users/:id",
            method: "GET",
            target: "/users/usr-42".into(),
            body: None,
            status: 200,
        },
        Endpoint {
            label: "GET /users?status&limit&offset",
            method: "GET",
            target: "/users?status=active&limit=10&offset=20".into(),
            body: None,
            status: 200,
        },
        Endpoint {
            label: "POST /users (valid)",
            method: "POST",
            target: "/users".into(),
            body: Some(
                r#"{"email":"ada@example.com","name":{"first":"Ada","last":"Lovelace"},"status":"pending"}"#
                    .into(),
            ),
            status: 201,
        },
        Endpoint {
            label: "POST /users (invalid)",
            method: "POST",
            target: "/users".into(),
            body: Some(format!(
                r#"{{"email":"{long_email}","name":{{"first":"Ada"}}}}"#
            )),
            status: 422,
        },
    ]
}

/// `endpoint` as a request for a router called in process (the examples: no
/// socket, no hyper).
pub fn in_process_request(endpoint: &Endpoint) -> blueprint::http::Request<axum::body::Body> {
    let builder = blueprint::http::Request::builder()
        .method(endpoint.method)
        .uri(&endpoint.target)
        .header("host", "127.0.0.1");
    let result = match &endpoint.body {
        Some(body) => builder
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(axum::body::Body::from(body.clone())),
        None => builder.body(axum::body::Body::empty()),
    };
    // The endpoints are constants of this crate, valid requests.
    result.expect("valid request")
}

/// A running `bench-server`; killed and reaped when dropped, so no server
/// outlives the driver, whatever fails.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl ServerProcess {
    /// Start `binary --impl IMPL --port 0` and wait for the port it prints.
    pub fn start(binary: &Path, implementation: Implementation) -> std::io::Result<Self> {
        let child = Command::new(binary)
            .args(["--impl", implementation.as_str(), "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        // Owned from here: an early return below still stops the child.
        let mut server = ServerProcess {
            child,
            addr: String::new(),
        };
        let stdout = server
            .child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("the server's stdout was not captured"))?;
        let mut line = String::new();
        // A server that fails to start exits, which ends this read.
        BufReader::new(stdout).read_line(&mut line)?;
        match line.trim().strip_prefix("listening on ") {
            Some(addr) => server.addr = addr.to_owned(),
            None => {
                return Err(std::io::Error::other(format!(
                    "{} did not report its address (printed {line:?})",
                    binary.display()
                )));
            }
        }
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Already exited is fine; nothing else can be done about a failure here.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Send `endpoint`'s request once over a fresh connection.
pub fn fetch(addr: &str, endpoint: &Endpoint) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = endpoint.body.as_deref().unwrap_or("");
    let mut request = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        endpoint.method,
        endpoint.target,
        body.len()
    );
    if endpoint.body.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    parse_response(&response)
        .ok_or_else(|| std::io::Error::other(format!("malformed HTTP response: {response:?}")))
}

/// Status and body of a `Connection: close` HTTP/1.1 response (no chunking:
/// both servers send a `Content-Length`).
fn parse_response(text: &str) -> Option<Answer> {
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Answer {
        status,
        body: body.to_owned(),
    })
}

/// The `wrk -s` Lua script sending `endpoint`'s method and body (None for a GET).
pub fn wrk_script(endpoint: &Endpoint) -> Option<String> {
    let body = endpoint.body.as_deref()?;
    // A long bracket needs no escaping as long as the body does not contain `]==]`.
    Some(format!(
        "wrk.method = \"{}\"\nwrk.body = [==[{body}]==]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
        endpoint.method
    ))
}

/// What one `wrk --latency` run reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkReport {
    pub requests: u64,
    pub requests_per_sec: f64,
    /// Latency percentiles, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers outside 2xx/3xx.
    pub non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
}

/// Read `wrk --latency`'s text report.
pub fn parse_wrk(text: &str) -> Result<WrkReport, String> {
    let mut requests = None;
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    let (mut non_2xx, mut socket_errors) = (0, 0);
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rps = rest.trim().parse::<f64>().ok();
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50 = parse_duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = parse_duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest
                .trim()
                .parse()
                .map_err(|_| format!("bad line {line:?}"))?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // `connect 0, read 0, write 0, timeout 0`
            socket_errors = rest
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
        } else if let Some((count, _)) = line.split_once(" requests in ") {
            requests = count.trim().parse().ok();
        }
    }
    match (requests, rps, p50, p99) {
        (Some(requests), Some(requests_per_sec), Some(p50_ms), Some(p99_ms)) => Ok(WrkReport {
            requests,
            requests_per_sec,
            p50_ms,
            p99_ms,
            non_2xx,
            socket_errors,
        }),
        _ => Err(format!(
            "wrk's report lacks the request count, Requests/sec or the 50%/99% latencies (ran without --latency?):\n{text}"
        )),
    }
}

/// `812.00us`, `1.52ms`, `2.01s`, `1.00m` in milliseconds.
fn parse_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3600e3,
        _ => return None,
    };
    Some(number * scale)
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const WRK: &str = "\
Running 5s test @ http://127.0.0.1:40000/users
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  402.11us   9.87ms   80.00%
    Req/Sec    26.70k     1.20k   28.00k    70.00%
  Latency Distribution
     50%    1.12ms
     75%    1.40ms
     90%    1.71ms
     99%  812.00us
  132862 requests in 5.00s, 25.34MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 132862
Requests/sec:  26570.18
Transfer/sec:      5.07MB
";

    #[test]
    fn reads_wrk_report() {
        let report = parse_wrk(WRK).unwrap();
        assert_eq!(report.requests, 132_862);
        assert_eq!(report.requests_per_sec, 26_570.18);
        assert_eq!(report.p50_ms, 1.12);
        assert!((report.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(report.non_2xx, 132_862);
        assert_eq!(report.socket_errors, 3);
    }

    #[test]
    fn report_without_latency_is_an_error() {
        let text: String = WRK
            .lines()
            .filter(|l| !l.trim_start().starts_with("50%"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_wrk(&text).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("2.00s"), Some(2000.0));
        assert_eq!(parse_duration_ms("1.00m"), Some(60_000.0));
        assert_eq!(parse_duration_ms("3.5ms"), Some(3.5));
        assert_eq!(parse_duration_ms("12"), None);
        assert_eq!(parse_duration_ms("1.0xs"), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn scripts_carry_method_and_body() {
        let post = &endpoints()[2];
        let script = wrk_script(post).unwrap();
        assert!(script.contains("wrk.method = \"POST\""));
        assert!(script.contains(post.body.as_deref().unwrap()));
        assert_eq!(wrk_script(&endpoints()[0]), None);
    }

    #[test]
    fn responses() {
        let answer = parse_response("HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, "{}");
        assert_eq!(parse_response("garbage"), None);
    }
}

/// One `wrk` load of `url`, also used by the services' load benchmarks.
#[derive(Debug, Clone)]
pub struct Wrk<'a> {
    pub url: &'a str,
    /// A `wrk -s` Lua script (method, headers, body, request mix), if any.
    pub script: Option<&'a Path>,
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

impl Wrk<'_> {
    /// Run `wrk --latency` (another process; it stops by itself after `seconds`)
    /// and read its report. An error when wrk is missing or fails, or when any
    /// socket error happened.
    pub fn run(&self) -> Result<WrkReport, String> {
        let mut command = Command::new("wrk");
        command.args([
            format!("-t{}", self.threads.clamp(1, self.connections.max(1))),
            format!("-c{}", self.connections),
            format!("-d{}s", self.seconds),
            "--latency".to_owned(),
        ]);
        if let Some(script) = self.script {
            command.arg("-s").arg(script);
        }
        let output = command.arg(self.url).output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "this benchmark loads the service with wrk, which is not installed \
                 (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"
                    .to_owned()
            } else {
                format!("cannot run wrk: {e}")
            }
        })?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "wrk failed ({}): {text}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let report = parse_wrk(&text)?;
        if report.socket_errors > 0 || report.requests == 0 {
            return Err(format!(
                "{}: {} requests, {} socket errors:\n{text}",
                self.url, report.requests, report.socket_errors
            ));
        }
        Ok(report)
    }
}
