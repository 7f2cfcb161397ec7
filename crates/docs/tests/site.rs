//! The documentation site as files: which pages, what links where, escaping, the
//! graph picture, determinism; the index and one service page pinned by snapshots.
//! (`tests/browser` loads the same kind of site in Chromium.)

use std::path::{Path, PathBuf};

use blueprint_codegen::GeneratedFile;
use blueprint_spec::Spec;

fn load(path: &Path) -> Spec {
    blueprint_spec::load(path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

/// The users service and a service consuming its stream.
fn workspace() -> Vec<Spec> {
    let root = blueprint_testkit::workspace_root();
    vec![
        load(&root.join("services/users/spec/users.json")),
        load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notifications.json")),
    ]
}

fn site(specs: &[Spec], graph: Option<&str>) -> Vec<GeneratedFile> {
    let specs: Vec<&Spec> = specs.iter().collect();
    blueprint_docs::site(&specs, graph)
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == Path::new(path))
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| panic!("no {path} in the site"))
}

#[test]
fn pages_and_exports_per_service() {
    let files = site(&workspace(), None);
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let expected: Vec<PathBuf> = [
        "index.html",
        "notifications/asyncapi.json",
        "notifications/index.html",
        "notifications/openapi.json",
        "style.css",
        "users/asyncapi.json",
        "users/index.html",
        "users/openapi.json",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(paths, expected);
    assert_eq!(files, site(&workspace(), None), "the site is deterministic");
}

#[test]
fn streams_link_their_publisher_and_consumers() {
    let files = site(&workspace(), None);
    let users = file(&files, "users/index.html");
    let notifications = file(&files, "notifications/index.html");
    let stream = "io.blueprint.users.v0.user_event.json";
    assert!(
        users.contains(&format!(
            r#"href="../notifications/index.html#consumes-{stream}""#
        )),
        "the stream names its consumer"
    );
    assert!(
        notifications.contains(&format!(r#"href="../users/index.html#stream-{stream}""#)),
        "the consumed stream names its publisher"
    );
    assert!(!notifications.contains(&format!(r#"id="stream-{stream}""#)));
    assert!(users.contains(&format!(r#"id="stream-{stream}""#)));
    // Imported types are documented on the importing service's page, linked.
    assert!(notifications.contains(r##"href="#io.blueprint.users.v0.models.user""##));
    assert!(notifications.contains(r#"id="io.blueprint.users.v0.models.user""#));
}

#[test]
fn spec_text_is_escaped() {
    let files = site(&workspace(), None);
    let page = file(&files, "notifications/index.html");
    assert!(
        !page.contains("<script>"),
        "markup from the spec reached the page"
    );
    assert!(page.contains("&lt;script&gt;console.error("));
    assert!(page.contains("&lt;b&gt;friends&lt;/b&gt;"));
    assert!(page.contains("Welcome &quot;aboard&quot; &lt;friend&gt;"));
}

#[test]
fn the_graph_picture_is_a_file_the_index_shows() {
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#;
    let files = site(&workspace(), Some(svg));
    assert_eq!(file(&files, blueprint_docs::GRAPH_FILE), svg);
    assert!(file(&files, "index.html").contains(r#"<img src="graph.svg""#));

    let without = site(&workspace(), None);
    assert!(!without.iter().any(|f| f.path == Path::new("graph.svg")));
    assert!(!file(&without, "index.html").contains("<img"));
}

#[test]
fn examples_are_synthesised_valid_values() {
    let specs = workspace();
    let files = site(&specs, None);
    let users = file(&files, "users/index.html");
    // The field's own example and default, as the mock answers them.
    assert!(users.contains("usr-20151006-1"));
    assert!(users.contains("POST /users\nContent-Type: application/json"));
    assert!(users.contains("&amp;limit=25&amp;offset=0&amp;sort=-created_at"));
}

#[test]
fn is_site_index_recognises_only_its_own_index() {
    let files = site(&workspace(), None);
    assert!(blueprint_docs::is_site_index(file(&files, "index.html")));
    assert!(!blueprint_docs::is_site_index("<html><head></head></html>"));
}

#[test]
fn snapshots() {
    let files = site(&workspace(), None);
    insta::assert_snapshot!("index", tag_per_line(file(&files, "index.html")));
    insta::assert_snapshot!(
        "notifications",
        tag_per_line(file(&files, "notifications/index.html"))
    );
}

/// The page with a line break between adjacent tags, so snapshot diffs read well
/// (text inside `<pre>` never has `><`: the `<` would be escaped).
fn tag_per_line(html: &str) -> String {
    html.replace("><", ">\n<")
}
