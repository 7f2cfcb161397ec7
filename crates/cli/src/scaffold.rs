//! What `dev init` and `dev new` write: a workspace, and a service shaped like this
//! repository's `users` — a spec with a journaled `db` model, its form, a CRUD
//! resource and the `<model>_event` stream; a `[[gen.target]]` and
//! `[services.<key>] port`; the binary (`main.rs` handing everything to
//! `blueprint::service`, `api.rs` implementing the generated trait on the generated
//! DAO).
//!
//! The files are templates kept in `crates/cli/templates/` and compiled in, with
//! `{{name}}` placeholders. They are starting code the user owns and edits, not
//! generated code (which `dev gen` writes from the spec, as syntax trees), so plain
//! text with placeholders is the right tool; `tests/init.rs` builds and runs what
//! they make.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use heck::ToUpperCamelCase;

/// How a new workspace depends on the Blueprint runtime: the `blueprint` crate, and
/// `blueprint-build` beside it for the services' build scripts (a path is the
/// checkout's `crates/runtime`, written relative to the workspace).
pub use blueprint_codegen::RuntimeDependency as Runtime;

/// The checkout this `dev` was built from when it is still there (`dev` run from, or
/// installed from, a Blueprint checkout: the workspace builds against exactly that
/// code), else the registry version equal to `dev`'s own.
pub fn default_runtime() -> Runtime {
    let runtime = crate::cmd::r#gen::default_runtime_path();
    if runtime.join("Cargo.toml").is_file() {
        Runtime::Path(runtime)
    } else {
        Runtime::Version(env!("CARGO_PKG_VERSION").to_owned())
    }
}

mod templates {
    pub const WORKSPACE_CARGO: &str = include_str!("../templates/workspace/Cargo.toml");
    pub const BLUEPRINT_TOML: &str = include_str!("../templates/workspace/blueprint.toml");
    pub const README: &str = include_str!("../templates/workspace/README.md");
    pub const GITIGNORE: &str = include_str!("../templates/workspace/gitignore");
    pub const SPEC: &str = include_str!("../templates/service/spec.json");
    pub const SERVICE_CARGO: &str = include_str!("../templates/service/Cargo.toml");
    pub const BUILD_RS: &str = include_str!("../templates/service/build.rs");
    pub const MAIN_RS: &str = include_str!("../templates/service/main.rs");
    pub const API_RS: &str = include_str!("../templates/service/api.rs");
    pub const GEN_TARGET: &str = include_str!("../templates/service/blueprint.toml");
}

/// The first port `dev new service` hands out (`[services.<key>] port`).
pub const FIRST_PORT: u16 = 7101;

/// A new workspace's files, relative to its root (`name` is its folder's name; `org`
/// makes the specs' namespaces).
pub fn workspace_files(
    name: &str,
    org: &str,
    runtime: &Runtime,
    root: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    check_organization(org)?;
    let (dependencies, gen_runtime, dev_command) = match runtime {
        Runtime::Path(runtime) => {
            let relative = |target: &Path| -> anyhow::Result<String> {
                let path = crate::cmd::r#gen::relative_to(target, root)?;
                toml_string(&path)
            };
            let checkout = runtime
                .parent()
                .and_then(Path::parent)
                .context("the runtime path has no checkout around it")?;
            (
                format!(
                    "blueprint = {{ path = {}, default-features = false }}\nblueprint-build = {{ path = {} }}",
                    relative(runtime)?,
                    relative(&runtime.with_file_name("build"))?,
                ),
                format!("{{ path = {} }}", relative(runtime)?),
                format!(
                    "cargo run --quiet --locked --manifest-path {}/Cargo.toml -p blueprint-cli --bin dev --",
                    checkout.display()
                ),
            )
        }
        Runtime::Version(version) => (
            format!(
                "blueprint = {{ version = \"{version}\", default-features = false }}\nblueprint-build = \"{version}\""
            ),
            format!("{{ version = \"{version}\" }}"),
            "dev".to_owned(),
        ),
    };
    let namespace = format!("io.{}", org.replace('-', "."));
    let vars = [
        ("workspace", name),
        ("org", org),
        ("namespace", namespace.as_str()),
        ("runtime_dependencies", dependencies.as_str()),
        ("gen_runtime", gen_runtime.as_str()),
        ("dev_command", dev_command.as_str()),
    ];
    Ok(vec![
        (
            "Cargo.toml".into(),
            render(templates::WORKSPACE_CARGO, &vars),
        ),
        (
            "blueprint.toml".into(),
            render(templates::BLUEPRINT_TOML, &vars),
        ),
        (".gitignore".into(), render(templates::GITIGNORE, &vars)),
        ("README.md".into(), readme(name)),
    ])
}

/// The workspace README.
fn readme(workspace: &str) -> String {
    render(templates::README, &[("workspace", workspace)])
}

/// A service to scaffold, its names derived from its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Application key and spec name: `orders`, `order-items`.
    pub key: String,
    /// The `db` model, snake_case: `order`.
    pub model: String,
    /// The development port (`[services.<key>] port`).
    pub port: u16,
}

impl Service {
    /// `key` (a spec key, see [`check_service_key`]), its model (default: the
    /// key's last word made singular), its port.
    pub fn new(key: &str, model: Option<&str>, port: u16) -> anyhow::Result<Service> {
        check_service_key(key)?;
        let model = match model {
            Some(m) => m.to_owned(),
            None => singular(&key.replace('-', "_")),
        };
        let valid = model.starts_with(|c: char| c.is_ascii_lowercase())
            && model
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            bail!(
                "model `{model}`: expected a snake_case name (lower-case letters, digits and `_`, starting with a letter)"
            );
        }
        Ok(Service {
            key: key.to_owned(),
            model,
            port,
        })
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        let plural = blueprint_spec::plural::pluralize(&self.model);
        let words = |s: &str| s.replace('_', " ");
        let article = |s: &str| {
            let an = s.starts_with(['a', 'e', 'i', 'o', 'u']);
            format!("{} {}", if an { "an" } else { "a" }, words(s))
        };
        let a_model = article(&self.model);
        let prefix: String = self.model.chars().filter(|c| *c != '_').take(3).collect();
        vec![
            ("key", self.key.clone()),
            ("Title", self.key.replace('-', " ").to_upper_camel_case()),
            ("package", format!("{}-api", self.key)),
            ("crate", format!("{}_api", self.key.replace('-', "_"))),
            (
                "Service",
                format!("{}Service", self.key.to_upper_camel_case()),
            ),
            ("model", self.model.clone()),
            ("Model", self.model.to_upper_camel_case()),
            ("a_model", a_model.clone()),
            ("A_model", capitalise(&a_model)),
            ("plural", plural.clone()),
            ("Plural", plural.to_upper_camel_case()),
            ("plural_words", words(&plural)),
            ("table", plural.clone()),
            ("prefix", prefix),
            ("port", self.port.to_string()),
        ]
    }

    /// The service's files, relative to the workspace root.
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let vars = self.vars();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let dir = PathBuf::from("services").join(&self.key);
        vec![
            (
                dir.join("spec").join(format!("{}.json", self.key)),
                render(templates::SPEC, &vars),
            ),
            (
                dir.join("Cargo.toml"),
                render(templates::SERVICE_CARGO, &vars),
            ),
            (dir.join("build.rs"), render(templates::BUILD_RS, &vars)),
            (dir.join("src/main.rs"), render(templates::MAIN_RS, &vars)),
            (dir.join("src/api.rs"), render(templates::API_RS, &vars)),
        ]
    }

    /// What `blueprint.toml` gains: the gen target and the port.
    pub fn config(&self) -> String {
        let vars = self.vars();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        render(templates::GEN_TARGET, &vars)
    }
}

/// The ports `[services.<key>] port` hold, by key.
fn ports(config: &blueprint_spec::config::Config) -> anyhow::Result<BTreeMap<String, u16>> {
    #[derive(Debug, Default, serde::Deserialize)]
    struct Port {
        port: Option<u16>,
    }
    let services: BTreeMap<String, Port> = config.section("services")?;
    Ok(services
        .into_iter()
        .filter_map(|(key, s)| Some((key, s.port?)))
        .collect())
}

/// The next free port after those `[services.*] port` hold.
pub fn next_port(config: &blueprint_spec::config::Config) -> anyhow::Result<u16> {
    Ok(ports(config)?
        .into_values()
        .max()
        .map_or(FIRST_PORT, |p| p.saturating_add(1)))
}

/// The service whose `[services.<key>] port` is `port`, if any.
pub fn port_owner(
    config: &blueprint_spec::config::Config,
    port: u16,
) -> anyhow::Result<Option<String>> {
    Ok(ports(config)?
        .into_iter()
        .find_map(|(key, p)| (p == port).then_some(key)))
}

/// An error naming the first of `files` (relative to `root`) that exists.
pub fn refuse_existing(root: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (path, _) in files {
        let full = root.join(path);
        if full.exists() {
            bail!(
                "{} exists already; not replacing it (nothing written)",
                full.display()
            );
        }
    }
    Ok(())
}

/// Write `files` under `root`, refusing (before writing any) to replace one that
/// exists.
pub fn write_new(root: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    refuse_existing(root, files)?;
    for (path, contents) in files {
        let full = root.join(path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&full, contents)
            .with_context(|| format!("cannot write {}", full.display()))?;
    }
    Ok(())
}

/// What already claims `service`'s key in the workspace of `config`, if anything: a
/// `[services.<key>]` section, a gen target for its spec, folder or package, or its
/// folder.
pub fn taken(
    config: &blueprint_spec::config::Config,
    service: &Service,
) -> anyhow::Result<Option<String>> {
    let services: BTreeMap<String, serde::de::IgnoredAny> = config.section("services")?;
    if services.contains_key(&service.key) {
        return Ok(Some(format!("[services.{}]", service.key)));
    }
    let dir = Path::new("services").join(&service.key);
    let package = format!("{}-api", service.key);
    for target in crate::cmd::r#gen::declared_targets(config)? {
        let ours = target.out == dir.join("api")
            || target.spec == dir.join("spec").join(format!("{}.json", service.key))
            || target.crate_name.as_deref() == Some(package.as_str());
        if ours {
            return Ok(Some(format!(
                "the [[gen.target]] of {}",
                target.spec.display()
            )));
        }
    }
    if config.root.join(&dir).exists() {
        return Ok(Some(format!("the folder {}", dir.display())));
    }
    Ok(None)
}

/// Format the Rust files among `files` (relative to `root`) as `cargo fmt` does in a
/// workspace of edition 2024: the templates' lines depend on the names put in them,
/// so no template text is formatted for every key. Without rustfmt the files stay as
/// rendered, and a note says so.
pub fn rustfmt(root: &Path, files: &[(PathBuf, String)]) {
    let rust: Vec<PathBuf> = files
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "rs"))
        .map(|(path, _)| root.join(path))
        .collect();
    if rust.is_empty() {
        return;
    }
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&rust)
        .status()
        .is_ok_and(|s| s.success());
    if !formatted {
        eprintln!("note: rustfmt did not run; `cargo fmt` formats the new files");
    }
}

/// Add `text` at the end of the file at `path`.
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut contents =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    contents.push_str(text);
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Replace every `{{name}}` of `vars` in `template`.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out
}

/// Cargo's own folders under `target/`, which it refuses as binary names.
const RESERVED_BINARIES: &[&str] = &["build", "deps", "examples", "incremental"];

/// A service key is a spec key — what `blueprint_spec::application_key` makes of the
/// spec's name, unchanged (lower-case letters, digits, single `-`) — that starts with a
/// letter (it names the packages `<key>-api`, `<key>-service` and the crate
/// `<key>_api`) and is not one of cargo's reserved binary names.
pub fn check_service_key(key: &str) -> anyhow::Result<()> {
    let spec_key = blueprint_spec::application_key(key);
    if key != spec_key {
        let hint = if spec_key.is_empty() {
            String::new()
        } else {
            format!(" (its spec key would be `{spec_key}`)")
        };
        bail!(
            "service key `{key}`: expected a spec key, lower-case letters, digits and single `-`{hint}"
        );
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("service key `{key}`: must start with a letter (it names Rust packages)");
    }
    if RESERVED_BINARIES.contains(&key) {
        bail!("service key `{key}`: cargo reserves it as a binary name; choose another");
    }
    Ok(())
}

/// An organization (`[spec] organization`, the specs' namespaces `io.<org>...`):
/// lower-case letters, digits and single `-`, starting with a letter.
fn check_organization(org: &str) -> anyhow::Result<()> {
    if org != blueprint_spec::application_key(org)
        || !org.starts_with(|c: char| c.is_ascii_lowercase())
    {
        bail!(
            "organization `{org}`: expected lower-case letters, digits and single `-`, starting with a letter (`dev init --org NAME`; the default is the folder's name)"
        );
    }
    Ok(())
}

/// The singular of a snake_case name's last word (`users` → `user`, `order_items`
/// → `order_item`, `categories` → `category`); a name that is not plural as is.
fn singular(name: &str) -> String {
    let split = name.rfind('_').map_or(0, |i| i + 1);
    let (head, word) = name.split_at(split);
    let word = if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "shes", "ches", "xes", "zes"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        word[..word.len() - 2].to_owned()
    } else if word.len() > 1
        && word.ends_with('s')
        && !["ss", "us", "is"].iter().any(|s| word.ends_with(s))
    {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    };
    format!("{head}{word}")
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A path as a TOML string.
fn toml_string(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_the_key() {
        let cases = [
            ("users", "user"),
            ("orders", "order"),
            ("order-items", "order_item"),
            ("categories", "category"),
            ("addresses", "address"),
            ("inventory", "inventory"),
            ("status", "status"),
        ];
        for (key, model) in cases {
            assert_eq!(Service::new(key, None, 1).expect(key).model, model, "{key}");
        }
        assert_eq!(
            Service::new("users", Some("member"), 1)
                .expect("model")
                .model,
            "member"
        );
        for bad in [
            "Users", "1st", "a_b", "a-", "a--b", "-a", "a b", "", "build", "deps",
        ] {
            assert!(Service::new(bad, None, 1).is_err(), "{bad}");
        }
        assert!(Service::new("users", Some("User"), 1).is_err());
    }

    #[test]
    fn ports_and_taken_keys_come_from_blueprint_toml() {
        let root = tempfile::tempdir().expect("tempdir");
        let parse = |text: &str| {
            blueprint_spec::config::Config::parse(&root.path().join("blueprint.toml"), text)
                .expect("config")
        };
        let empty = parse("[workspace]\n");
        assert_eq!(next_port(&empty).expect("port"), FIRST_PORT);
        let shop = Service::new("shop", None, 7105).expect("service");
        assert_eq!(taken(&empty, &shop).expect("taken"), None);

        let config = parse(&format!("[workspace]\n{}", shop.config()));
        assert_eq!(next_port(&config).expect("port"), 7106);
        assert_eq!(
            port_owner(&config, 7105).expect("owner").as_deref(),
            Some("shop")
        );
        assert_eq!(port_owner(&config, 7106).expect("owner"), None);
        assert_eq!(
            taken(&config, &shop).expect("taken").as_deref(),
            Some("[services.shop]")
        );
        let target = parse(
            "[[gen.target]]\nspec = \"specs/shop.json\"\nout = \"gen/shop\"\ncrate = \"shop-api\"\n",
        );
        assert!(taken(&target, &shop).expect("taken").is_some());
        std::fs::create_dir_all(root.path().join("services/shop")).expect("folder");
        assert_eq!(
            taken(&empty, &shop).expect("taken").as_deref(),
            Some("the folder services/shop")
        );
    }

    #[test]
    fn every_placeholder_is_filled() {
        let service = Service::new("order-items", None, 7102).expect("service");
        let root = Path::new("/ws/acme");
        let runtime = Runtime::Path("/src/blueprint/crates/runtime".into());
        let mut files = service.files();
        files.extend(workspace_files("acme", "acme", &runtime, root).expect("workspace"));
        files.push(("config".into(), service.config()));
        for (path, contents) in &files {
            assert!(
                !contents.contains("{{"),
                "{} keeps a placeholder:\n{contents}",
                path.display()
            );
        }
        let cargo = &files
            .iter()
            .find(|(p, _)| p == Path::new("Cargo.toml"))
            .expect("Cargo.toml")
            .1;
        assert!(
            cargo.contains("blueprint = { path = \"../../src/blueprint/crates/runtime\""),
            "{cargo}"
        );
        let api = &files[4].1;
        assert!(
            api.contains("impl OrderItemsService for OrderItems"),
            "{api}"
        );
        assert!(api.contains("order_items::list"), "{api}");
    }
}
