//! The campaign's live stream over a real WebSocket: chat in and out, the message log, shared
//! rolls, character changes, rules reloads, who may connect — and, through Redis, events that
//! cross from one server process to another.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::characters::{Party, party, party_on, rules_server_with, send};
use crate::common::{Db, Options, TestServer, start};
use crate::compendium::srd_file;
use crate::rules::{copy_dir, repo_rules};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ws_url(s: &TestServer, campaign: i64, token: &str) -> String {
    format!(
        "ws://{}/api/v1/campaigns/{campaign}/live?token={token}",
        s.addr
    )
}

async fn connect(s: &TestServer, campaign: i64, token: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(s, campaign, token))
        .await
        .expect("the socket opens");
    let hello = next(&mut socket, |v| v["type"] == "hello").await;
    assert_eq!(hello["campaign"], campaign);
    socket
}

/// The next JSON message that satisfies `want`, within five seconds.
async fn next(socket: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an event within 5 s")
            .expect("the socket stays open")
            .expect("a frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if want(&v) {
                return v;
            }
        }
    }
}

fn is_message(v: &Value, text: &str) -> bool {
    v["event"]["type"] == "message" && v["event"]["message"]["text"] == text
}

async fn refused_status(url: String) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the socket should have been refused"),
    }
}

async fn stream(p: Party) {
    let (s, c, id) = (&p.s, p.campaign, p.character);
    let mut owner = connect(s, c, &p.owner).await;
    let mut dm = connect(s, c, &p.dm).await;
    let mut observer = connect(s, c, &p.observer).await;

    // Who may connect: members only, 404 for the rest as everywhere in a campaign.
    assert_eq!(refused_status(ws_url(s, c, &p.outsider)).await, 404);
    assert_eq!(refused_status(ws_url(s, c, "not-a-token")).await, 401);
    assert_eq!(
        refused_status(format!("ws://{}/api/v1/campaigns/{c}/live", s.addr)).await,
        401
    );
    assert_eq!(refused_status(ws_url(s, c + 1000, &p.dm)).await, 404);

    // Chat over HTTP reaches every socket; chat over the socket too.
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/messages"),
            json!({"text": "Roll initiative!"}),
            Some(&p.dm),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    for socket in [&mut owner, &mut dm, &mut observer] {
        let e = next(socket, |v| is_message(v, "Roll initiative!")).await;
        assert_eq!(e["event"]["message"]["username"], "the_dm");
        assert_eq!(e["event"]["message"]["kind"], "chat");
    }
    owner
        .send(Message::Text(
            json!({"type": "chat", "text": "I rage."})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    next(&mut dm, |v| is_message(v, "I rage.")).await;
    observer
        .send(Message::Text(
            json!({"type": "chat", "text": "hello?"}).to_string().into(),
        ))
        .await
        .unwrap();
    let e = next(&mut observer, |v| v["type"] == "error").await;
    assert_eq!(e["code"], "FORBIDDEN");
    owner
        .send(Message::Text("{\"type\": \"dance\"}".into()))
        .await
        .unwrap();
    let e = next(&mut owner, |v| v["type"] == "error").await;
    assert_eq!(e["code"], "VALIDATION_FAILED");
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/messages"),
            json!({"text": "  "}),
            Some(&p.player),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/messages"),
            json!({"text": "hi"}),
            Some(&p.observer),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .post(
            &format!("/api/v1/campaigns/{c}/messages"),
            json!({"text": "hi"}),
            Some(&p.outsider),
        )
        .await;
    assert_eq!(r.status, 404);

    // A character's change reaches the party with its new version.
    let r = s
        .post(
            &format!("/api/v1/characters/{id}/damage"),
            json!({"amount": 3, "type": "fire"}),
            Some(&p.dm),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let version = r.data()["version"].clone();
    let e = next(&mut owner, |v| v["event"]["type"] == "character").await;
    assert_eq!(e["event"]["id"], id);
    assert_eq!(e["event"]["version"], version);
    assert_eq!(e["event"]["by"], "the_dm");
    assert!(
        e["event"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["event"] == "damaged")
    );

    // A roll from the sheet is shared and logged; a private one is neither.
    let r = s
        .post(
            &format!("/api/v1/characters/{id}/roll"),
            json!({"kind": "skill", "skill": "athletics"}),
            Some(&p.owner),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let total = r.data()["roll"]["total"].clone();
    let e = next(&mut dm, |v| {
        v["event"]["type"] == "message" && v["event"]["message"]["kind"] == "roll"
    })
    .await;
    assert_eq!(
        e["event"]["message"]["data"]["roll"]["roll"]["total"],
        total
    );
    assert_eq!(e["event"]["message"]["data"]["character"], id);
    let r = s
        .post(
            &format!("/api/v1/characters/{id}/roll"),
            json!({"kind": "save", "ability": "dex", "share": false}),
            Some(&p.owner),
        )
        .await;
    assert_eq!(r.status, 200);

    // The log: oldest first, paged back with `before`.
    let log = s
        .get(
            &format!("/api/v1/campaigns/{c}/messages"),
            Some(&p.observer),
        )
        .await;
    let texts: Vec<&str> = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(&texts[..2], ["Roll initiative!", "I rage."]);
    assert!(texts[2].contains("athletics"), "{texts:?}");
    let last = log.data()[2]["id"].as_i64().unwrap();
    let older = s
        .get(
            &format!("/api/v1/campaigns/{c}/messages?before={last}&limit=1"),
            Some(&p.player),
        )
        .await;
    assert_eq!(older.data()[0]["text"], "I rage.");
    let r = s
        .get(
            &format!("/api/v1/campaigns/{c}/messages?limit=0"),
            Some(&p.player),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .get(
            &format!("/api/v1/campaigns/{c}/messages"),
            Some(&p.outsider),
        )
        .await;
    assert_eq!(r.status, 404);

    // Deleting the campaign deletes its log.
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}"),
        None,
        Some(&p.dm),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let dir = s.state.config().data_dir.join(format!("campaigns/{c}"));
    assert!(!dir.exists(), "{} remains", dir.display());
}

#[tokio::test]
async fn live_stream_chat_rolls_and_characters_sqlite() {
    stream(party(Db::Sqlite).await).await;
}

#[tokio::test]
async fn live_stream_chat_rolls_and_characters_postgres() {
    stream(party(Db::Postgres).await).await;
}

#[tokio::test]
async fn rules_reloads_reach_every_campaign_sqlite() {
    let rules = tempfile::tempdir().unwrap();
    copy_dir(&repo_rules(), rules.path());
    let p = party_on(rules_server_with(Db::Sqlite, rules.path()).await).await;
    let mut socket = connect(&p.s, p.campaign, &p.player).await;
    let manifest = rules.path().join("examples/brawler/pack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.1.1\""),
    )
    .unwrap();
    let e = next(&mut socket, |v| v["event"]["type"] == "rules").await;
    assert_eq!(e["campaign"], Value::Null, "sent to every campaign");
    assert_eq!(e["event"]["ok"], true);
    assert!(
        e["event"]["packs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "brawler"),
        "{e:#}"
    );
}

/// Two server processes on one PostgreSQL database and one Redis: a member connected to one
/// receives what happens on the other.
#[tokio::test]
async fn live_events_cross_processes_postgres_redis() {
    let url = crate::common::fresh_postgres().await;
    let srd_dir = srd_file("2014").parent().unwrap().display().to_string();
    let options = || {
        Options::new(Db::Sqlite)
            .redis()
            .env("DATABASE_URL", url.clone())
            .env("JWT_SECRET", "one secret shared by both servers, 32+ bytes")
            .env("GRIMOIRE_RULES_DIR", repo_rules().display().to_string())
            .env("GRIMOIRE_SRD_DIR", srd_dir.clone())
    };
    let a = start(options()).await;
    let b = start(options()).await;
    let dm = a.register("cross_dm").await;
    let created = a
        .post("/api/v1/campaigns", json!({"name": "Across"}), Some(&dm))
        .await;
    let campaign = created.data()["id"].as_i64().unwrap();
    let mut on_b = connect(&b, campaign, &dm).await;
    // The subscription to Redis is made in the background as a server starts: retry until the
    // first message crosses, then every later one must.
    let mut crossed = false;
    for i in 0..50 {
        let text = format!("ping {i}");
        a.post(
            &format!("/api/v1/campaigns/{campaign}/messages"),
            json!({"text": text}),
            Some(&dm),
        )
        .await;
        let got = tokio::time::timeout(
            Duration::from_millis(200),
            next(&mut on_b, |v| is_message(v, &text)),
        )
        .await;
        if got.is_ok() {
            crossed = true;
            break;
        }
    }
    assert!(
        crossed,
        "no message from server A reached a socket on server B"
    );
    for i in 0..5 {
        let text = format!("steady {i}");
        a.post(
            &format!("/api/v1/campaigns/{campaign}/messages"),
            json!({"text": text}),
            Some(&dm),
        )
        .await;
        next(&mut on_b, |v| is_message(v, &text)).await;
    }
}
