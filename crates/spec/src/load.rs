//! Loading: files, imports (offline, through the registry in `blueprint.toml`),
//! service identity (application key, namespace, version), then normalisation and
//! validation of every service reached.
//!
//! Identity rules (apibuilder's, made deterministic for offline use):
//! - application key: the name lower-cased, runs of other characters as `-`;
//! - version: from the import URI (`.../<org>/<app>/<version>/service.json`),
//!   else `[spec] version` in `blueprint.toml` for the root spec, else `0.0.1-dev`;
//! - namespace, when the spec has none:
//!   `<organization namespace>.<application key, '-' as '.'>.v<major version>`
//!   (`v0` for `latest`), where a leading application segment equal to the last
//!   segment of the organisation namespace is dropped. The organisation is the
//!   URI's for imports and `[spec] organization` for the root spec; its namespace
//!   comes from `[registry.organizations]`, and is `io.apibuilder` when there is no
//!   organisation.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::ir::{Import, Service, Spec};
use crate::normalize::{Builder, Identity, Scope};
use crate::raw::{self, Reader, Str};
use crate::source::SourceMap;

/// The organisation namespace used when a spec's organisation is unknown.
pub const DEFAULT_ORGANIZATION_NAMESPACE: &str = "io.apibuilder";
/// The version of a root spec when `blueprint.toml` does not give one.
pub const DEFAULT_VERSION: &str = "0.0.1-dev";

/// How to load: the workspace configuration (registry, `[spec]`).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub config: Config,
}

/// Why a spec did not load: located diagnostics and the sources they point into.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub diagnostics: Diagnostics,
    pub sources: SourceMap,
}

/// Code of the diagnostic reported when the root file cannot be read.
pub const IO_ERROR_CODE: &str = "spec/io";
/// Code of the diagnostic reported when `blueprint.toml` is unusable.
pub const CONFIG_ERROR_CODE: &str = "spec/config";

impl LoadError {
    fn single(d: Diagnostic) -> Self {
        LoadError {
            diagnostics: d.into(),
            sources: SourceMap::new(),
        }
    }

    /// Whether loading failed because the spec file itself could not be read (an
    /// I/O problem rather than an invalid spec).
    pub fn is_io(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.code == IO_ERROR_CODE && d.span.is_none())
    }

    /// Whether loading failed because `blueprint.toml` is unreadable or invalid
    /// (a usage problem rather than an invalid spec).
    pub fn is_config(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code == CONFIG_ERROR_CODE)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_io() || self.is_config() {
            let messages: Vec<&str> = self
                .diagnostics
                .iter()
                .map(|d| d.message.as_str())
                .collect();
            return f.write_str(&messages.join("\n"));
        }
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        write!(
            f,
            "the spec is invalid ({errors} error{})",
            if errors == 1 { "" } else { "s" }
        )?;
        for d in self.diagnostics.iter() {
            write!(f, "\n{}", d.to_short(&self.sources))?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// `[spec]` in `blueprint.toml`: identity of root specs.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecSection {
    organization: Option<String>,
    version: Option<String>,
}

/// Load a spec, finding `blueprint.toml` from its folder upward.
pub fn load(path: &Path) -> Result<Spec, LoadError> {
    let config = Config::discover(path)
        .map_err(|e| LoadError::single(Diagnostic::error(CONFIG_ERROR_CODE, e.to_string())))?;
    load_with(path, &LoadOptions { config })
}

/// Load a spec with an explicit configuration.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Spec, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError::single(Diagnostic::error(
            IO_ERROR_CODE,
            format!("cannot read {}: {e}", path.display()),
        ))
    })?;
    let canonical = std::fs::canonicalize(path).ok();
    Loader::new(&options.config).run(path.to_path_buf(), canonical, text)
}

/// Load a spec from text; `name` is the path shown in diagnostics, and relative
/// imports resolve against its folder.
pub fn load_str(name: &str, text: &str, options: &LoadOptions) -> Result<Spec, LoadError> {
    Loader::new(&options.config).run(PathBuf::from(name), None, text.to_string())
}

/// Lower-case, runs of anything but ASCII letters and digits as `-`.
pub fn application_key(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The major version of `version` (`0` for `latest` and anything unparsable).
pub fn major_version(version: &str) -> u64 {
    let digits: String = version
        .trim()
        .trim_start_matches(['v', 'V'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or(0)
}

/// The namespace of a spec that declares none (see the module docs).
pub fn default_namespace(org_namespace: &str, application: &str, version: &str) -> String {
    let mut segments: Vec<String> = Vec::new();
    for word in application.split('-').filter(|s| !s.is_empty()) {
        // As apibuilder: a segment must start with a letter, so `oauth-2` is `oauth2`.
        match segments.last_mut() {
            Some(last) if !word.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                last.push_str(word);
            }
            _ => segments.push(word.to_string()),
        }
    }
    let org_last = org_namespace.rsplit('.').next();
    if segments.len() > 1 && segments.first().map(String::as_str) == org_last {
        segments.remove(0);
    }
    let mut parts = vec![org_namespace.to_string()];
    if !segments.is_empty() {
        parts.push(segments.join("."));
    }
    parts.push(format!("v{}", major_version(version)));
    parts.join(".")
}

/// Where a spec was reached from, which decides its identity.
#[derive(Debug, Clone, Default)]
struct Origin {
    organization: Option<String>,
    application: Option<String>,
    version: Option<String>,
    /// The import URI, when imported.
    uri: Option<Str>,
}

struct Loader<'c> {
    config: &'c Config,
    sources: SourceMap,
    diags: Vec<Diagnostic>,
    /// Imported services, in the order they finished loading.
    done: Vec<Service>,
    /// (file, organisation, version) -> namespace of the service loaded from it.
    cache: HashMap<(PathBuf, Option<String>, Option<String>), String>,
    /// Files being loaded, outermost first, for cycle detection.
    stack: Vec<PathBuf>,
    /// Application keys of the `*.json` files in registry paths, scanned once.
    registry_index: Option<Vec<(PathBuf, String)>>,
}

impl<'c> Loader<'c> {
    fn new(config: &'c Config) -> Self {
        Loader {
            config,
            sources: SourceMap::new(),
            diags: Vec::new(),
            done: Vec::new(),
            cache: HashMap::new(),
            stack: Vec::new(),
            registry_index: None,
        }
    }

    fn run(
        mut self,
        path: PathBuf,
        canonical: Option<PathBuf>,
        text: String,
    ) -> Result<Spec, LoadError> {
        let section: SpecSection = match self.config.section("spec") {
            Ok(s) => s,
            Err(e) => {
                return Err(LoadError::single(Diagnostic::error(
                    "spec/config",
                    e.to_string(),
                )));
            }
        };
        let origin = Origin {
            organization: section.organization,
            version: section.version,
            ..Origin::default()
        };
        self.stack.extend(canonical);
        let service = self.load_text(path, text, origin);
        let mut diagnostics = Diagnostics::default();
        let mut warnings = Diagnostics::default();
        for d in self.diags {
            if d.severity == Severity::Error {
                diagnostics.push(d);
            } else {
                warnings.push(d);
            }
        }
        warnings.sort();
        match service {
            Some(service) if !diagnostics.has_errors() => Ok(Spec {
                service,
                imports: self.done,
                sources: self.sources,
                warnings: warnings.0,
            }),
            _ => {
                diagnostics.extend(warnings);
                diagnostics.sort();
                if diagnostics.is_empty() {
                    // Every path that fails reports why; this guards the invariant.
                    diagnostics.push(Diagnostic::error(
                        "spec/invalid",
                        "the spec could not be loaded",
                    ));
                }
                Err(LoadError {
                    diagnostics,
                    sources: self.sources,
                })
            }
        }
    }

    fn load_text(&mut self, path: PathBuf, text: String, origin: Origin) -> Option<Service> {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let file = self.sources.add(path, text);
        let text = self
            .sources
            .get(file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        let root = match crate::json::parse(file, &text) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        // The root spec is always the input form; imports may be resolved service.json.
        let form = if origin.uri.is_some() {
            raw::detect_form(&root)
        } else {
            raw::Form::Input
        };
        raw::duplicate_keys(&root, &mut self.diags);
        let mut raw = Reader::new(&mut self.diags, form).service(&root)?;
        crate::templates::apply(&mut raw, &mut self.diags);

        let name = raw
            .name
            .as_ref()
            .map(|n| n.value.trim().to_string())
            .or_else(|| raw.application.clone())
            .unwrap_or_default();
        let application = origin
            .application
            .clone()
            .or_else(|| raw.application.clone())
            .unwrap_or_else(|| application_key(&name));
        let organization = origin
            .organization
            .clone()
            .or_else(|| raw.organization.clone());
        // A resolved service.json knows its version; `latest` in a URI does not.
        let version = match (&origin.version, &raw.version) {
            (Some(v), Some(own)) if v == "latest" => own.clone(),
            (Some(v), _) => v.clone(),
            (None, Some(own)) => own.clone(),
            (None, None) => DEFAULT_VERSION.to_string(),
        };
        let namespace = match &raw.namespace {
            Some(ns) => ns.value.trim().to_string(),
            None => {
                let org_ns = match &organization {
                    None => DEFAULT_ORGANIZATION_NAMESPACE.to_string(),
                    Some(org) => match self.config.registry.organizations.get(org) {
                        Some(ns) => ns.clone(),
                        None => {
                            let d = Diagnostic::error(
                                "spec/unknown-organization",
                                format!("organization `{org}` has no namespace configured, and the spec declares no `namespace`"),
                            )
                            .hint(format!("add `{org} = \"<namespace>\"` under [registry.organizations] in blueprint.toml"));
                            self.diags.push(match &origin.uri {
                                Some(uri) => d.at(uri.span),
                                None => d.at(raw.span),
                            });
                            DEFAULT_ORGANIZATION_NAMESPACE.to_string()
                        }
                    },
                };
                default_namespace(&org_ns, &application, &version)
            }
        };

        // Imports first: names in this service resolve against them.
        let mut imported: Vec<String> = Vec::new();
        let mut import_records = Vec::new();
        for uri in &raw.imports {
            let Some((ns, conflict)) = self.import(uri, &base_dir) else {
                continue;
            };
            if ns == namespace {
                self.diags.push(
                    Diagnostic::error(
                        "spec/import-self",
                        format!(
                            "import `{}` has this service's own namespace `{ns}`",
                            uri.value
                        ),
                    )
                    .at(uri.span)
                    .hint("a service cannot import itself"),
                );
                continue;
            }
            if imported.contains(&ns) {
                self.diags.push(
                    Diagnostic::error(
                        "spec/duplicate-import",
                        format!("namespace `{ns}` is imported twice"),
                    )
                    .at(uri.span)
                    .hint("import each service once"),
                );
                continue;
            }
            self.diags.extend(conflict);
            if let Some(s) = self.done.iter().find(|s| s.namespace == ns) {
                import_records.push(import_record(uri, s));
            }
            imported.push(ns);
        }

        let refs: Vec<&Service> = imported
            .iter()
            .filter_map(|ns| self.done.iter().find(|s| &s.namespace == ns))
            .collect();
        let identity = Identity {
            name,
            organization,
            application,
            namespace: namespace.clone(),
            version,
        };
        let mut builder = Builder {
            scope: Scope::new(&namespace, &raw, &refs),
            diags: &mut self.diags,
        };
        let service = builder.build(&raw, identity, import_records);
        crate::validate::service(&service, &raw, &builder.scope, builder.diags);
        Some(service)
    }

    /// Load one import: the namespace of the service it brings in, and a warning
    /// when another file already brought in that namespace.
    fn import(&mut self, uri: &Str, base_dir: &Path) -> Option<(String, Option<Diagnostic>)> {
        let (path, origin) = match self.resolve(uri, base_dir) {
            Ok(found) => found,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(pos) = self.stack.iter().position(|p| *p == canonical) {
            let cycle: Vec<String> = self.stack[pos..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| {
                    p.file_name().map_or_else(
                        || p.display().to_string(),
                        |f| f.to_string_lossy().into_owned(),
                    )
                })
                .collect();
            self.diags.push(
                Diagnostic::error(
                    "spec/import-cycle",
                    format!("import cycle: {}", cycle.join(" -> ")),
                )
                .at(uri.span)
                .hint("services cannot import each other in a cycle; move the shared types into a service both import"),
            );
            return None;
        }
        let key = (
            canonical.clone(),
            origin.organization.clone(),
            origin.version.clone(),
        );
        if let Some(ns) = self.cache.get(&key) {
            return Some((ns.clone(), None));
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(
                        "spec/unresolved-import",
                        format!(
                            "cannot read import `{}` ({}): {e}",
                            uri.value,
                            path.display()
                        ),
                    )
                    .at(uri.span),
                );
                return None;
            }
        };
        self.stack.push(canonical.clone());
        let service = self.load_text(path, text, origin);
        self.stack.pop();
        let service = service?;
        let ns = service.namespace.clone();
        self.cache.insert(key, ns.clone());
        let mut conflict = None;
        match self.done.iter().find(|s| s.namespace == ns) {
            None => self.done.push(service),
            // Two files (or two versions of one) claim the namespace: the IR holds
            // one service per namespace, so the first wins, and we say so.
            Some(first) if first.span.file != service.span.file => {
                let first_path = self.sources.path(first.span.file).display().to_string();
                conflict = Some(
                    Diagnostic::warning(
                        "spec/namespace-conflict",
                        format!(
                            "import `{}` is namespace `{ns}`, already loaded from {first_path}; the first one is used",
                            uri.value
                        ),
                    )
                    .at(uri.span)
                    .hint("import one version of each service across the whole import graph"),
                );
            }
            Some(_) => {}
        }
        Some((ns, conflict))
    }

    /// The file an import URI names, and the identity it gives that file.
    fn resolve(&mut self, uri: &Str, base_dir: &Path) -> Result<(PathBuf, Origin), Diagnostic> {
        let text = uri.value.trim();
        let unresolved =
            |message: String| Diagnostic::error("spec/unresolved-import", message).at(uri.span);
        let origin = |organization, application, version| Origin {
            organization,
            application,
            version,
            uri: Some(uri.clone()),
        };
        if let Some(rest) = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"))
        {
            // `<host>/<org>/<app>/<version>/service.json`
            let segments: Vec<&str> = rest.split('/').skip(1).filter(|s| !s.is_empty()).collect();
            let [.., org, app, version, last] = segments.as_slice() else {
                return Err(unresolved(format!("`{text}` is not an apibuilder import URI"))
                    .hint("apibuilder URIs look like https://app.apibuilder.io/<organization>/<application>/<version>/service.json"));
            };
            if !last.ends_with(".json") {
                return Err(unresolved(format!("`{text}` is not an apibuilder import URI"))
                    .hint("apibuilder URIs end in /<organization>/<application>/<version>/service.json"));
            }
            let app_key = application_key(app);
            let found = self.find_in_registry(&app_key);
            return match found {
                Some(path) => Ok((
                    path,
                    origin(
                        Some(org.to_string()),
                        Some(app_key),
                        Some(version.to_string()),
                    ),
                )),
                None => {
                    let searched: Vec<String> = self
                        .config
                        .registry
                        .paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    Err(unresolved(format!(
                        "cannot resolve import `{text}`: no spec for application `{app_key}` in the registry"
                    ))
                    .hint(if searched.is_empty() {
                        "imports resolve offline: add `[registry] paths = [\"<folder of specs>\"]` to blueprint.toml".to_string()
                    } else {
                        format!(
                            "searched {} for `{app_key}.json` or a spec named `{app_key}`",
                            searched.join(", ")
                        )
                    }))
                }
            };
        }
        let local = if let Some(p) = text.strip_prefix("file://") {
            p
        } else if let Some(p) = text.strip_prefix("file:") {
            p
        } else if text.contains("://") {
            return Err(unresolved(format!("unsupported import URI `{text}`")).hint(
                "use an apibuilder URI (https://app.apibuilder.io/...), `file:` or a relative path",
            ));
        } else {
            text
        };
        if local.is_empty() {
            return Err(unresolved("the import URI is empty".into()));
        }
        let path = base_dir.join(local);
        if !path.is_file() {
            return Err(unresolved(format!(
                "cannot resolve import `{text}`: {} does not exist",
                path.display()
            ))
            .hint("relative and `file:` imports resolve against the importing file's folder"));
        }
        Ok((path, origin(None, None, None)))
    }

    /// `<key>.json` in a registry path, else a spec there whose name has that key.
    fn find_in_registry(&mut self, app_key: &str) -> Option<PathBuf> {
        for dir in &self.config.registry.paths {
            let candidate = dir.join(format!("{app_key}.json"));
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        let index = self
            .registry_index
            .get_or_insert_with(|| scan_registry(&self.config.registry.paths));
        index
            .iter()
            .find(|(_, key)| key == app_key)
            .map(|(p, _)| p.clone())
    }
}

/// Application keys of every readable `*.json` with a string `name` in `dirs`
/// (in path order, files sorted by name).
fn scan_registry(dirs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if let Some(name) = value.get("name").and_then(|n| n.as_str()) {
                out.push((path, application_key(name)));
            }
        }
    }
    out
}

fn import_record(uri: &Str, s: &Service) -> Import {
    let names = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>();
    Import {
        uri: uri.value.trim().to_string(),
        namespace: s.namespace.clone(),
        organization: s.organization.clone(),
        application: s.application.clone(),
        version: s.version.clone(),
        enums: names(s.enums.iter().map(|e| &e.name).collect()),
        interfaces: names(s.interfaces.iter().map(|i| &i.name).collect()),
        unions: names(s.unions.iter().map(|u| &u.name).collect()),
        models: names(s.models.iter().map(|m| &m.name).collect()),
        annotations: names(s.annotations.iter().map(|a| &a.name).collect()),
        span: uri.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_file_is_an_io_error() {
        let err = load(Path::new("/definitely/not/here.json")).expect_err("missing file");
        assert!(err.is_io());
        assert!(err.to_string().starts_with("cannot read"), "{err}");
    }

    #[test]
    fn bad_spec_section_is_a_config_error() {
        let config = Config::parse(Path::new("blueprint.toml"), "[spec]\norg = \"acme\"\n")
            .expect("valid toml");
        let err = load_str("a.json", r#"{"name": "a"}"#, &LoadOptions { config })
            .expect_err("unknown key in [spec]");
        assert_eq!(err.diagnostics.0[0].code, "spec/config");
        assert!(err.is_config() && !err.is_io());
    }

    #[test]
    fn spec_section_sets_the_root_identity() {
        let config = Config::parse(
            Path::new("blueprint.toml"),
            "[spec]\norganization = \"acme\"\nversion = \"2.1.0\"\n[registry.organizations]\nacme = \"io.acme\"\n",
        )
        .expect("valid toml");
        let spec = load_str(
            "a.json",
            r#"{"name": "acme-users"}"#,
            &LoadOptions { config },
        )
        .expect("valid spec");
        assert_eq!(spec.service.namespace, "io.acme.users.v2");
        assert_eq!(spec.service.organization.as_deref(), Some("acme"));
        assert_eq!(spec.service.version, "2.1.0");
    }

    #[test]
    fn identity_rules() {
        assert_eq!(application_key("Reference Api"), "reference-api");
        assert_eq!(application_key("apibuilder common"), "apibuilder-common");
        assert_eq!(major_version("1.2.3"), 1);
        assert_eq!(major_version("latest"), 0);
        assert_eq!(
            default_namespace("io.apibuilder", "apibuilder-spec", "latest"),
            "io.apibuilder.spec.v0"
        );
        assert_eq!(
            default_namespace("io.flow", "delta-config", "0.1.68"),
            "io.flow.delta.config.v0"
        );
        assert_eq!(
            default_namespace("io.apibuilder", "apibuilder", "2.0.0"),
            "io.apibuilder.apibuilder.v2"
        );
        assert_eq!(
            default_namespace("io.acme", "oauth-2-server", "1.0.0"),
            "io.acme.oauth2.server.v1"
        );
    }
}
