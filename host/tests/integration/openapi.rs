//! The OpenAPI document is generated from the router and lists exactly what it serves.

use crate::common::{Db, Options, start};

#[tokio::test]
async fn document_parses_and_every_listed_operation_is_served() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc: utoipa::openapi::OpenApi =
        serde_json::from_value(r.body.clone()).expect("a valid OpenAPI document");
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));

    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                operations.push((method, path.clone()));
            }
        }
    }
    for expected in [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/health"),
        ("GET", "/metrics"),
    ] {
        assert!(
            operations
                .iter()
                .any(|(m, p)| *m == expected.0 && p == expected.1),
            "{expected:?} missing from {operations:?}"
        );
    }
    // The router is built from the same list, so every documented operation must be routed:
    // none may fall through to "no such route" or "method not allowed".
    for (method, path) in &operations {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = server
            .send(server.client.request(method.clone(), server.url(path)))
            .await;
        if r.status == 404 || r.status == 405 {
            assert!(
                !matches!(r.code(), "ROUTE_NOT_FOUND" | "METHOD_NOT_ALLOWED"),
                "{method} {path} is documented but not served"
            );
        }
    }
    // Every operation documents its responses.
    for (path, item) in &doc.paths.paths {
        let json = serde_json::to_value(item).unwrap();
        for (_, op) in json.as_object().unwrap() {
            if let Some(responses) = op.get("responses") {
                assert!(
                    !responses.as_object().unwrap().is_empty(),
                    "{path} documents no responses"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_docs_page_works_offline() {
    let server = start(Options::new(Db::Sqlite)).await;
    let page = server
        .send(server.client.get(server.url("/api/docs/")))
        .await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page must not load assets from the internet"
    );
    // Its scripts and styles come from this server.
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let r = server
            .client
            .get(server.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        let text = r.text().await.unwrap();
        assert!(text.len() > 100, "{asset} is served");
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/api/v1/openapi.json"), "{text}");
        }
    }
}
