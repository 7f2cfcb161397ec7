//! A service's Kubernetes manifests: `deploy/k8s/<key>/`.
//!
//! Configuration comes from outside the image, per environment: the `blueprint`
//! ConfigMap (`streams-url`, `jwt-public-key`, shared by the workspace's services)
//! and the `<key>-database` Secret (`url`), created by whoever runs the cluster.
//! The image is `<key>`; the deploy workflow points it at the registry and the
//! commit through the kustomization.

use std::fmt::Write as _;

use super::{HEALTHCHECK_PATH, ServiceBuild, header};
use crate::File;
use crate::config::DeployConfig;

pub fn service(b: &ServiceBuild, deploy: &DeployConfig) -> Vec<File> {
    let dir = format!("deploy/k8s/{}", b.key);
    vec![
        File {
            path: format!("{dir}/deployment.yaml"),
            contents: deployment(b, deploy),
        },
        File {
            path: format!("{dir}/kustomization.yaml"),
            contents: kustomization(b),
        },
        File {
            path: format!("{dir}/service.yaml"),
            contents: service_yaml(b),
        },
    ]
}

fn labels(key: &str, indent: &str) -> String {
    format!("{indent}app.kubernetes.io/name: {key}\n{indent}app.kubernetes.io/component: service\n")
}

/// The container's environment, indented for a container entry.
fn env(b: &ServiceBuild, deploy: &DeployConfig) -> String {
    let mut s = String::from("          env:\n");
    let _ = writeln!(
        s,
        "            - name: PORT\n              value: \"{}\"",
        deploy.port
    );
    if b.database {
        let _ = writeln!(
            s,
            "            - name: DATABASE_URL\n              valueFrom:\n                secretKeyRef:\n                  name: {}-database\n                  key: url",
            b.key
        );
    }
    if b.streams {
        s.push_str(
            "            - name: BLUEPRINT_STREAMS_URL\n              valueFrom:\n                configMapKeyRef:\n                  name: blueprint\n                  key: streams-url\n",
        );
    }
    s.push_str(
        "            - name: BLUEPRINT_JWT_PUBLIC_KEY\n              valueFrom:\n                configMapKeyRef:\n                  name: blueprint\n                  key: jwt-public-key\n                  optional: true\n",
    );
    s
}

const CONTAINER_SECURITY: &str = "          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [\"ALL\"]
";

const RESOURCES: &str = "          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
";

fn deployment(b: &ServiceBuild, deploy: &DeployConfig) -> String {
    let key = &b.key;
    let env = env(b, deploy);
    let mut s = header(&format!("the {} service", b.name));
    let _ = write!(
        s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {key}
  labels:
{labels2}spec:
  replicas: 2
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {key}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
{labels6}    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: {uid}
        runAsGroup: {uid}
        seccompProfile:
          type: RuntimeDefault
",
        labels2 = labels(key, "    "),
        labels6 = labels(key, "        "),
        uid = deploy.uid,
    );
    if b.database {
        // Each new pod migrates before it serves: the runner takes a lock, so
        // replicas starting together migrate once, and old pods keep running on the
        // schema until then (migrations are additive unless explicitly allowed).
        let _ = write!(
            s,
            "      initContainers:
        - name: migrate
          image: {key}
          args: [\"migrate\"]
{env}{RESOURCES}{CONTAINER_SECURITY}"
        );
    }
    let _ = write!(
        s,
        "      containers:
        - name: {key}
          image: {key}
          ports:
            - name: http
              containerPort: {port}
{env}          startupProbe:
            httpGet:
              path: {HEALTHCHECK_PATH}
              port: http
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            httpGet:
              path: {HEALTHCHECK_PATH}
              port: http
            periodSeconds: 5
            failureThreshold: 2
          livenessProbe:
            httpGet:
              path: {HEALTHCHECK_PATH}
              port: http
            periodSeconds: 10
            failureThreshold: 3
{RESOURCES}{CONTAINER_SECURITY}",
        port = deploy.port,
    );
    s
}

fn service_yaml(b: &ServiceBuild) -> String {
    let key = &b.key;
    format!(
        "{}apiVersion: v1
kind: Service
metadata:
  name: {key}
  labels:
{}spec:
  selector:
    app.kubernetes.io/name: {key}
  ports:
    - name: http
      port: 80
      targetPort: http
",
        header(&format!("the {} service's address in the cluster", b.name)),
        labels(key, "    "),
    )
}

fn kustomization(b: &ServiceBuild) -> String {
    format!(
        "{}# The deploy workflow appends `images:` naming the registry and the commit.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
",
        header(&format!("the {} service's manifests", b.name)),
    )
}
