//! A service binary honouring the service contract with the standard library only,
//! for `dev up` / `dev status` tests (built by `dev up` in a scratch workspace, as
//! `services/<key>/src/main.rs`, beside an `identity.rs` the test writes).
//!
//! - `<bin> migrate`: with `DATABASE_URL=sqlite:PATH`, writes PATH; exits 0.
//! - `<bin>`: refuses to start (exit 1) when the SQLite file was not migrated, or
//!   (exit 3) when `services/<key>/crash-on-start` exists; starts a grandchild that
//!   ignores SIGTERM (its pid in `.dev/<key>.grandchild`), listens on `PORT`, prints
//!   `listening on http://HOST:PORT`.
//! - `GET /_internal_/healthcheck`, `/_internal_/version`, `/_internal_/metrics`;
//!   `GET /env` (the contract's variables, `NAME=value` lines); `GET /crash`
//!   answers, then exits 3.

mod identity;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const ENV: [&str; 4] = [
    "PORT",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
];

fn main() {
    let key = env!("CARGO_BIN_NAME");
    let database = std::env::var("DATABASE_URL").unwrap_or_default();
    let sqlite = database.strip_prefix("sqlite:").map(PathBuf::from);
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        if let Some(path) = &sqlite {
            std::fs::write(path, "migrated\n").expect("write the database");
        }
        println!("migrated {database}");
        return;
    }
    if sqlite.as_ref().is_some_and(|p| !p.exists()) {
        eprintln!("error: migrations are pending: run `{key} migrate`");
        std::process::exit(1);
    }
    if PathBuf::from(format!("services/{key}/crash-on-start")).exists() {
        eprintln!("crashing on start, as asked");
        std::process::exit(3);
    }
    let grandchild = Command::new("sh")
        .args(["-c", "trap '' TERM; exec sleep 600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    std::fs::write(format!(".dev/{key}.grandchild"), grandchild.id().to_string())
        .expect("write the grandchild's pid");
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).expect("bind");
    println!("listening on http://127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || answer(stream));
    }
}

fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (status, body) = match path.as_str() {
        "/_internal_/healthcheck" => ("200 OK", r#"{"status":"healthy"}"#.to_owned()),
        "/_internal_/version" => (
            "200 OK",
            format!(
                r#"{{"name":"{}","version":"0.1.0","spec_hash":"{}","git_commit":null,"notes":[{}]}}"#,
                identity::NAME,
                identity::SPEC_HASH,
                identity::NOTES
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        "/_internal_/metrics" => (
            "200 OK",
            "# TYPE blueprint_http_requests_total counter\n\
             blueprint_http_requests_total{operation=\"/things/{id}\",method=\"GET\",status=\"200\"} 7\n"
                .to_owned(),
        ),
        "/env" => (
            "200 OK",
            ENV.iter()
                .map(|k| format!("{k}={}\n", std::env::var(k).unwrap_or_default()))
                .collect(),
        ),
        "/crash" => ("200 OK", "crashing\n".to_owned()),
        _ => ("404 Not Found", "{}".to_owned()),
    };
    println!("GET {path} {}", &status[..3]);
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    if path == "/crash" {
        std::process::exit(3);
    }
}
