//! Rules that react at the table, through the API: turns, dropping to 0 hit points and the end
//! of an effect fire the rule files' triggers, and the answer says what they did; standing
//! choices are offered by the preview, checked at creation and on PATCH, and listed per
//! character.

use serde_json::{Value, json};

use crate::characters::{barbarian, create, rules_server, send};
use crate::common::{Db, TestServer};

fn path(id: i64, rest: &str) -> String {
    format!("/api/v1/characters/{id}{rest}")
}

fn half_orc(name: &str) -> Value {
    let mut body = barbarian(name);
    body["race"] = json!("half-orc");
    body["languages"] = json!(["dwarvish", "elvish"]);
    body
}

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let r = s.post(path, body, Some(token)).await;
    assert_eq!(r.status, 200, "{path}: {:#}", r.body);
    r.data().clone()
}

fn events_of<'a>(answer: &'a Value, kind: &str) -> Vec<&'a Value> {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == kind)
        .collect()
}

async fn relentless_endurance_and_turns(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("orc_player").await;
    let c = create(&s, &token, half_orc("Gruk")).await;
    let id = c["id"].as_i64().unwrap();
    let max = c["sheet"]["hp"]["max"]["value"].as_i64().unwrap();
    assert_eq!(max, 14, "12 + Con 14");

    // Exactly to 0 (not killed outright): Relentless Endurance keeps the half-orc at 1 HP.
    let hit = post(
        &s,
        &token,
        &path(id, "/damage"),
        json!({"amount": max, "type": "slashing"}),
    )
    .await;
    let triggered = events_of(&hit, "triggered");
    assert!(
        triggered
            .iter()
            .any(|e| e["feature"] == "relentless-endurance" && e["on"] == "drop_to_zero"),
        "{:#}",
        hit["events"]
    );
    assert_eq!(hit["sheet"]["hp"]["current"], 1, "{:#}", hit["events"]);
    assert!(
        !hit["sheet"]["conditions"]
            .to_string()
            .contains("unconscious")
    );
    // Once per long rest: the next drop to 0 stands.
    let again = post(
        &s,
        &token,
        &path(id, "/damage"),
        json!({"amount": 1, "type": "slashing"}),
    )
    .await;
    assert_eq!(again["sheet"]["hp"]["current"], 0);
    assert!(
        again["character"]["conditions"]
            .to_string()
            .contains("unconscious"),
        "{:#}",
        again["character"]
    );

    // Turns move time: an effect lasting one round ends at the end of the turn, saying why.
    post(&s, &token, &path(id, "/heal"), json!({"amount": 5})).await;
    let fx = post(
        &s,
        &token,
        &path(id, "/effects"),
        json!({"effect": "dodging", "duration": {"rounds": 1}}),
    )
    .await;
    assert_eq!(fx["character"]["effects"].as_array().unwrap().len(), 1);
    let start = post(&s, &token, &path(id, "/turn"), json!({"phase": "start"})).await;
    assert_eq!(start["character"]["effects"].as_array().unwrap().len(), 1);
    let end = post(&s, &token, &path(id, "/turn"), json!({"phase": "end"})).await;
    let ended = events_of(&end, "effect_ended");
    assert_eq!(ended.len(), 1, "{:#}", end["events"]);
    assert_eq!(ended[0]["reason"], "duration");
    assert!(end["character"]["effects"].as_array().unwrap().is_empty());

    let bad = s
        .post(&path(id, "/turn"), json!({"phase": "middle"}), Some(&token))
        .await;
    assert_eq!(bad.status, 422, "{:#}", bad.body);

    // A dead character has no turns.
    let dead = post(
        &s,
        &token,
        &path(id, "/damage"),
        json!({"amount": 100, "type": "fire"}),
    )
    .await;
    assert_eq!(dead["character"]["death_saves"]["dead"], true);
    let r = s
        .post(&path(id, "/turn"), json!({"phase": "start"}), Some(&token))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "CHARACTER_DEAD"),
        "{:#}",
        r.body
    );
}

#[tokio::test]
async fn relentless_endurance_and_turns_sqlite() {
    relentless_endurance_and_turns(Db::Sqlite).await;
}

#[tokio::test]
async fn relentless_endurance_and_turns_postgres() {
    relentless_endurance_and_turns(Db::Postgres).await;
}

async fn standing_choices(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("dragon_player").await;
    let mut body = barbarian("Rhogar");
    body["race"] = json!("dragonborn");
    body["languages"] = json!(["dwarvish", "elvish"]);

    // The preview says which choices the rules offer this character.
    let preview = post(&s, &token, "/api/v1/characters/preview", body.clone()).await;
    let decl = preview["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "draconic-ancestry")
        .unwrap_or_else(|| panic!("{:#}", preview["choices"]))
        .clone();
    assert!(
        decl["options"]
            .as_array()
            .unwrap()
            .contains(&json!("draconic-ancestry-red")),
        "{decl:#}"
    );

    // A choice the rules do not offer is refused at its path, with the options.
    body["choices"] = json!({"draconic-ancestry": "draconic-ancestry-plaid"});
    let r = s
        .post("/api/v1/characters", body.clone(), Some(&token))
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    let problem = r.body["error"]["details"]["fields"]["choices.draconic-ancestry"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{:#}", r.body));
    assert!(problem.contains("draconic-ancestry-red"), "{problem}");

    body["choices"] = json!({"draconic-ancestry": "draconic-ancestry-red"});
    let c = create(&s, &token, body).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        c["character"]["choices"]["draconic-ancestry"],
        "draconic-ancestry-red"
    );
    assert!(
        c["sheet"]["defenses"]["resistances"]
            .to_string()
            .contains("fire"),
        "red ancestry: fire resistance; {:#}",
        c["sheet"]["defenses"]["resistances"]
    );

    let listed = s.get(&path(id, "/choices"), Some(&token)).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    assert_eq!(
        listed.data()["values"]["draconic-ancestry"],
        "draconic-ancestry-red"
    );
    assert!(
        listed.data()["declared"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "draconic-ancestry")
    );

    // PATCH checks a changed choice the same way, and keeps the stored one on refusal.
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"choices": {"draconic-ancestry": "gold"}})),
        Some(&token),
        Some(1),
    )
    .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(r.body["error"]["details"]["fields"]["choices.draconic-ancestry"].is_array());
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"choices": {"draconic-ancestry": "draconic-ancestry-gold"}})),
        Some(&token),
        Some(1),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["version"], 2);
    assert!(
        r.data()["sheet"]["defenses"]["resistances"]
            .to_string()
            .contains("fire")
    );

    let outsider = s.register("not_the_owner").await;
    let r = s.get(&path(id, "/choices"), Some(&outsider)).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn standing_choices_sqlite() {
    standing_choices(Db::Sqlite).await;
}

#[tokio::test]
async fn standing_choices_postgres() {
    standing_choices(Db::Postgres).await;
}

/// Rolls from the sheet use its critical range and critical damage, and floors on a total.
async fn critical_range_and_floors(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("champion_player").await;
    let c = create(&s, &token, barbarian("Brute")).await;
    let id = c["id"].as_i64().unwrap();
    // A champion fighter 3 (Improved Critical: 19–20) and a barbarian 18 (Indomitable Might),
    // by editing the record.
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"classes": [
            {"class": "barbarian", "level": 18, "subclass": "berserker"},
            {"class": "fighter", "level": 2}
        ]})),
        Some(&token),
        Some(1),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"classes": [
            {"class": "barbarian", "level": 17, "subclass": "berserker"},
            {"class": "fighter", "level": 3, "subclass": "champion"}
        ]})),
        Some(&token),
        Some(2),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let attack = r.data()["sheet"]["attacks"]["greataxe"].clone();
    assert_eq!(attack["crit_range"]["value"], 19, "{attack:#}");
    let crit_damage = attack["crit_damage"].as_str().unwrap().to_string();
    assert_ne!(crit_damage, attack["damage"].as_str().unwrap());

    // Every seed until both a natural 19 and a natural 18 have come up.
    let (mut saw19, mut saw18) = (false, false);
    for seed in 0..400u64 {
        let roll = post(
            &s,
            &token,
            &path(id, "/roll"),
            json!({"kind": "attack", "name": "greataxe", "seed": seed}),
        )
        .await;
        let natural = roll["roll"]["natural"].as_i64().unwrap();
        assert_eq!(roll["critical"], natural >= 19, "seed {seed}: {roll:#}");
        if natural == 19 {
            saw19 = true;
            assert_eq!(roll["damage"]["expr"], crit_damage.as_str(), "{roll:#}");
        }
        if natural == 18 {
            saw18 = true;
            assert_eq!(roll["damage"]["expr"], attack["damage"], "{roll:#}");
        }
        if saw19 && saw18 {
            break;
        }
    }
    assert!(saw19 && saw18);

    // Back to barbarian 18: Indomitable Might — a Strength check counts at least the score.
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"classes": [{"class": "barbarian", "level": 18, "subclass": "berserker"}]})),
        Some(&token),
        Some(3),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let score = r.data()["sheet"]["abilities"]["str"]["score"]["value"]
        .as_i64()
        .unwrap();
    let roll = post(
        &s,
        &token,
        &path(id, "/roll"),
        json!({"kind": "check", "ability": "str", "seed": 1}),
    )
    .await;
    assert_eq!(roll["min_total"]["value"], score, "{roll:#}");
    let raw = roll["roll"]["total"].as_i64().unwrap();
    assert_eq!(roll["total"], raw.max(score));
    let dex = post(
        &s,
        &token,
        &path(id, "/roll"),
        json!({"kind": "check", "ability": "dex", "seed": 1}),
    )
    .await;
    assert!(dex["min_total"].is_null());
    assert_eq!(dex["total"], dex["roll"]["total"]);
}

#[tokio::test]
async fn critical_range_and_floors_sqlite() {
    critical_range_and_floors(Db::Sqlite).await;
}

#[tokio::test]
async fn critical_range_and_floors_postgres() {
    critical_range_and_floors(Db::Postgres).await;
}
