fn main() {
    // GIT_COMMIT for GET /_internal_/version.
    blueprint_build::git_commit();
}
