//! Just enough of the Chrome DevTools Protocol to load pages and read what they did:
//! one headless Chromium, one tab, commands and events as JSON over a WebSocket.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use blueprint_testkit::browser::HEADLESS_FLAGS;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long any one answer from the browser may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a page did while it loaded, and what is on it.
#[derive(Debug, Default)]
pub struct PageReport {
    /// Console errors, uncaught exceptions and failed loads, as the browser words them.
    pub errors: Vec<String>,
    /// Every element id.
    pub ids: Vec<String>,
    /// Every `href` and `src`, resolved to an absolute URL.
    pub links: Vec<String>,
    /// Images that did not load or have no size.
    pub broken_images: Vec<String>,
}

/// A headless Chromium with one tab attached; killed on drop.
pub struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Events read while waiting for an answer.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut child = Command::new(chromium)
            .args(HEADLESS_FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium says where it listens on stderr; the thread keeps draining it.
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(TIMEOUT) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                panic!("chromium did not open its DevTools endpoint: {e}");
            }
        };
        let (mut socket, _) = tungstenite::connect(url.as_str()).expect("connect to DevTools");
        if let MaybeTlsStream::Plain(tcp) = socket.get_mut() {
            tcp.set_read_timeout(Some(TIMEOUT))
                .expect("set a read timeout");
        }
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        for domain in ["Page", "Runtime", "Log"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser
    }

    /// Load `url` and report what happened.
    pub fn visit(&mut self, url: &str) -> PageReport {
        self.events.clear();
        let navigated = self.call("Page.navigate", json!({"url": url}));
        if let Some(error) = navigated["errorText"].as_str() {
            return PageReport {
                errors: vec![format!("navigation failed: {error}")],
                ..PageReport::default()
            };
        }
        self.wait_for("Page.loadEventFired");
        let facts = self.call(
            "Runtime.evaluate",
            json!({"expression": FACTS, "returnByValue": true}),
        );
        let facts = &facts["result"]["value"];
        let strings = |key: &str| -> Vec<String> {
            facts[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        PageReport {
            errors: self.events.iter().filter_map(error_of).collect(),
            ids: strings("ids"),
            links: strings("links"),
            broken_images: strings("brokenImages"),
        }
    }

    /// Send a command (to the tab once attached) and return its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("send {method}: {e}"));
        loop {
            let answer = self.read();
            if answer["id"] == id {
                assert!(
                    answer.get("error").is_none(),
                    "{method} failed: {}",
                    answer["error"]
                );
                return answer["result"].clone();
            }
            self.events.push(answer);
        }
    }

    fn wait_for(&mut self, event: &str) {
        if self.events.iter().any(|e| e["method"] == event) {
            return;
        }
        loop {
            let message = self.read();
            let done = message["method"] == event;
            self.events.push(message);
            if done {
                return;
            }
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
                }
                Ok(_) => continue,
                Err(e) => panic!("reading from DevTools: {e}"),
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the page has, computed in the page.
const FACTS: &str = r#"(() => ({
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
  links: Array.from(document.querySelectorAll('a[href], link[href], img[src], script[src], iframe[src]'),
                    e => e.href || e.src),
  brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
}))()"#;

/// The error an event reports, if it is one: a console error, an uncaught
/// exception, or a browser log entry at level error (failed loads).
fn error_of(event: &Value) -> Option<String> {
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.consoleAPICalled"
            if matches!(params["type"].as_str(), Some("error" | "assert")) =>
        {
            let text: Vec<String> = params["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    a["value"]
                        .as_str()
                        .map_or_else(|| a.to_string(), str::to_string)
                })
                .collect();
            Some(format!(
                "console.{}: {}",
                params["type"].as_str()?,
                text.join(" ")
            ))
        }
        "Runtime.exceptionThrown" => Some(format!(
            "uncaught: {}",
            params["exceptionDetails"]["exception"]["description"]
                .as_str()
                .unwrap_or_else(|| params["exceptionDetails"]["text"].as_str().unwrap_or("?"))
        )),
        "Log.entryAdded" if params["entry"]["level"] == "error" => Some(format!(
            "{}: {} {}",
            params["entry"]["source"].as_str().unwrap_or("log"),
            params["entry"]["text"].as_str().unwrap_or_default(),
            params["entry"]["url"].as_str().unwrap_or_default()
        )),
        _ => None,
    }
}
