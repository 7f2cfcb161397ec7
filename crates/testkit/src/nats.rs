//! A throwaway NATS server with JetStream for tests.
//!
//! [`TestNats::start`] uses the server named by `BLUEPRINT_TEST_NATS_URL` when set,
//! and otherwise starts `nats-server -js` (Debian's package, or `BLUEPRINT_NATS_SERVER`
//! naming the binary) on a free loopback port, its JetStream store in a temporary
//! folder (the launcher is `blueprint-natsserver`, shared with `dev up --nats`);
//! the server is killed and the folder removed on drop. A missing binary
//! skips locally (`start` answers `None` with a note) and fails under `CI=true`.
//!
//! Fault tests [`TestNats::kill`] the server (SIGKILL) and [`TestNats::restart`] it
//! on the same port and store. [`TestNatsCluster`] always starts its own servers
//! (one, or a JetStream cluster of several on loopback), each killed and restarted
//! alone.

use std::process::Child;

pub use blueprint_natsserver::BIN_ENV;
use blueprint_natsserver::{Node, Server};

use crate::in_ci;

/// The environment variable naming an already running server to use.
pub const URL_ENV: &str = "BLUEPRINT_TEST_NATS_URL";

#[derive(Debug)]
pub struct TestNats {
    url: String,
    local: Option<LocalServer>,
}

#[derive(Debug)]
struct LocalServer {
    server: Server,
    child: Option<Child>,
    // Removed after the server is killed (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl TestNats {
    /// The server to test against, or `None` (with a note on stderr) when
    /// `nats-server` is not installed outside CI.
    ///
    /// # Panics
    /// When the server cannot start, and under `CI=true` when it is not installed.
    pub fn start() -> Option<TestNats> {
        if let Ok(url) = std::env::var(URL_ENV) {
            return Some(TestNats { url, local: None });
        }
        let Some(binary) = blueprint_natsserver::find_binary() else {
            assert!(
                !in_ci(),
                "nats-server is not installed (apt-get install nats-server, or set {BIN_ENV} or {URL_ENV}); CI must have it"
            );
            eprintln!("note: nats-server is not installed (apt-get install nats-server); skipping");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("blueprint-nats-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        // The port is free when probed; another process may take it first: retry.
        let mut last = String::new();
        for _ in 0..3 {
            let port = blueprint_natsserver::free_port().unwrap_or_else(|e| panic!("{e}"));
            let server = Server::new(&binary, dir.path(), port);
            match server.start() {
                Ok(child) => {
                    return Some(TestNats {
                        url: server.url(),
                        local: Some(LocalServer {
                            server,
                            child: Some(child),
                            _dir: dir,
                        }),
                    });
                }
                Err(e) => last = e.to_string(),
            }
        }
        panic!("nats-server did not start: {last}");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Kill the server at once (SIGKILL), as a crash would; no-op for an external one.
    pub fn kill(&mut self) {
        if let Some(server) = &mut self.local {
            server.kill();
        }
    }

    /// Start the killed server again on the same port and store.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self) {
        if let Some(local) = &mut self.local {
            local.kill();
            match local.server.start() {
                Ok(child) => local.child = Some(child),
                Err(e) => panic!("nats-server did not restart: {e}"),
            }
        }
    }
}

/// `nats-server` processes started here whatever `BLUEPRINT_TEST_NATS_URL` says
/// (fault tests kill them): one server, or a JetStream cluster of several on
/// loopback (`--cluster_name`, a `--server_name` and a store each, routes to every
/// peer). Killed and their folder removed on drop.
#[derive(Debug)]
pub struct TestNatsCluster {
    nodes: Vec<(Server, Option<Child>)>,
    // Removed after the servers are killed (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl TestNatsCluster {
    /// `nodes` servers (1: a plain server), each accepting clients; `None` (with a
    /// note on stderr) when `nats-server` is not installed outside CI. A cluster's
    /// JetStream answers once its nodes have elected a leader, a moment later:
    /// clients retry.
    ///
    /// # Panics
    /// When a server cannot start, and under `CI=true` when none is installed.
    pub fn start(nodes: usize) -> Option<TestNatsCluster> {
        let Some(binary) = blueprint_natsserver::find_binary() else {
            assert!(
                !in_ci(),
                "nats-server is not installed (apt-get install nats-server, or set {BIN_ENV}); CI must have it"
            );
            eprintln!("note: nats-server is not installed (apt-get install nats-server); skipping");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("blueprint-nats-cluster-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        // Ports are free when probed; another process may take one first: retry.
        let mut last = String::new();
        for attempt in 0..3 {
            let port = || blueprint_natsserver::free_port().unwrap_or_else(|e| panic!("{e}"));
            let clients: Vec<u16> = (0..nodes).map(|_| port()).collect();
            let routes: Vec<u16> = (0..nodes).map(|_| port()).collect();
            let servers: Vec<Server> = (0..nodes)
                .map(|i| {
                    let folder = dir.path().join(format!("try{attempt}-n{i}"));
                    let server = Server::new(&binary, folder, clients[i]);
                    if nodes == 1 {
                        return server;
                    }
                    server.in_cluster(Node {
                        cluster: "blueprint-test".into(),
                        name: format!("n{i}"),
                        route_port: routes[i],
                        peers: routes.iter().copied().filter(|&p| p != routes[i]).collect(),
                    })
                })
                .collect();
            let mut started: Vec<(Server, Option<Child>)> = Vec::new();
            for server in servers {
                match server.start() {
                    Ok(child) => started.push((server, Some(child))),
                    Err(e) => {
                        last = e.to_string();
                        break;
                    }
                }
            }
            if started.len() == nodes {
                return Some(TestNatsCluster {
                    nodes: started,
                    _dir: dir,
                });
            }
            for (_, child) in &mut started {
                if let Some(mut child) = child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("nats-server did not start: {last}");
    }

    /// Every node's `nats://127.0.0.1:<port>`, comma-separated (a streams URL).
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|(s, _)| s.url())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s server (its URL, folder and log).
    pub fn server(&self, i: usize) -> &Server {
        &self.nodes[i].0
    }

    /// Kill node `i` at once (SIGKILL), as a crash would.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].1.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start node `i` again on the same ports and store.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        let node = &mut self.nodes[i];
        match node.0.start() {
            Ok(child) => node.1 = Some(child),
            Err(e) => panic!("nats-server node {i} did not restart: {e}"),
        }
    }
}

impl Drop for TestNatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

impl LocalServer {
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill();
    }
}
