//! The web app: built files, client-side routes, cache headers, and the placeholder.

use crate::common::{Db, Options, start};

#[tokio::test]
async fn serves_the_built_app_with_fallback_and_cache_headers() {
    let build = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(build.path().join("_app/immutable")).unwrap();
    std::fs::write(
        build.path().join("index.html"),
        "<!doctype html><title>app shell</title>",
    )
    .unwrap();
    std::fs::write(
        build.path().join("_app/immutable/entry.abc123.js"),
        "console.log(1)",
    )
    .unwrap();
    std::fs::write(build.path().join("favicon.png"), [137u8, 80, 78, 71]).unwrap();
    let server = start(
        Options::new(Db::Sqlite).env("GRIMOIRE_FRONTEND_DIR", build.path().display().to_string()),
    )
    .await;

    let root = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 200);
    assert_eq!(root.headers()["cache-control"], "no-cache");
    assert!(root.text().await.unwrap().contains("app shell"));

    // A client-side route the server knows nothing about gets the app shell.
    let deep = server
        .client
        .get(server.url("/characters/12/sheet"))
        .send()
        .await
        .unwrap();
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.unwrap().contains("app shell"));

    let asset = server
        .client
        .get(server.url("/_app/immutable/entry.abc123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    let icon = server
        .client
        .get(server.url("/favicon.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.headers()["cache-control"], "no-cache");

    // API paths never fall through to the app.
    let api = server
        .get("/api/v1/characters-that-do-not-exist", None)
        .await;
    assert_eq!((api.status, api.code()), (404, "ROUTE_NOT_FOUND"));
}

#[tokio::test]
async fn without_a_build_a_placeholder_links_the_api_docs() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server
        .client
        .get(server.url("/anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Grimoire") && html.contains("/api/docs/"),
        "{html}"
    );
    assert!(
        html.contains("Creative Commons Attribution 4.0"),
        "the SRD attribution is shown"
    );
}
