//! The Dockerfile of a service and the workspace's `.dockerignore`.

use super::{HEALTHCHECK_PATH, ServiceBuild, header};
use crate::config::DeployConfig;

/// Images build from the workspace root: keep build output and history out of the context.
pub fn dockerignore() -> String {
    format!(
        "{}target/\n.git/\n.dev/\n**/node_modules/\n",
        header("what image builds leave out")
    )
}

pub fn dockerfile(b: &ServiceBuild, deploy: &DeployConfig) -> String {
    let ServiceBuild {
        key,
        package,
        binary,
        ..
    } = b;
    let port = deploy.port;
    format!(
        r#"# syntax=docker/dockerfile:1
{header}# Build from the workspace root: docker build -f services/{key}/Dockerfile .

FROM {builder} AS build
WORKDIR /src
COPY . .
# Compiled in: GET /_internal_/version says which commit is running.
ARG GIT_COMMIT=unknown
ENV GIT_COMMIT=${{GIT_COMMIT}}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package {package} --bin {binary} \
    && cp target/release/{binary} /usr/local/bin/service

FROM {runtime}
COPY --from=build /usr/local/bin/service /usr/local/bin/{binary}
ENV PORT={port}
EXPOSE {port}
# Kubernetes probes this path (deploy/k8s/{key}/deployment.yaml).
LABEL org.opencontainers.image.title="{key}" \
      io.blueprint.healthcheck="{HEALTHCHECK_PATH}"
USER {uid}:{uid}
ENTRYPOINT ["/usr/local/bin/{binary}"]
"#,
        header = header(&format!("the {} service's image", b.name)),
        builder = deploy.builder_image,
        runtime = deploy.runtime_image,
        uid = deploy.uid,
    )
}
