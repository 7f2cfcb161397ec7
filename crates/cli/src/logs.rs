//! `dev up`'s output: every line its services print, prefixed `<key> |` (keys
//! padded to one width, each in its own colour when stdout is a terminal and
//! `NO_COLOR` is unset), the supervisor's own lines beside them, and the start-up
//! table, all through one writer so lines never interleave mid-line.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use owo_colors::{AnsiColors, OwoColorize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Lines waiting for the terminal; a service printing faster than it is read
/// waits (its pipe fills) rather than growing this without bound.
const BUFFERED_LINES: usize = 1024;

/// The colours of the prefixes, in service order.
const PALETTE: [AnsiColors; 6] = [
    AnsiColors::Cyan,
    AnsiColors::Yellow,
    AnsiColors::Green,
    AnsiColors::Magenta,
    AnsiColors::Blue,
    AnsiColors::BrightRed,
];

/// A handle to the writer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Logs {
    tx: mpsc::Sender<String>,
    colour: bool,
    width: usize,
}

/// The rendered `<key> | ` of one service.
#[derive(Debug, Clone)]
pub struct Prefix(Arc<str>);

impl Logs {
    /// Start the writer (on a blocking thread: stdout is a blocking file). It ends
    /// when every handle is dropped; await the handle to flush the last lines.
    pub fn start(keys: &[&str]) -> (Logs, JoinHandle<()>) {
        let colour = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let (tx, mut rx) = mpsc::channel::<String>(BUFFERED_LINES);
        let writer = tokio::task::spawn_blocking(move || {
            let stdout = std::io::stdout();
            // A closed stdout (`dev up | head`) drops lines; the services go on.
            let mut open = true;
            while let Some(line) = rx.blocking_recv() {
                if open {
                    let mut out = stdout.lock();
                    open = writeln!(out, "{line}").and_then(|()| out.flush()).is_ok();
                }
            }
        });
        let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
        (Logs { tx, colour, width }, writer)
    }

    /// The prefix of the `index`-th service.
    pub fn prefix(&self, key: &str, index: usize) -> Prefix {
        let padded = format!("{key:<width$} |", width = self.width);
        let text = if self.colour {
            padded.color(PALETTE[index % PALETTE.len()]).to_string()
        } else {
            padded
        };
        Prefix(format!("{text} ").into())
    }

    /// A line a service printed.
    pub async fn line(&self, prefix: &Prefix, text: &str) {
        let _ = self.tx.send(format!("{}{text}", prefix.0)).await;
    }

    /// A line of the supervisor's about a service (crashes, restarts, stops).
    pub async fn note(&self, prefix: &Prefix, text: &str) {
        let text = if self.colour {
            format!("[dev up] {text}").bold().to_string()
        } else {
            format!("[dev up] {text}")
        };
        self.line(prefix, &text).await;
    }

    /// A line as it is (the table, summaries).
    pub async fn plain(&self, text: impl Into<String>) {
        let _ = self.tx.send(text.into()).await;
    }
}
