//! What changed in each service since a revision, and the deploy plan from it.
//!
//! A service has changed when its contract (spec, compared by `blueprint-diff`),
//! a file of its code folder, or a package its crates depend on (a registry
//! version in `Cargo.lock`, or a workspace crate whose files changed) changed. The
//! plan deploys the changed services plus the direct dependents of a changed
//! contract, in phases: a service comes after everything it depends on (the
//! producers of the streams it consumes, the services it calls), services of one
//! cycle share a phase, and within a service the database migration runs before
//! the new code. A breaking contract change that `[diff]` does not allow refuses
//! the plan, as `dev diff` would.

use std::collections::{BTreeMap, BTreeSet};

use blueprint_diff::{Category, Report};
use serde::Serialize;

use crate::config::{DeployConfig, Environment};
use crate::graph::Graph;

/// How a service's contract changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Contract {
    Unchanged,
    /// Descriptions or examples only.
    Documentation,
    /// Compatible changes: added or relaxed (new operations, optional fields...).
    Additive,
    /// Breaking, and allowed by `[diff] allow` or a major-version namespace.
    Breaking,
    /// Breaking and not allowed: refused.
    Blocked,
    /// Not in the revision: a new service.
    New,
}

impl Contract {
    /// Classify a diff report, as `dev diff` judges it.
    pub fn of(report: &Report) -> Contract {
        if report.is_blocked() {
            Contract::Blocked
        } else if report.breaking().next().is_some() {
            Contract::Breaking
        } else if report
            .changes
            .iter()
            .any(|c| c.category != Category::DescriptionChanged)
        {
            Contract::Additive
        } else if report.changes.is_empty() {
            Contract::Unchanged
        } else {
            Contract::Documentation
        }
    }

    /// Whether the services that depend on this one are affected.
    pub fn reaches_dependents(self) -> bool {
        matches!(
            self,
            Contract::Additive | Contract::Breaking | Contract::Blocked | Contract::New
        )
    }
}

/// What changed in one service since a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub service: String,
    pub contract: Contract,
    /// The blocking changes, `[id] path: message`, when `contract` is `Blocked`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocking: Vec<String>,
    /// Changed files of its code folder, relative to the workspace root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Packages it depends on that changed (`name` for workspace crates,
    /// `name old -> new` for registry versions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
}

impl Change {
    pub fn unchanged(service: &str) -> Change {
        Change {
            service: service.to_string(),
            contract: Contract::Unchanged,
            blocking: Vec::new(),
            files: Vec::new(),
            packages: Vec::new(),
        }
    }

    /// The contract change of a diff report, with its blocking changes listed.
    pub fn with_report(mut self, report: &Report) -> Change {
        self.contract = Contract::of(report);
        self.blocking = report
            .blocking()
            .map(|c| format!("[{}] {}: {}", c.id(), c.path, c.message))
            .collect();
        self
    }

    pub fn is_changed(&self) -> bool {
        self.contract != Contract::Unchanged || !self.files.is_empty() || !self.packages.is_empty()
    }
}

/// Why a service is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// No revision given: every service is deployed.
    All,
    /// Not in the revision.
    New,
    /// Its spec changed.
    Spec {
        contract: Contract,
    },
    Code {
        files: Vec<String>,
    },
    Dependencies {
        packages: Vec<String>,
    },
    /// It depends on a service whose contract changed.
    DependsOn {
        service: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedService {
    pub name: String,
    /// 1-based.
    pub phase: usize,
    pub reasons: Vec<Reason>,
    /// Whether it owns a database: its migrations run before its new code.
    pub migrate: bool,
}

/// A refused service: its blocking changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocked {
    pub service: String,
    pub changes: Vec<String>,
}

/// The plan as `dev plan --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The revision compared with; `null` when every service is planned.
    pub since: Option<String>,
    /// Services that changed themselves, sorted.
    pub changed: Vec<String>,
    /// Services planned because they depend on a changed contract, sorted.
    pub dependents: Vec<String>,
    /// Deploy order: each phase after the previous one, names sorted.
    pub phases: Vec<Vec<String>>,
    /// The planned services, in phase order.
    pub services: Vec<PlannedService>,
    /// Environments in promotion order; each runs every phase, after its approval.
    pub environments: Vec<Environment>,
    /// Breaking changes nothing allows: the plan is refused.
    pub blocked: Vec<Blocked>,
    /// Other reasons the plan cannot run (cycles of calls).
    pub errors: Vec<String>,
    /// Whether the plan can run.
    pub ok: bool,
}

/// Which services to plan.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every service (no revision given).
    All,
    /// What changed since `rev`: one [`Change`] per service (missing ones are unchanged).
    Since { rev: &'a str, changes: &'a [Change] },
}

pub fn plan(graph: &Graph, scope: Scope<'_>, deploy: &DeployConfig) -> Plan {
    let mut reasons: BTreeMap<String, Vec<Reason>> = Default::default();
    let mut blocked = Vec::new();
    let since = match scope {
        Scope::All => {
            for s in &graph.services {
                reasons.insert(s.name.clone(), vec![Reason::All]);
            }
            None
        }
        Scope::Since { rev, changes } => {
            for c in changes.iter().filter(|c| c.is_changed()) {
                let r = reasons.entry(c.service.clone()).or_default();
                match c.contract {
                    Contract::New => r.push(Reason::New),
                    Contract::Unchanged => {}
                    contract => r.push(Reason::Spec { contract }),
                }
                if !c.files.is_empty() {
                    r.push(Reason::Code {
                        files: c.files.clone(),
                    });
                }
                if !c.packages.is_empty() {
                    r.push(Reason::Dependencies {
                        packages: c.packages.clone(),
                    });
                }
                if c.contract == Contract::Blocked {
                    blocked.push(Blocked {
                        service: c.service.clone(),
                        changes: c.blocking.clone(),
                    });
                }
            }
            Some(rev.to_string())
        }
    };
    let changed: BTreeSet<String> = reasons.keys().cloned().collect();
    let mut dependents = BTreeSet::new();
    if let Scope::Since { changes, .. } = scope {
        for c in changes.iter().filter(|c| c.contract.reaches_dependents()) {
            for d in graph.dependents(&c.service) {
                if !changed.contains(d) {
                    dependents.insert(d.to_string());
                }
                if d != c.service {
                    reasons
                        .entry(d.to_string())
                        .or_default()
                        .push(Reason::DependsOn {
                            service: c.service.clone(),
                        });
                }
            }
        }
    }
    let layers = graph.layers();
    let mut by_layer: BTreeMap<usize, Vec<String>> = Default::default();
    for name in reasons.keys() {
        by_layer
            .entry(layers.get(name).copied().unwrap_or(0))
            .or_default()
            .push(name.clone());
    }
    let phases: Vec<Vec<String>> = by_layer.into_values().collect();
    let mut services = Vec::new();
    for (i, phase) in phases.iter().enumerate() {
        for name in phase {
            services.push(PlannedService {
                name: name.clone(),
                phase: i + 1,
                reasons: reasons.remove(name).unwrap_or_default(),
                migrate: graph.service(name).is_some_and(|s| s.database),
            });
        }
    }
    let errors: Vec<String> = graph
        .sync_cycles
        .iter()
        .map(|c| {
            format!(
                "{} call each other in a cycle: none can be deployed first",
                c.join(", ")
            )
        })
        .collect();
    let ok = blocked.is_empty() && errors.is_empty();
    Plan {
        since,
        changed: changed.into_iter().collect(),
        dependents: dependents.into_iter().collect(),
        phases,
        services,
        environments: deploy.environments.clone(),
        blocked,
        errors,
        ok,
    }
}

/// Human-readable plan.
pub fn text(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    match &plan.since {
        Some(rev) => {
            let _ = writeln!(
                s,
                "since {rev}: {} changed, {} dependent",
                plan.changed.len(),
                plan.dependents.len()
            );
        }
        None => {
            let _ = writeln!(s, "every service (no --since)");
        }
    }
    if plan.services.is_empty() {
        let _ = writeln!(s, "nothing to deploy");
    }
    for (i, phase) in plan.phases.iter().enumerate() {
        let _ = writeln!(s, "\nphase {}:", i + 1);
        for p in plan.services.iter().filter(|p| phase.contains(&p.name)) {
            let why: Vec<String> = p.reasons.iter().map(reason_text).collect();
            let steps = if p.migrate {
                "migrate database, then deploy"
            } else {
                "deploy"
            };
            let _ = writeln!(s, "  {}: {steps} ({})", p.name, why.join("; "));
        }
    }
    if !plan.environments.is_empty() {
        let envs: Vec<String> = plan
            .environments
            .iter()
            .map(|e| {
                if e.approval {
                    format!("[approval] {}", e.name)
                } else {
                    e.name.clone()
                }
            })
            .collect();
        let _ = writeln!(s, "\nenvironments: {}", envs.join(" -> "));
    }
    for b in &plan.blocked {
        let _ = writeln!(
            s,
            "\nerror: {} has breaking changes nothing allows:",
            b.service
        );
        for c in &b.changes {
            let _ = writeln!(s, "  {c}");
        }
    }
    for e in &plan.errors {
        let _ = writeln!(s, "\nerror: {e}");
    }
    s
}

fn reason_text(r: &Reason) -> String {
    match r {
        Reason::All => "all services".into(),
        Reason::New => "new service".into(),
        Reason::Spec { contract } => format!("spec: {}", contract_text(*contract)),
        Reason::Code { files } => format!("{} file(s) changed", files.len()),
        Reason::Dependencies { packages } => format!("dependencies: {}", packages.join(", ")),
        Reason::DependsOn { service } => format!("depends on the contract of {service}"),
    }
}

fn contract_text(c: Contract) -> &'static str {
    match c {
        Contract::Unchanged => "unchanged",
        Contract::Documentation => "documentation",
        Contract::Additive => "compatible change",
        Contract::Breaking => "breaking change, allowed",
        Contract::Blocked => "breaking change, refused",
        Contract::New => "new",
    }
}
