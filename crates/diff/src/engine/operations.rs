//! Resources and operations: routes, bodies, parameters, responses and auth.

use std::collections::BTreeSet;

use blueprint_spec::ir::{AuthRule, Header, Operation, Resource, Service};

use super::members::{Member, MemberKind};
use super::{Differ, Loc, Owner};
use crate::ChangeKind::{Breaking, NonBreaking};
use crate::category::{Category, Scope};
use crate::usage::Usage;

impl Differ<'_> {
    pub(super) fn resources(&mut self, old: &Service, new: &Service) {
        for o in &old.resources {
            let name = self.old_type(&o.type_);
            let owner = Owner::new(
                format!("resources.{name}"),
                format!("resource `{name}`"),
                Usage::default(),
            );
            let Some(n) = new
                .resources
                .iter()
                .find(|n| self.same_type(&o.type_, &n.type_))
            else {
                let ops: Vec<String> = o
                    .operations
                    .iter()
                    .map(|op| format!("{} {}", op.method, op.path))
                    .collect();
                let message = format!(
                    "resource `{name}` removed with its operations: {}",
                    ops.join(", ")
                );
                let loc = Loc::old(o.span);
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::ResourceRemoved,
                    owner.path,
                    message,
                    loc,
                );
                continue;
            };
            self.resource(&owner, o, n);
        }
        for n in &new.resources {
            if !old
                .resources
                .iter()
                .any(|o| self.same_type(&o.type_, &n.type_))
            {
                let name = self.new_type(&n.type_);
                let message = format!("resource `{name}` added");
                self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ResourceAdded,
                    format!("resources.{name}"),
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    pub(super) fn resource(&mut self, owner: &Owner, old: &Resource, new: &Resource) {
        let loc = Loc::both(old.span, new.span);
        self.plural(owner, &old.plural, &new.plural, loc);
        self.metadata(owner, old, new, loc);
        for o in &old.operations {
            let path = format!("{}.operations.{} {}", owner.path, o.method, o.path);
            match new
                .operations
                .iter()
                .find(|n| n.method == o.method && same_route(&o.path, &n.path))
            {
                Some(n) => self.operation(&path, o, n),
                None => {
                    let message = format!("operation `{} {}` removed", o.method, o.path);
                    let oloc = Loc::removed(o.span, Some(new.span));
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::OperationRemoved,
                        path,
                        message,
                        oloc,
                    );
                }
            }
        }
        for n in &new.operations {
            if !old
                .operations
                .iter()
                .any(|o| o.method == n.method && same_route(&o.path, &n.path))
            {
                let path = format!("{}.operations.{} {}", owner.path, n.method, n.path);
                let message = format!("operation `{} {}` added", n.method, n.path);
                self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::OperationAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    pub(super) fn operation(&mut self, path: &str, old: &Operation, new: &Operation) {
        let loc = Loc::both(old.span, new.span);
        let label = format!("operation `{} {}`", old.method, old.path);
        let owner = Owner::new(
            path.to_string(),
            label.clone(),
            Usage {
                request: true,
                ..Usage::default()
            },
        );
        self.metadata(&owner, old, new, loc);
        self.auth(&owner, old.auth.as_ref(), new.auth.as_ref(), loc);

        let body_path = format!("{path}.body");
        match (&old.body, &new.body) {
            (None, Some(b)) => {
                let message = format!("{label} now takes a `{}` body", self.new_type(&b.type_));
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::BodyAdded,
                    body_path,
                    message,
                    Loc::both(old.span, b.span),
                );
            }
            (Some(a), None) => {
                let message = format!(
                    "{label} no longer takes a `{}` body",
                    self.old_type(&a.type_)
                );
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::BodyRemoved,
                    body_path,
                    message,
                    Loc::both(a.span, new.span),
                );
            }
            (Some(a), Some(b)) => {
                if !self.same_type(&a.type_, &b.type_) {
                    let message = format!(
                        "{label} body type changed from `{}` to `{}`",
                        self.old_type(&a.type_),
                        self.new_type(&b.type_)
                    );
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::BodyTypeChanged,
                        &body_path,
                        message,
                        Loc::both(a.span, b.span),
                    );
                }
                let body = owner.child(body_path, format!("{label} body"));
                self.metadata(&body, a, b, Loc::both(a.span, b.span));
            }
            (None, None) => {}
        }

        // Path parameters bind by position: `/users/:id` -> `/users/:user_id` is a rename.
        let renames: Vec<(&str, &str)> = old
            .path_params()
            .zip(new.path_params())
            .filter(|(a, b)| a != b)
            .collect();
        for (from, to) in &renames {
            let message = format!("path parameter `{from}` of {label} renamed to `{to}`");
            self.push(
                NonBreaking,
                Scope::Api,
                Category::PathParameterRenamed,
                format!("{path}.parameters.{from}"),
                message,
                loc,
            );
        }
        let old_p: Vec<Member> = old.parameters.iter().map(Member::parameter).collect();
        let new_p: Vec<Member> = new
            .parameters
            .iter()
            .map(|p| {
                let mut m = Member::parameter(p);
                if let Some((from, _)) = renames.iter().find(|(_, to)| *to == p.name) {
                    m.name = from;
                }
                m
            })
            .collect();
        self.members(MemberKind::Parameter, &owner, &old_p, &new_p, loc);

        for o in &old.responses {
            let rpath = format!("{path}.responses.{}", o.code);
            match new.responses.iter().find(|n| n.code == o.code) {
                None => {
                    let message = format!("{label} no longer declares response {}", o.code);
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::ResponseRemoved,
                        rpath,
                        message,
                        Loc::removed(o.span, Some(new.span)),
                    );
                }
                Some(n) => {
                    let rloc = Loc::both(o.span, n.span);
                    if !self.same_type(&o.type_, &n.type_) {
                        let message = format!(
                            "{label} response {} type changed from `{}` to `{}`",
                            o.code,
                            self.old_type(&o.type_),
                            self.new_type(&n.type_)
                        );
                        self.push(
                            Breaking,
                            Scope::Api,
                            Category::ResponseTypeChanged,
                            format!("{rpath}.type"),
                            message,
                            rloc,
                        );
                    }
                    let rowner = Owner::new(
                        rpath,
                        format!("{label} response {}", o.code),
                        Usage {
                            response: true,
                            ..Usage::default()
                        },
                    );
                    self.metadata(&rowner, o, n, rloc);
                    self.response_headers(&rowner, &o.headers, &n.headers);
                }
            }
        }
        for n in new
            .responses
            .iter()
            .filter(|n| !old.responses.iter().any(|o| o.code == n.code))
        {
            let message = format!(
                "{label} now declares response {} (`{}`)",
                n.code,
                self.new_type(&n.type_)
            );
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ResponseAdded,
                format!("{path}.responses.{}", n.code),
                message,
                Loc::new(n.span),
            );
        }
    }

    /// Headers the server sends: clients may rely on them, so (unlike request
    /// headers) removing one or changing its type breaks them.
    fn response_headers(&mut self, owner: &Owner, old: &[Header], new: &[Header]) {
        for o in old {
            let path = format!("{}.headers.{}", owner.path, o.name);
            match new.iter().find(|n| n.name.eq_ignore_ascii_case(&o.name)) {
                None => {
                    let message = format!("{} no longer sends header `{}`", owner.label, o.name);
                    let cat = Category::ResponseHeaderRemoved;
                    self.push(Breaking, Scope::Api, cat, path, message, Loc::old(o.span));
                }
                Some(n) => {
                    let (a, b) = (self.old_type(&o.type_), self.new_type(&n.type_));
                    if a != b {
                        let message = format!(
                            "{} header `{}` changed type from `{a}` to `{b}`",
                            owner.label, o.name
                        );
                        let cat = Category::ResponseHeaderTypeChanged;
                        let loc = Loc::both(o.span, n.span);
                        self.push(Breaking, Scope::Api, cat, path, message, loc);
                    }
                }
            }
        }
        for n in new
            .iter()
            .filter(|n| !old.iter().any(|o| o.name.eq_ignore_ascii_case(&n.name)))
        {
            let path = format!("{}.headers.{}", owner.path, n.name);
            let message = format!("{} now sends header `{}`", owner.label, n.name);
            let cat = Category::ResponseHeaderAdded;
            self.push(
                NonBreaking,
                Scope::Api,
                cat,
                path,
                message,
                Loc::new(n.span),
            );
        }
    }

    pub(super) fn auth(
        &mut self,
        owner: &Owner,
        old: Option<&AuthRule>,
        new: Option<&AuthRule>,
        loc: Loc,
    ) {
        let open = AuthRule {
            required: false,
            roles: Vec::new(),
            claims: Vec::new(),
            scope: Vec::new(),
            span: Default::default(),
        };
        let (a, b) = (old.unwrap_or(&open), new.unwrap_or(&open));
        if a.same_as(b) {
            return;
        }
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let (roles_a, roles_b) = (set(&a.roles), set(&b.roles));
        let mut tighter = Vec::new();
        if b.required && !a.required {
            tighter.push("now requires authentication".to_string());
        }
        if b.required && !roles_b.is_empty() {
            // Roles are alternatives and none means any authenticated caller.
            if !a.required || roles_a.is_empty() {
                tighter.push(format!(
                    "now needs one of the roles {}",
                    join_ticks(roles_b.iter())
                ));
            } else {
                let lost: Vec<&String> = roles_a.difference(&roles_b).collect();
                if !lost.is_empty() {
                    tighter.push(format!(
                        "no longer accepts the roles {}",
                        join_ticks(lost.into_iter())
                    ));
                }
            }
        }
        if b.required {
            let had = if a.required {
                set(&a.claims)
            } else {
                BTreeSet::new()
            };
            let claims_b = set(&b.claims);
            let needed: Vec<&String> = claims_b.difference(&had).collect();
            if !needed.is_empty() {
                tighter.push(format!(
                    "now needs the claims {}",
                    join_ticks(needed.into_iter())
                ));
            }
        }
        // A scope narrows which rows a caller sees and sets body fields from the
        // token: a new or changed scope entry tightens, a dropped one relaxes.
        let mut looser = Vec::new();
        for entry in &b.scope {
            match a.scope.iter().find(|e| e.field == entry.field) {
                Some(e) if e.claim == entry.claim => {}
                Some(e) => tighter.push(format!(
                    "now scopes `{}` by claim `{}` instead of `{}`",
                    entry.field, entry.claim, e.claim
                )),
                None => tighter.push(format!(
                    "now scopes rows and bodies by `{}` = claim `{}`",
                    entry.field, entry.claim
                )),
            }
        }
        for entry in a
            .scope
            .iter()
            .filter(|e| !b.scope.iter().any(|x| x.field == e.field))
        {
            looser.push(format!("no longer scopes by `{}`", entry.field));
        }
        let path = format!("{}.auth", owner.path);
        if tighter.is_empty() {
            let message = if looser.is_empty() {
                format!("{} needs less authentication than before", owner.label)
            } else {
                format!("{} {}", owner.label, looser.join(", "))
            };
            self.push(
                NonBreaking,
                Scope::Api,
                Category::AuthRelaxed,
                path,
                message,
                loc,
            );
        } else {
            let message = format!("{} {}", owner.label, tighter.join(", "));
            self.push(
                Breaking,
                Scope::Api,
                Category::AuthTightened,
                path,
                message,
                loc,
            );
        }
    }
}

/// Two paths are the same route when they differ only in path parameter names.
fn same_route(a: &str, b: &str) -> bool {
    let norm = |p: &str| -> Vec<String> {
        p.split('/')
            .map(|s| {
                if s.starts_with(':') {
                    ":".to_string()
                } else {
                    s.to_string()
                }
            })
            .collect()
    };
    norm(a) == norm(b)
}

fn join_ticks<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
