//! Schemathesis (PyPI), with all its checks, against the generated users server
//! (`bench-server --impl generated`: the committed `users-api` package around this
//! crate's in-memory implementation), described by the users service's committed
//! OpenAPI export. It finds nothing but the known findings
//! (`crates/testkit/judges/schemathesis-known.json`, target `users-server`).
//!
//! The stateful phase is left out: this implementation keeps no writes on purpose
//! (a benchmark needs a steady state), so "created resource not found" would be
//! true of it and say nothing about generated code. `dev mock` and a real service
//! get the stateful phase.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use blueprint_testkit::judges;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn schemathesis_finds_nothing_unknown_in_the_generated_users_server() {
    let openapi = blueprint_testkit::workspace_root().join("services/users/api/openapi.json");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_bench-server"))
            .args(["--impl", "generated", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start bench-server"),
    );
    let stdout = server.0.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server says where it listens");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let url = format!("http://{addr}");
    let Some(found) = judges::schemathesis_findings(
        "users-server",
        &openapi,
        &url,
        &["--phases", "examples,coverage,fuzzing"],
    ) else {
        return; // Not installed (testkit said why; CI fails there instead).
    };
    assert!(
        found.is_empty(),
        "Schemathesis found:\n{}",
        found.join("\n")
    );
}
