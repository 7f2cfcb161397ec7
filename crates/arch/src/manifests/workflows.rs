//! GitHub Actions workflows: `.github/workflows/{pr,main,deploy,deps}.yml`.
//!
//! Continuous delivery: a pull request is checked (`pr.yml`); a push to the
//! release branch runs the tests and `dev release`, which tags each changed
//! service `<key>-v<version>` (`main.yml`); a release tag deploys the services
//! tagged at that commit, phase after phase as `dev plan` orders them, through each
//! environment in turn (`deploy.yml`). Tags pushed with the workflow's own token
//! start no workflow (GitHub's rule), so `main.yml` starts `deploy.yml` itself
//! with a dispatch, which that token may do; a tag pushed by a person starts it
//! directly. Services not tagged at the commit are skipped, and `!failure()` lets
//! the jobs after a skipped one run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Inputs, environments, header, quote};
use crate::File;

const CHECKOUT: &str = "      - uses: actions/checkout@v6\n";
const CHECKOUT_HISTORY: &str =
    "      - uses: actions/checkout@v6\n        with:\n          fetch-depth: 0\n";
const RUST: &str = "      - uses: dtolnay/rust-toolchain@stable\n        with:\n          components: rustfmt, clippy\n      - uses: Swatinem/rust-cache@v2\n";

pub fn all(inputs: &Inputs<'_>) -> Vec<File> {
    vec![
        File {
            path: ".github/workflows/pr.yml".into(),
            contents: pr(inputs),
        },
        File {
            path: ".github/workflows/main.yml".into(),
            contents: main(inputs),
        },
        File {
            path: ".github/workflows/deploy.yml".into(),
            contents: deploy(inputs),
        },
        File {
            path: ".github/workflows/deps.yml".into(),
            contents: deps(inputs),
        },
    ]
}

fn pr(inputs: &Inputs<'_>) -> String {
    let dev = &inputs.deploy.dev;
    let branch = quote(&inputs.deploy.branch);
    let specs: Vec<String> = inputs.specs.iter().map(|s| quote(s)).collect();
    format!(
        "{header}name: pull request
on:
  pull_request:
    branches: [{branch}]
permissions:
  contents: read
concurrency:
  group: pr-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true
jobs:
  check:
    name: lint, contracts, tests
    runs-on: ubuntu-latest
    steps:
{CHECKOUT_HISTORY}{RUST}      - name: format
        run: cargo fmt --all -- --check
      - name: clippy
        run: cargo clippy --workspace --all-targets --locked -- -D warnings
      - name: spec design rules
        run: {dev} lint --format github
      - name: generated code is fresh
        run: {dev} gen --check
      - name: deployment manifests are fresh
        run: {dev} deploy manifests --check
      - name: breaking changes against the base branch
        env:
          BASE_REF: ${{{{ github.base_ref }}}}
        run: {dev} diff --against \"git:origin/$BASE_REF\" --format github {specs}
      - name: tests
        run: cargo test --workspace --locked
",
        header = header("checks of every pull request"),
        specs = specs.join(" "),
    )
}

fn main(inputs: &Inputs<'_>) -> String {
    let dev = &inputs.deploy.dev;
    let branch = quote(&inputs.deploy.branch);
    format!(
        "{header}name: release
on:
  push:
    branches: [{branch}]
permissions:
  contents: write
  actions: write
concurrency:
  group: release
  cancel-in-progress: false
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
{CHECKOUT}{RUST}      - name: tests
        run: cargo test --workspace --locked
  release:
    needs: test
    runs-on: ubuntu-latest
    steps:
{CHECKOUT_HISTORY}{RUST}      - name: tag the services that changed
        id: release
        run: |
          git config user.name \"github-actions[bot]\"
          git config user.email \"41898282+github-actions[bot]@users.noreply.github.com\"
          {dev} release --push --format json > \"$RUNNER_TEMP/release.json\"
          cat \"$RUNNER_TEMP/release.json\"
          echo \"tag=$(jq -r '.tags[0] // empty' \"$RUNNER_TEMP/release.json\")\" >> \"$GITHUB_OUTPUT\"
      # Tags pushed with this workflow's token start no workflow: dispatch the deploy.
      - name: deploy the release
        if: steps.release.outputs.tag != ''
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          TAG: ${{{{ steps.release.outputs.tag }}}}
        run: gh workflow run deploy.yml --ref \"$TAG\"
",
        header = header("tests, then release tags, on every push to the release branch"),
    )
}

/// The registry host, for `docker login`.
fn registry_host(registry: &str) -> &str {
    registry.split('/').next().unwrap_or(registry)
}

fn deploy(inputs: &Inputs<'_>) -> String {
    let registry = &inputs.deploy.registry;
    let mut s = header(&format!(
        "build and deploy released services, phase by phase ({})",
        environments(inputs.deploy)
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    ));
    let _ = write!(
        s,
        "name: deploy
on:
  push:
    tags: [\"*-v*\"]
  workflow_dispatch:
permissions:
  contents: read
  packages: write
concurrency:
  group: deploy-${{{{ github.sha }}}}
  cancel-in-progress: false
jobs:
  plan:
    name: services released at this commit
    runs-on: ubuntu-latest
    outputs:
      services: ${{{{ steps.tagged.outputs.services }}}}
      registry: ${{{{ steps.tagged.outputs.registry }}}}
    steps:
{CHECKOUT_HISTORY}      - id: tagged
        env:
          REGISTRY: {registry}
        run: |
          services=\" \"
          for tag in $(git tag --points-at HEAD --list '*-v*'); do
            services=\"$services${{tag%-v*}} \"
          done
          echo \"deploying:$services\"
          echo \"services=$services\" >> \"$GITHUB_OUTPUT\"
          echo \"registry=${{REGISTRY,,}}\" >> \"$GITHUB_OUTPUT\"
",
        registry = quote(registry),
    );
    let host = registry_host(registry);
    let (user, password) = if host == "ghcr.io" {
        ("${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}")
    } else {
        (
            "${{ secrets.REGISTRY_USERNAME }}",
            "${{ secrets.REGISTRY_PASSWORD }}",
        )
    };
    for b in &inputs.builds {
        let key = &b.key;
        let _ = write!(
            s,
            "  build-{key}:
    name: build {key}
    needs: plan
    if: contains(needs.plan.outputs.services, ' {key} ')
    runs-on: ubuntu-latest
    steps:
{CHECKOUT}      - uses: docker/setup-buildx-action@v4
      - uses: docker/login-action@v4
        with:
          registry: {host}
          username: {user}
          password: {password}
      - uses: docker/build-push-action@v7
        with:
          context: .
          file: services/{key}/Dockerfile
          push: true
          tags: ${{{{ needs.plan.outputs.registry }}}}/{key}:${{{{ github.sha }}}}
          build-args: GIT_COMMIT=${{{{ github.sha }}}}
",
            host = quote(host),
        );
    }
    let layers = inputs.graph.layers();
    let mut phases: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for b in &inputs.builds {
        phases
            .entry(layers.get(&b.name).copied().unwrap_or(0))
            .or_default()
            .push(&b.key);
    }
    let phases: Vec<Vec<&str>> = phases.into_values().collect();
    // The jobs a job of the next phase (or environment) waits for.
    let mut previous: Vec<String> = Vec::new();
    for env in environments(inputs.deploy) {
        let name = &env.name;
        if env.approval {
            let mut needs = vec!["plan".to_string()];
            needs.extend(previous.iter().cloned());
            let _ = write!(
                s,
                "  approve-{name}:
    name: approve {name}
    needs: [{needs}]
    if: ${{{{ !failure() && !cancelled() && needs.plan.outputs.services != ' ' }}}}
    runs-on: ubuntu-latest
    # Protect the `{name}-approval` GitHub environment with required reviewers.
    environment: {name}-approval
    steps:
      - run: echo \"{name} approved\"
",
                needs = needs.join(", "),
            );
            previous = vec![format!("approve-{name}")];
        }
        for (i, phase) in phases.iter().enumerate() {
            let mut jobs = Vec::new();
            for key in phase {
                let job = format!("{name}-{key}");
                let mut needs = vec!["plan".to_string(), format!("build-{key}")];
                needs.extend(previous.iter().cloned());
                let _ = write!(
                    s,
                    "  {job}:
    name: {name} / {key} (phase {phase})
    needs: [{needs}]
    if: ${{{{ !failure() && !cancelled() && contains(needs.plan.outputs.services, ' {key} ') }}}}
    runs-on: ubuntu-latest
    environment: {name}
    steps:
{CHECKOUT}      - uses: azure/setup-kubectl@v4
      - name: deploy {key}
        env:
          KUBECONFIG_DATA: ${{{{ secrets.KUBECONFIG }}}}
          IMAGE: ${{{{ needs.plan.outputs.registry }}}}/{key}
        run: |
          export KUBECONFIG=\"$RUNNER_TEMP/kubeconfig\"
          printf '%s' \"$KUBECONFIG_DATA\" > \"$KUBECONFIG\"
          cd deploy/k8s/{key}
          printf 'images:\\n  - name: {key}\\n    newName: %s\\n    newTag: %s\\n' \"$IMAGE\" \"$GITHUB_SHA\" >> kustomization.yaml
          kubectl apply -k .
          kubectl rollout status deployment/{key} --timeout=10m
",
                    phase = i + 1,
                    needs = needs.join(", "),
                );
                jobs.push(job);
            }
            previous = jobs;
        }
    }
    s
}

fn deps(inputs: &Inputs<'_>) -> String {
    let dev = &inputs.deploy.dev;
    format!(
        "{header}name: dependency upgrades
on:
  schedule:
    - cron: \"17 5 * * 1\"
  workflow_dispatch:
permissions:
  contents: write
  pull-requests: write
jobs:
  upgrade:
    runs-on: ubuntu-latest
    steps:
{CHECKOUT}{RUST}      - name: upgrade in small batches, keeping those that build and pass the tests
        run: {dev} deps upgrade --summary \"$RUNNER_TEMP/deps-upgrade.md\"
      - uses: peter-evans/create-pull-request@v8
        with:
          branch: deps/weekly-upgrade
          title: \"deps: weekly upgrade\"
          commit-message: \"deps: weekly upgrade\"
          body-path: ${{{{ runner.temp }}}}/deps-upgrade.md
",
        header = header("the weekly dependency upgrade, as a pull request"),
    )
}
