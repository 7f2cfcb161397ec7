fn main() {
    blueprint_build::git_commit();
}
