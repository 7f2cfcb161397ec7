//! Clients generated from the OpenAPI export by independent generators, as a user
//! would: openapi-python-client (PyPI) and openapi-typescript (npm, then
//! `tsc --strict`) generate from every corpus spec and the users spec
//! without a warning, and what they write compiles.
//!
//! (The users client is also driven against `dev mock`: see the mock's `judges` test.)

use std::path::{Path, PathBuf};
use std::process::Command;

use blueprint_codegen::openapi;
use blueprint_testkit::{npm, python};

/// `(stem, export file)` for every corpus spec and the users spec.
fn exports(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut specs = blueprint_testkit::load_corpus(blueprint_spec::load);
    let users = blueprint_testkit::workspace_root().join("services/users/spec/users.json");
    let spec = blueprint_spec::load(&users).unwrap_or_else(|e| panic!("users.json: {e}"));
    specs.push((users, spec));
    std::fs::create_dir_all(dir).expect("create the output folder");
    specs
        .into_iter()
        .map(|(path, spec)| {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 name")
                .to_string();
            let file = dir.join(format!("{stem}.openapi.json"));
            std::fs::write(&file, openapi::render(&spec)).expect("write the export");
            (stem, file)
        })
        .collect()
}

/// Lines that report a problem in a generator's output.
fn complaints(output: &std::process::Output) -> Vec<String> {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            ["warn", "error", "unable", "skipp"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn python_clients_generate_cleanly_and_compile() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clients/python");
    let exports = exports(&dir);
    if exports.is_empty() {
        return;
    }
    let Some(generator) = python::judge("openapi-python-client", "openapi-python-client") else {
        return;
    };
    // Its formatting hooks run `ruff`, installed beside it.
    let path = format!(
        "{}:{}",
        python::judges_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let generate = |(stem, file): &(String, PathBuf)| -> Vec<String> {
        let out = dir.join(stem);
        let _ = std::fs::remove_dir_all(&out);
        let output = Command::new(&generator)
            .args(["generate", "--overwrite", "--path"])
            .arg(file)
            .arg("--output-path")
            .arg(&out)
            .env("PATH", &path)
            .output()
            .expect("run openapi-python-client");
        let mut problems: Vec<String> = complaints(&output)
            .into_iter()
            .map(|l| format!("{stem}: {l}"))
            .collect();
        if !output.status.success() {
            problems.push(format!("{stem}: exit {}", output.status));
            return problems;
        }
        let compiled = Command::new(python::judges_bin().join("python"))
            .args(["-m", "compileall", "-q"])
            .arg(&out)
            .output()
            .expect("run compileall");
        if !compiled.status.success() {
            problems.push(format!(
                "{stem}: does not compile: {}",
                String::from_utf8_lossy(&compiled.stdout)
            ));
        }
        problems
    };
    // Two at a time: the generator is slow and single-threaded.
    let (odd, even): (Vec<_>, Vec<_>) = exports.iter().enumerate().partition(|(i, _)| i % 2 == 1);
    let problems: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = [odd, even]
            .into_iter()
            .map(|half| {
                s.spawn(|| {
                    half.into_iter()
                        .flat_map(|(_, e)| generate(e))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a generator thread"))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "openapi-python-client:\n{}",
        problems.join("\n")
    );
    eprintln!("{} Python clients generated and compiled", exports.len());
}

#[test]
fn typescript_types_generate_cleanly_and_compile_strictly() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clients/typescript");
    let exports = exports(&dir);
    if exports.is_empty() {
        return;
    }
    let (Some(generator), Some(tsc)) = (npm::tool("openapi-typescript"), npm::tool("tsc")) else {
        return;
    };
    let mut problems = Vec::new();
    let mut declarations = Vec::new();
    for (stem, file) in &exports {
        let out = dir.join(format!("{stem}.d.ts"));
        let output = Command::new(&generator)
            .arg(file)
            .arg("--output")
            .arg(&out)
            .output()
            .expect("run openapi-typescript");
        problems.extend(
            complaints(&output)
                .into_iter()
                .map(|l| format!("{stem}: {l}")),
        );
        if !output.status.success() {
            problems.push(format!("{stem}: exit {}", output.status));
        }
        declarations.push(out);
    }
    let compiled = Command::new(tsc)
        .args(["--strict", "--noEmit", "--skipLibCheck", "false"])
        .args(&declarations)
        .output()
        .expect("run tsc");
    if !compiled.status.success() {
        problems.push(format!(
            "tsc --strict: {}",
            String::from_utf8_lossy(&compiled.stdout)
        ));
    }
    assert!(
        problems.is_empty(),
        "openapi-typescript:\n{}",
        problems.join("\n")
    );
    eprintln!(
        "{} TypeScript declarations generated and compiled",
        exports.len()
    );
}
