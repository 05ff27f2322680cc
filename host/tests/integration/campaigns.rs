//! Campaigns: creation, invitations by code and by username, roles, the last-DM rule, packs,
//! hidden notes — and a table-driven access matrix over every campaign route.

use serde_json::{Value, json};

use crate::common::{Db, Options, Reply, TestServer, start};

struct Table {
    server: TestServer,
    campaign: i64,
    dm: String,
    player: String,
    observer: String,
    outsider: String,
    ids: std::collections::HashMap<&'static str, i64>,
}

async fn me(server: &TestServer, token: &str) -> i64 {
    server.get("/api/v1/auth/me", Some(token)).await.data()["id"]
        .as_i64()
        .unwrap()
}

async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> Reply {
    let mut req = server.client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        server.url(path),
    );
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    server.send(req).await
}

/// A campaign with a DM, a player (joined by code) and an observer (invited by name).
async fn table(db: Db) -> Table {
    let server = start(Options::new(db)).await;
    let dm = server.register("dungeon_master").await;
    let player = server.register("pat_player").await;
    let observer = server.register("olive_observer").await;
    let outsider = server.register("oscar_outsider").await;
    let created = server
        .post(
            "/api/v1/campaigns",
            json!({"name": "Curse of Tests", "description": "d"}),
            Some(&dm),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let campaign = created.data()["id"].as_i64().unwrap();
    assert_eq!(created.data()["my_role"], "dm");
    let code = created.data()["invite_code"].as_str().unwrap().to_string();

    let joined = server
        .post(
            "/api/v1/campaigns/join",
            json!({"code": code.to_lowercase()}),
            Some(&player),
        )
        .await;
    assert_eq!(joined.status, 200, "{:#}", joined.body);
    assert_eq!(joined.data()["my_role"], "player");
    assert!(
        joined.data().get("invite_code").is_none(),
        "players do not see the code"
    );

    let inv = server
        .post(
            &format!("/api/v1/campaigns/{campaign}/invitations"),
            json!({"username": "olive_observer", "role": "observer"}),
            Some(&dm),
        )
        .await;
    assert_eq!(inv.status, 201, "{:#}", inv.body);
    let mine = server.get("/api/v1/invitations", Some(&observer)).await;
    let inv_id = mine.data()[0]["id"].as_i64().unwrap();
    assert_eq!(mine.data()[0]["campaign_name"], "Curse of Tests");
    let accepted = server
        .post(
            &format!("/api/v1/invitations/{inv_id}/accept"),
            json!({}),
            Some(&observer),
        )
        .await;
    assert_eq!(accepted.data()["my_role"], "observer");

    let mut ids = std::collections::HashMap::new();
    ids.insert("dm", me(&server, &dm).await);
    ids.insert("player", me(&server, &player).await);
    ids.insert("observer", me(&server, &observer).await);
    Table {
        server,
        campaign,
        dm,
        player,
        observer,
        outsider,
        ids,
    }
}

async fn journey(db: Db) {
    let t = table(db).await;
    let (s, c) = (&t.server, t.campaign);
    let view = s
        .get(&format!("/api/v1/campaigns/{c}"), Some(&t.player))
        .await;
    let members: Vec<&str> = view.data()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["dm", "player", "observer"]);

    // The last DM cannot be demoted or leave; after promoting someone else, they can.
    let dm_id = t.ids["dm"];
    let r = send(
        s,
        "PATCH",
        &format!("/api/v1/campaigns/{c}/members/{dm_id}"),
        Some(json!({"role": "player"})),
        Some(&t.dm),
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "LAST_DM"));
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/leave"),
            json!({}),
            Some(&t.dm),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "LAST_DM"));
    let pid = t.ids["player"];
    let r = send(
        s,
        "PATCH",
        &format!("/api/v1/campaigns/{c}/members/{pid}"),
        Some(json!({"role": "dm"})),
        Some(&t.dm),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/leave"),
            json!({}),
            Some(&t.dm),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s.get(&format!("/api/v1/campaigns/{c}"), Some(&t.dm)).await;
    assert_eq!(
        (r.status, r.code()),
        (404, "CAMPAIGN_NOT_FOUND"),
        "a former member sees nothing"
    );

    // Hidden notes exist for the (new) DM only.
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/notes"),
            json!({"title": "The twist", "hidden": true}),
            Some(&t.player),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/notes"),
            json!({"title": "Session 1"}),
            Some(&t.player),
        )
        .await;
    assert_eq!(r.status, 201);
    let dm_sees = s
        .get(&format!("/api/v1/campaigns/{c}/notes"), Some(&t.player))
        .await;
    assert_eq!(dm_sees.data().as_array().unwrap().len(), 2);
    let observer_sees = s
        .get(&format!("/api/v1/campaigns/{c}/notes"), Some(&t.observer))
        .await;
    let titles: Vec<&str> = observer_sees
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Session 1"]);

    // Joining twice is a conflict; a wrong code is a 404 with its own code.
    let r = s
        .post(
            "/api/v1/campaigns/join",
            json!({"code": "NOPE"}),
            Some(&t.outsider),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "INVITE_CODE_NOT_FOUND"));
    let code = s
        .get(&format!("/api/v1/campaigns/{c}"), Some(&t.player))
        .await
        .data()["invite_code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .post(
            "/api/v1/campaigns/join",
            json!({"code": code}),
            Some(&t.observer),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "ALREADY_EXISTS"));
    // A new code replaces the old one.
    let fresh = s
        .post(
            &format!("/api/v1/campaigns/{c}/invite-code"),
            json!({}),
            Some(&t.player),
        )
        .await;
    assert_ne!(fresh.data()["invite_code"].as_str().unwrap(), code);
    let r = s
        .post(
            "/api/v1/campaigns/join",
            json!({"code": code}),
            Some(&t.outsider),
        )
        .await;
    assert_eq!(r.status, 404);

    // Packs: only packs that exist under the rules directory.
    let r = send(
        s,
        "PUT",
        &format!("/api/v1/campaigns/{c}/packs"),
        Some(json!({"packs": ["no-such-pack"]})),
        Some(&t.player),
    )
    .await;
    assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"));
}

#[tokio::test]
async fn campaign_journey_sqlite() {
    journey(Db::Sqlite).await;
}

#[tokio::test]
async fn campaign_journey_postgres() {
    journey(Db::Postgres).await;
}

/// Every campaign route × every kind of caller → the status each must get.
async fn access_matrix(db: Db) {
    let t = table(db).await;
    let s = &t.server;
    let c = t.campaign;
    let note = s
        .post(
            &format!("/api/v1/campaigns/{c}/notes"),
            json!({"title": "Public"}),
            Some(&t.player),
        )
        .await;
    let note_id = note.data()["id"].as_i64().unwrap();
    let pid = t.ids["player"];
    let oid = t.ids["observer"];

    // (method, path, body, [dm, player, observer, outsider, anonymous])
    let routes: Vec<(&str, String, Option<Value>, [u16; 5])> = vec![
        (
            "GET",
            format!("/api/v1/campaigns/{c}"),
            None,
            [200, 200, 200, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/campaigns/{c}/members"),
            None,
            [200, 200, 200, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/campaigns/{c}/packs"),
            None,
            [200, 200, 200, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/campaigns/{c}/notes"),
            None,
            [200, 200, 200, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/campaigns/{c}/invitations"),
            None,
            [200, 403, 403, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/campaigns/{c}/hidden-entries"),
            None,
            [200, 403, 403, 404, 401],
        ),
        (
            "PUT",
            // No SRD imported on this server: the DM is told the entry does not exist.
            format!("/api/v1/campaigns/{c}/hidden-entries/spells/fireball"),
            None,
            [404, 403, 403, 404, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/campaigns/{c}"),
            Some(json!({"description": "x"})),
            [200, 403, 403, 404, 401],
        ),
        (
            "PUT",
            format!("/api/v1/campaigns/{c}/packs"),
            Some(json!({"packs": []})),
            [200, 403, 403, 404, 401],
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{c}/invite-code"),
            None,
            [200, 403, 403, 404, 401],
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{c}/invitations"),
            Some(json!({"username": "nobody_here"})),
            [404, 403, 403, 404, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/campaigns/{c}/members/{oid}"),
            Some(json!({"role": "observer"})),
            [200, 403, 403, 404, 401],
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{c}/notes"),
            Some(json!({"title": "t"})),
            [201, 201, 403, 404, 401],
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{c}/notes"),
            Some(json!({"title": "t", "hidden": true})),
            [201, 403, 403, 404, 401],
        ),
        (
            "PATCH",
            format!("/api/v1/campaigns/{c}/notes/{note_id}"),
            Some(json!({"title": "t2"})),
            [200, 200, 403, 404, 401],
        ),
        (
            "GET",
            "/api/v1/campaigns".to_string(),
            None,
            [200, 200, 200, 200, 401],
        ),
        (
            "GET",
            "/api/v1/invitations".to_string(),
            None,
            [200, 200, 200, 200, 401],
        ),
    ];
    let callers = [
        Some(&t.dm),
        Some(&t.player),
        Some(&t.observer),
        Some(&t.outsider),
        None,
    ];
    let names = ["dm", "player", "observer", "outsider", "anonymous"];
    for (method, path, body, expected) in &routes {
        for (i, caller) in callers.iter().enumerate() {
            let r = send(s, method, path, body.clone(), caller.map(String::as_str)).await;
            assert_eq!(
                r.status, expected[i],
                "{method} {path} as {}: {:#}",
                names[i], r.body
            );
            if r.status >= 400 {
                r.code();
            }
        }
    }
    // Destructive routes last: removal, then deletion.
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}/members/{pid}"),
        None,
        Some(&t.observer),
    )
    .await;
    assert_eq!(r.status, 403, "an observer cannot remove others");
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}/members/{pid}"),
        None,
        Some(&t.outsider),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}"),
        None,
        Some(&t.player),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}"),
        None,
        Some(&t.outsider),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}/members/{pid}"),
        None,
        Some(&t.dm),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}"),
        None,
        Some(&t.dm),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = s.get(&format!("/api/v1/campaigns/{c}"), Some(&t.dm)).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn campaign_access_matrix_sqlite() {
    access_matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn campaign_access_matrix_postgres() {
    access_matrix(Db::Postgres).await;
}
