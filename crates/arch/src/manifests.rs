//! Deployment manifests.
