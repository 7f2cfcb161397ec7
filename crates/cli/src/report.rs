//! Printing diagnostics in the formats every command shares.
//!
//! Diagnostics (errors, warnings, lint findings) always go to stderr, in every
//! format; stdout carries only what a command produces (a service's JSON, a diff,
//! a verification report), so `dev spec show --json api.json | jq` never reads a
//! diagnostic.

use std::io::{IsTerminal, Write};

use blueprint_spec::{Diagnostic, SourceMap, Spec, diag::render_human};

/// Output format for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// rustc-like: file:line:col, the offending line with a caret, a hint.
    #[default]
    Human,
    /// One JSON document: `{"diagnostics": [...]}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...,line=...::message`).
    Github,
    /// One line per diagnostic: `error[code] file:line:col: message`.
    Short,
}

/// Whether to colour diagnostics: stderr is a terminal, and `NO_COLOR` unset.
pub fn use_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Print diagnostics to stderr in `format`.
pub fn print_diagnostics<'a>(
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    sources: &SourceMap,
    format: Format,
) -> std::io::Result<()> {
    let mut out = std::io::stderr().lock();
    let diagnostics: Vec<&Diagnostic> = diagnostics.into_iter().collect();
    match format {
        Format::Human => {
            let color = use_color();
            for d in &diagnostics {
                write!(out, "{}", render_human(d, sources, color))?;
            }
        }
        Format::Short => {
            for d in &diagnostics {
                writeln!(out, "{}", d.to_short(sources))?;
            }
        }
        Format::Json => {
            let list: Vec<_> = diagnostics.iter().map(|d| d.to_json(sources)).collect();
            write_json_document(&mut out, list)?;
        }
        Format::Github => {
            for d in &diagnostics {
                writeln!(out, "{}", github_line(d, sources))?;
            }
        }
    }
    Ok(())
}

/// The spec's warnings, in `format`; nothing when there are none (so a JSON
/// format prints no empty document).
pub fn print_warnings(spec: &Spec, format: Format) -> std::io::Result<()> {
    if spec.warnings.is_empty() {
        return Ok(());
    }
    print_diagnostics(&spec.warnings, &spec.sources, format)
}

/// `{"diagnostics": [...]}`: the one JSON document `--format json` prints.
pub fn write_json_document(
    out: &mut impl Write,
    diagnostics: Vec<serde_json::Value>,
) -> std::io::Result<()> {
    let doc = serde_json::json!({ "diagnostics": diagnostics });
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

/// `::error file=F,line=L,col=C,title=CODE::MESSAGE`, escaped as GitHub requires.
fn github_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let level = match d.severity {
        blueprint_spec::Severity::Error => "error",
        blueprint_spec::Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some((path, line, col)) = d.span.and_then(|s| sources.locate(s)) {
        props.push(format!(
            "file={}",
            escape_property(&path.display().to_string())
        ));
        props.push(format!("line={line}"));
        props.push(format!("col={col}"));
    }
    props.push(format!("title={}", escape_property(&d.code)));
    let mut message = d.message.clone();
    if let Some(hint) = &d.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    format!("::{level} {}::{}", props.join(","), escape_data(&message))
}

pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Rows as lines of left-aligned columns two spaces apart (the last column
/// unpadded), the first row being the header.
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> Vec<String> {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let row = row.as_ref();
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[c] - cell.chars().count() + 2;
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_format_escapes() {
        let mut sources = SourceMap::new();
        let f = sources.add("a,b.json", "{\n \"x\": 1}");
        let d =
            Diagnostic::error("spec/x", "bad: 100%\nreally").at(blueprint_spec::Span::new(f, 3, 6));
        assert_eq!(
            github_line(&d, &sources),
            "::error file=a%2Cb.json,line=2,col=2,title=spec/x::bad: 100%25%0Areally"
        );
    }

    #[test]
    fn table_columns_align_and_the_last_is_not_padded() {
        let rows = [
            ["service", "url", "health"].map(String::from),
            ["users", "http://127.0.0.1:7101", "healthy"].map(String::from),
            ["", "", "x"].map(String::from),
        ];
        assert_eq!(
            table(&rows),
            [
                "service  url                    health",
                "users    http://127.0.0.1:7101  healthy",
                "                                x",
            ]
        );
    }
}
