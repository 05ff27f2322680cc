//! Characters through the API: creation with validation for each ability method, the sheet,
//! merge-patch with optimistic concurrency, table actions, rolls, export/import in JSON and XML,
//! campaigns and their homebrew packs, an access matrix over every character route, and
//! consistency under concurrent requests — on SQLite and PostgreSQL.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::{Db, Options, Reply, TestServer, start};
use crate::compendium::srd_file;

/// A server with the repository's rule packs and the SRD imported.
pub async fn rules_server(db: Db) -> TestServer {
    rules_server_with(
        db,
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules"),
    )
    .await
}

/// A server with the rule packs in `rules` and the SRD imported.
pub async fn rules_server_with(db: Db, rules: &std::path::Path) -> TestServer {
    let srd_dir = srd_file("2014").parent().unwrap().display().to_string();
    start(
        Options::new(db)
            .env("GRIMOIRE_RULES_DIR", rules.display().to_string())
            .env("GRIMOIRE_SRD_DIR", srd_dir),
    )
    .await
}

pub async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
    if_match: Option<i64>,
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
    if let Some(v) = if_match {
        req = req.header("If-Match", format!("\"{v}\""));
    }
    server.send(req).await
}

/// A level-1 human barbarian (acolyte), standard array.
pub fn barbarian(name: &str) -> Value {
    json!({
        "name": name,
        "race": "human",
        "class": "barbarian",
        "background": "acolyte",
        "abilities": {"method": "standard_array", "scores": {"str": 15, "dex": 14, "con": 13, "int": 8, "wis": 12, "cha": 10}},
        "proficiencies": ["skill-athletics", "skill-perception"],
        "languages": ["dwarvish", "elvish", "giant"],
        "equipment": [0, 0, 0],
        "extra_equipment": ["amulet"],
        "alignment": "chaotic-good",
        "details": {"appearance": "Tall, scarred", "backstory": "", "personality": "", "notes": ""},
    })
}

pub async fn create(server: &TestServer, token: &str, body: Value) -> Value {
    let r = server.post("/api/v1/characters", body, Some(token)).await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    r.data().clone()
}

fn path(id: i64, rest: &str) -> String {
    format!("/api/v1/characters/{id}{rest}")
}

async fn journey(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("grog_player").await;
    let c = create(&s, &token, barbarian("Grog")).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["version"], 1);
    assert_eq!(c["packs"], json!(["srd"]));
    assert_eq!(c["character"]["creation"]["method"], "standard_array");
    let sheet = &c["sheet"];
    assert_eq!(
        sheet["abilities"]["str"]["score"]["value"], 16,
        "15 + 1 human"
    );
    assert_eq!(sheet["skills"]["athletics"]["proficiency"], 1);
    assert_eq!(sheet["skills"]["insight"]["proficiency"], 1, "from acolyte");
    assert_eq!(sheet["hp"]["max"]["value"], 14, "d12 + Con 14 (+2)");
    assert!(
        sheet["attacks"]["greataxe"].is_object(),
        "{:#}",
        sheet["attacks"]
    );
    assert_eq!(sheet["resources"]["rage"]["remaining"], 2);

    let got = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["etag"], "\"1\"");
    assert_eq!(got.data()["sheet"], c["sheet"]);

    // Rage twice, then no uses left: 409 and nothing written.
    for left in [1, 0] {
        let r = send(
            &s,
            "PATCH",
            &path(id, "/features/rage/use"),
            None,
            Some(&token),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        assert_eq!(r.data()["sheet"]["resources"]["rage"]["remaining"], left);
        assert!(
            r.data()["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["event"] == "feature_used")
        );
    }
    let raging = s.get(&path(id, ""), Some(&token)).await;
    let version = raging.data()["version"].as_i64().unwrap();
    let r = send(
        &s,
        "PATCH",
        &path(id, "/features/rage/use"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "NO_USES_LEFT");
    let after = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!(after.data()["version"], version, "a refusal writes nothing");
    let r = send(
        &s,
        "PATCH",
        &path(id, "/features/nonsense/use"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "FEATURE_NOT_FOUND"));

    // Raging: resistance to slashing halves the damage; temp HP go first.
    let r = s
        .post(
            &path(id, "/heal"),
            json!({"amount": 3, "temp": true}),
            Some(&token),
        )
        .await;
    assert_eq!(r.data()["sheet"]["hp"]["temp"], 3, "{:#}", r.body);
    let r = s
        .post(
            &path(id, "/damage"),
            json!({"amount": 11, "type": "slashing"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["sheet"]["hp"]["temp"], 0);
    assert_eq!(
        r.data()["sheet"]["hp"]["current"],
        12,
        "11 halved to 5, 3 from temp HP: 14 - 2"
    );
    let r = s
        .post(
            &path(id, "/damage"),
            json!({"amount": 1, "type": "glitter"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body["error"]["details"]["fields"]["type"].is_array());
    let r = s
        .post(&path(id, "/heal"), json!({"amount": 50}), Some(&token))
        .await;
    assert_eq!(
        r.data()["sheet"]["hp"]["current"],
        14,
        "healing stops at the maximum"
    );

    // Poisoned (disadvantage on checks) while raging (advantage on Str checks): a normal roll,
    // both sources named.
    let r = s
        .post(
            &path(id, "/conditions"),
            json!({"condition": "poisoned"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"kind": "skill", "skill": "athletics", "seed": 7}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["mode"], "normal", "{:#}", r.body);
    assert!(
        !r.data()["mode_sources"]["advantage"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !r.data()["mode_sources"]["disadvantage"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        r.data()["roll"]["expr"]
            .as_str()
            .unwrap()
            .starts_with("1d20")
    );
    let again = s
        .post(
            &path(id, "/roll"),
            json!({"kind": "skill", "skill": "athletics", "seed": 7}),
            Some(&token),
        )
        .await;
    assert_eq!(
        again.data()["roll"]["total"],
        r.data()["roll"]["total"],
        "a seed replays"
    );
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"kind": "skill", "skill": "stealth"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.data()["mode"], "disadvantage", "poisoned: {:#}", r.body);
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"kind": "attack", "name": "greataxe"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert!(
        r.data()["damage"]["expr"]
            .as_str()
            .unwrap()
            .contains("1d12")
    );
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"expr": "1d20 + @str + @prof"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let total = r.data()["roll"]["total"].as_i64().unwrap();
    assert!((6..=25).contains(&total), "1d20 + 3 + 2 = {total}");
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"expr": "1d20 + @nope"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "INVALID_DICE_EXPRESSION"));
    let r = s
        .post(
            &path(id, "/roll"),
            json!({"kind": "attack", "name": "bow"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "NOT_ON_SHEET"));
    let r = send(
        &s,
        "DELETE",
        &path(id, "/conditions/poisoned"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        &s,
        "DELETE",
        &path(id, "/conditions/poisoned"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "CONDITION_NOT_PRESENT"));
    let r = s
        .post(
            &path(id, "/conditions"),
            json!({"condition": "exhaustion", "level": 2}),
            Some(&token),
        )
        .await;
    assert_eq!(r.data()["sheet"]["exhaustion"], 2);
    let r = s
        .post(
            &path(id, "/conditions"),
            json!({"condition": "dizzy"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "UNKNOWN_CONDITION"));

    // Effects: Bless by hand, then ended by its instance id.
    let r = s
        .post(
            &path(id, "/effects"),
            json!({"effect": "bless"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let fx = r.data()["sheet"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["effect"] == "bless")
        .expect("bless active")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = send(
        &s,
        "DELETE",
        &path(id, &format!("/effects/{fx}")),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        !r.data()["sheet"]["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["effect"] == "bless")
    );
    let r = send(
        &s,
        "DELETE",
        &path(id, &format!("/effects/{fx}")),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "EFFECT_NOT_FOUND"));

    // A long rest recovers rage and one level of exhaustion.
    let r = s
        .post(&path(id, "/rest"), json!({"type": "long"}), Some(&token))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["sheet"]["resources"]["rage"]["remaining"], 2);
    let r = s
        .post(
            &path(id, "/rest"),
            json!({"type": "short", "hit_dice": ["d12", "d12"]}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "NO_HIT_DICE"), "{:#}", r.body);
    let r = s
        .post(&path(id, "/rest"), json!({"type": "nap"}), Some(&token))
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .post(&path(id, "/death-save"), json!({}), Some(&token))
        .await;
    assert_eq!((r.status, r.code()), (409, "NOT_DYING"));

    // PATCH: the version is required, a stale one is refused with the current one.
    let current = s.get(&path(id, ""), Some(&token)).await.data()["version"]
        .as_i64()
        .unwrap();
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"name": "Grog the Strong"})),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (428, "VERSION_REQUIRED"));
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"name": "Grog the Strong"})),
        Some(&token),
        Some(current - 1),
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "VERSION_CONFLICT"));
    assert_eq!(r.body["error"]["details"]["current_version"], current);
    let r = send(
        &s,
        "PATCH",
        &path(id, ""),
        Some(json!({"name": "Grog the Strong", "details": {"notes": "owes Pike 5 gp"}})),
        Some(&token),
        Some(current),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["name"], "Grog the Strong");
    assert_eq!(r.data()["character"]["details"]["notes"], "owes Pike 5 gp");
    assert_eq!(
        r.data()["character"]["details"]["appearance"],
        "Tall, scarred",
        "merge keeps the rest"
    );
    assert_eq!(r.data()["version"], current + 1);
    let v = current + 1;
    for (patch, field) in [
        (json!({"version": v, "race": "dragon"}), "race"),
        (
            json!({"version": v, "abilities": {"str": 40}}),
            "abilities.str",
        ),
        (json!({"version": v, "wings": true}), "wings"),
        (
            json!({"version": v, "classes": [{"class": "barbarian", "level": 30}]}),
            "classes[0].level",
        ),
        (json!({"version": v, "exhaustion": "lots"}), "exhaustion"),
    ] {
        let r = send(
            &s,
            "PATCH",
            &path(id, ""),
            Some(patch.clone()),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(r.status, 422, "{patch}: {:#}", r.body);
        assert!(
            r.body["error"]["details"]["fields"][field].is_array(),
            "{patch}: {:#}",
            r.body
        );
    }

    // Export and import, JSON and XML: the record comes back exactly.
    let exported = s.get(&path(id, "/export?format=json"), Some(&token)).await;
    assert_eq!(exported.status, 200);
    assert!(
        exported.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let doc = exported.body.clone();
    assert_eq!(doc["format"], "grimoire-character");
    assert_eq!(doc["schema_version"], 1);
    let imported = s
        .post("/api/v1/characters/import", doc.clone(), Some(&token))
        .await;
    assert_eq!(imported.status, 201, "{:#}", imported.body);
    let copy = imported.data()["id"].as_i64().unwrap();
    assert_ne!(copy, id);
    let again = s.get(&path(copy, "/export"), Some(&token)).await.body;
    assert_eq!(again["character"], doc["character"]);
    let xml = s
        .client
        .get(s.url(&path(id, "/export?format=xml")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        xml.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = xml.text().await.unwrap();
    assert!(
        xml.contains("http://www.w3.org/2005/xpath-functions"),
        "{xml}"
    );
    let r = s
        .send(
            s.client
                .post(s.url("/api/v1/characters/import"))
                .bearer_auth(&token)
                .header("content-type", "application/xml")
                .body(xml),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let xml_copy = r.data()["id"].as_i64().unwrap();
    let again = s.get(&path(xml_copy, "/export"), Some(&token)).await.body;
    assert_eq!(again["character"], doc["character"]);
    let mut bad = doc.clone();
    bad["schema_version"] = json!(99);
    let r = s.post("/api/v1/characters/import", bad, Some(&token)).await;
    assert_eq!(r.status, 422);
    assert!(r.body["error"]["details"]["fields"]["schema_version"].is_array());
    let mut bad = doc.clone();
    bad["character"]["race"] = json!("dragon");
    let r = s.post("/api/v1/characters/import", bad, Some(&token)).await;
    assert!(
        r.body["error"]["details"]["fields"]["character.race"].is_array(),
        "{:#}",
        r.body
    );
    let r = s
        .send(
            s.client
                .post(s.url("/api/v1/characters/import"))
                .bearer_auth(&token)
                .header("content-type", "application/xml")
                .body("<map><string>unkeyed</string></map>"),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s.get(&path(id, "/export?format=pdf"), Some(&token)).await;
    assert_eq!(r.status, 422);

    // Mine, newest first; then deleted.
    let list = s.get("/api/v1/characters", Some(&token)).await;
    let ids: Vec<i64> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&id));
    assert_eq!(list.data()[0]["level"], 1);
    let r = send(&s, "DELETE", &path(id, ""), None, Some(&token), None).await;
    assert_eq!(r.status, 204);
    let r = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!((r.status, r.code()), (404, "CHARACTER_NOT_FOUND"));
}

#[tokio::test]
async fn character_journey_sqlite() {
    journey(Db::Sqlite).await;
}

#[tokio::test]
async fn character_journey_postgres() {
    journey(Db::Postgres).await;
}

fn fields(r: &Reply) -> &serde_json::Map<String, Value> {
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert_eq!(r.code(), "VALIDATION_FAILED");
    r.body["error"]["details"]["fields"].as_object().unwrap()
}

async fn creation(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("maker").await;

    // Point buy: 25 of 27 points is fine; 29 is refused with the total named.
    let mut pb = barbarian("Buyer");
    pb["abilities"] = json!({"method": "point_buy", "scores": {"str": 15, "dex": 14, "con": 14, "int": 8, "wis": 10, "cha": 8}});
    let c = create(&s, &token, pb.clone()).await;
    assert_eq!(c["character"]["creation"]["method"], "point_buy");
    pb["abilities"]["scores"]["cha"] = json!(12);
    let r = s.post("/api/v1/characters", pb.clone(), Some(&token)).await;
    let f = fields(&r);
    assert!(f.keys().any(|k| k.starts_with("abilities")), "{f:?}");
    assert!(format!("{f:?}").contains("29"), "{f:?}");
    pb["abilities"]["scores"]["cha"] = json!(16);
    let r = s.post("/api/v1/characters", pb, Some(&token)).await;
    assert!(
        fields(&r).contains_key("abilities.scores.cha"),
        "{:#}",
        r.body
    );

    // Standard array: a permutation only.
    let mut sa = barbarian("Arrayed");
    sa["abilities"]["scores"]["str"] = json!(14);
    let r = s.post("/api/v1/characters", sa, Some(&token)).await;
    assert!(
        fields(&r).keys().any(|k| k.starts_with("abilities")),
        "{:#}",
        r.body
    );

    // Rolled: the server rolls, the player assigns those six totals, the roll is used once.
    let rolled = s
        .post("/api/v1/characters/ability-rolls", json!({}), Some(&token))
        .await;
    assert_eq!(rolled.status, 201, "{:#}", rolled.body);
    let roll_id = rolled.data()["id"].as_i64().unwrap();
    let rolls = rolled.data()["rolls"].as_array().unwrap();
    assert_eq!(rolls.len(), 6);
    let mut totals = Vec::new();
    for r in rolls {
        let mut dice: Vec<i64> = r["dice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_i64().unwrap())
            .collect();
        assert_eq!(dice.len(), 4);
        dice.sort_unstable();
        assert_eq!(r["dropped"], dice[0]);
        assert_eq!(r["total"].as_i64().unwrap(), dice[1..].iter().sum::<i64>());
        totals.push(r["total"].as_i64().unwrap());
    }
    let keys = ["str", "dex", "con", "int", "wis", "cha"];
    let scores: serde_json::Map<String, Value> = keys
        .iter()
        .zip(&totals)
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut rd = barbarian("Rolled");
    rd["abilities"] = json!({"method": "rolled", "roll_id": roll_id, "scores": scores});
    let c = create(&s, &token, rd.clone()).await;
    assert_eq!(c["character"]["creation"]["rolls"], json!(totals));
    let r = s.post("/api/v1/characters", rd.clone(), Some(&token)).await;
    assert!(
        fields(&r).contains_key("abilities.roll_id"),
        "a roll makes one character"
    );
    let other = s.register("thief_of_rolls").await;
    let fresh = s
        .post("/api/v1/characters/ability-rolls", json!({}), Some(&token))
        .await;
    rd["abilities"]["roll_id"] = fresh.data()["id"].clone();
    let r = s.post("/api/v1/characters", rd, Some(&other)).await;
    assert!(
        fields(&r).contains_key("abilities.roll_id"),
        "rolls are personal"
    );

    // Skills: the class's count and list; every bad field reported at once.
    let mut bad = barbarian("Wrong");
    bad["proficiencies"] = json!(["skill-athletics", "skill-perception", "skill-survival"]);
    bad["race"] = json!("dragon");
    bad["name"] = json!("");
    let r = s.post("/api/v1/characters", bad, Some(&token)).await;
    let f = fields(&r);
    assert!(f.contains_key("race") && f.contains_key("name"), "{f:?}");
    let text = format!("{f:?}");
    assert!(text.contains("chooses 2"), "{text}");
    let mut bad = barbarian("Wrong");
    bad["proficiencies"] = json!(["skill-athletics", "skill-arcana"]);
    let r = s.post("/api/v1/characters", bad, Some(&token)).await;
    assert!(
        format!("{:?}", fields(&r)).contains("Arcana")
            || fields(&r).keys().any(|k| k.starts_with("proficiencies"))
    );
    let r = s
        .post(
            "/api/v1/characters",
            json!({"name": "x", "speed": 99}),
            Some(&token),
        )
        .await;
    assert!(fields(&r).contains_key("speed"), "unknown fields are named");
    let r = s
        .post(
            "/api/v1/characters",
            json!({"name": "No scores", "race": "human", "class": "fighter"}),
            Some(&token),
        )
        .await;
    assert!(fields(&r).contains_key("abilities"));
    let r = s.post("/api/v1/characters", barbarian("anon"), None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn creation_validation_sqlite() {
    creation(Db::Sqlite).await;
}

#[tokio::test]
async fn creation_validation_postgres() {
    creation(Db::Postgres).await;
}

async fn concurrency(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("rager").await;
    let c = create(&s, &token, barbarian("Rager")).await;
    let id = c["id"].as_i64().unwrap();
    let uses = (0..50).map(|_| {
        let req = s
            .client
            .patch(s.url(&path(id, "/features/rage/use")))
            .bearer_auth(&token);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }
    });
    let results = futures::future::join_all(uses).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"]["code"] == "NO_USES_LEFT")
        .count();
    assert_eq!((ok, refused), (2, 48), "{results:?}");
    let stored = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!(stored.data()["character"]["resources_spent"]["rage"], 2);
    assert_eq!(stored.data()["sheet"]["resources"]["rage"]["remaining"], 0);
    assert_eq!(stored.data()["version"], 3, "exactly two writes");

    // Fifty PATCHes against the same version: one wins, the rest are told the new version.
    let version = 3;
    let patches = (0..50).map(|i| {
        let req = s
            .client
            .patch(s.url(&path(id, "")))
            .bearer_auth(&token)
            .header("If-Match", version.to_string())
            .json(&json!({"name": format!("Rager {i}")}));
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(patches).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    let stored = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!(stored.data()["version"], 4);
    assert_eq!(
        stored.data()["name"],
        stored.data()["character"]["name"],
        "name and record written together"
    );
}

#[tokio::test]
async fn rage_and_patches_under_concurrency_sqlite() {
    concurrency(Db::Sqlite).await;
}

#[tokio::test]
async fn rage_and_patches_under_concurrency_postgres() {
    concurrency(Db::Postgres).await;
}

/// The parts of a sheet that must not depend on how the character got to its level.
fn comparable(sheet: &Value) -> Value {
    let mut s = sheet.clone();
    s["name"] = Value::Null;
    s
}

async fn level_up_matches_creation(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("leveller").await;
    let fighter = |name: &str, level: u32| {
        json!({
            "name": name, "race": "human", "class": "fighter", "level": level,
            "subclass": if level >= 3 { json!("champion") } else { Value::Null },
            "background": "acolyte",
            "abilities": {"method": "standard_array", "scores": {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10}},
            "proficiencies": ["skill-athletics", "skill-perception"],
            "languages": ["dwarvish", "elvish", "giant"],
        })
    };
    let grown = create(&s, &token, fighter("Grown", 1)).await;
    let id = grown["id"].as_i64().unwrap();
    for level in 2..=20 {
        let mut body = json!({"class": "fighter"});
        if level == 3 {
            body["subclass"] = json!("champion");
        }
        let r = s.post(&path(id, "/level-up"), body, Some(&token)).await;
        assert_eq!(r.status, 200, "level {level}: {:#}", r.body);
        assert_eq!(r.data()["sheet"]["level"], level);
    }
    let r = s
        .post(
            &path(id, "/level-up"),
            json!({"class": "fighter"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "MAX_LEVEL"));
    let born = create(&s, &token, fighter("Born", 20)).await;
    let grown = s.get(&path(id, ""), Some(&token)).await;
    assert_eq!(
        comparable(&grown.data()["sheet"]),
        comparable(&born["sheet"])
    );
    assert_eq!(born["sheet"]["hp"]["max"]["value"], 10 + 2 + 19 * (6 + 2));

    // Level-up checks: multiclass prerequisites, subclass ownership, improvements.
    let c = create(&s, &token, fighter("Multi", 3)).await;
    let mid = c["id"].as_i64().unwrap();
    let r = s
        .post(
            &path(mid, "/level-up"),
            json!({"class": "wizard"}),
            Some(&token),
        )
        .await;
    let f = fields(&r);
    assert!(
        format!("{:?}", f["class"]).contains("Intelligence 13"),
        "{f:?}"
    );
    let r = s
        .post(
            &path(mid, "/level-up"),
            json!({"class": "fighter", "subclass": "thief"}),
            Some(&token),
        )
        .await;
    assert!(fields(&r).contains_key("subclass"));
    let r = s
        .post(
            &path(mid, "/level-up"),
            json!({"class": "fighter", "asi": [{"ability": "str", "amount": 2}]}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "fighter 4 grants an improvement: {:#}",
        r.body
    );
    assert_eq!(r.data()["sheet"]["abilities"]["str"]["score"]["value"], 18);
    let r = s
        .post(
            &path(mid, "/level-up"),
            json!({"class": "fighter", "asi": [{"ability": "str", "amount": 2}]}),
            Some(&token),
        )
        .await;
    assert!(format!("{:?}", fields(&r)["asi"]).contains("no ability score improvement"));
    let r = s
        .post(
            &path(mid, "/level-up"),
            json!({"class": "rogue", "hp": "roll"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "Dex 13 allows rogue: {:#}", r.body);
    assert_eq!(r.data()["rolls"][0]["expr"], "1d8");
    assert_eq!(r.data()["sheet"]["classes"]["rogue"], 1);
}

#[tokio::test]
async fn level_up_one_to_twenty_matches_creating_at_twenty_sqlite() {
    level_up_matches_creation(Db::Sqlite).await;
}

#[tokio::test]
async fn level_up_one_to_twenty_matches_creating_at_twenty_postgres() {
    level_up_matches_creation(Db::Postgres).await;
}

/// A campaign (DM, two players, an observer), an outsider, and the first player's barbarian
/// accepted into the campaign.
pub struct Party {
    pub s: TestServer,
    pub campaign: i64,
    pub character: i64,
    pub owner: String,
    pub dm: String,
    pub player: String,
    pub observer: String,
    pub outsider: String,
}

pub async fn party(db: Db) -> Party {
    party_on(rules_server(db).await).await
}

pub async fn party_on(s: TestServer) -> Party {
    let dm = s.register("the_dm").await;
    let owner = s.register("the_owner").await;
    let player = s.register("another_player").await;
    let observer = s.register("the_observer").await;
    let outsider = s.register("the_outsider").await;
    let created = s
        .post("/api/v1/campaigns", json!({"name": "Party"}), Some(&dm))
        .await;
    let campaign = created.data()["id"].as_i64().unwrap();
    let code = created.data()["invite_code"].as_str().unwrap().to_string();
    for t in [&owner, &player] {
        let r = s
            .post("/api/v1/campaigns/join", json!({"code": code}), Some(t))
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
    let r = s
        .post(
            "/api/v1/campaigns/join",
            json!({"code": code}),
            Some(&observer),
        )
        .await;
    assert_eq!(r.status, 200);
    let me = s.get("/api/v1/auth/me", Some(&observer)).await.data()["id"]
        .as_i64()
        .unwrap();
    let r = send(
        &s,
        "PATCH",
        &format!("/api/v1/campaigns/{campaign}/members/{me}"),
        Some(json!({"role": "observer"})),
        Some(&dm),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);

    let c = create(&s, &owner, barbarian("Partymember")).await;
    let character = c["id"].as_i64().unwrap();
    let r = send(
        &s,
        "PUT",
        &path(character, "/campaign"),
        Some(json!({"campaign_id": campaign})),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["campaign_status"], "pending");
    // Pending: the DM sees it, the other members do not yet.
    let r = s.get(&path(character, ""), Some(&player)).await;
    assert_eq!(r.status, 404);
    let listed = s
        .get(
            &format!("/api/v1/characters?campaign={campaign}"),
            Some(&dm),
        )
        .await;
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    let listed = s
        .get(
            &format!("/api/v1/characters?campaign={campaign}"),
            Some(&player),
        )
        .await;
    assert_eq!(listed.data().as_array().unwrap().len(), 0);
    let r = s
        .post(
            &format!("/api/v1/campaigns/{campaign}/characters/{character}/accept"),
            json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, 403, "only the DM accepts");
    let r = s
        .post(
            &format!("/api/v1/campaigns/{campaign}/characters/{character}/accept"),
            json!({}),
            Some(&dm),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["campaign_status"], "accepted");
    Party {
        s,
        campaign,
        character,
        owner,
        dm,
        player,
        observer,
        outsider,
    }
}

async fn access_matrix(db: Db) {
    let p = party(db).await;
    let (s, c, id) = (&p.s, p.campaign, p.character);
    // (method, path, body, [owner, dm, player, observer, outsider, anonymous])
    let routes: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        ("GET", path(id, ""), None, [200, 200, 200, 200, 404, 401]),
        (
            "GET",
            path(id, "/export"),
            None,
            [200, 200, 200, 200, 404, 401],
        ),
        (
            "GET",
            format!("/api/v1/characters?campaign={c}"),
            None,
            [200, 200, 200, 200, 404, 401],
        ),
        (
            "GET",
            "/api/v1/characters".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "PATCH",
            path(id, ""),
            Some(json!({"details": {"notes": "x"}})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "PATCH",
            path(id, "/features/rage/use"),
            None,
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/rest"),
            Some(json!({"type": "long"})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/effects"),
            Some(json!({"effect": "bless"})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "DELETE",
            path(id, "/effects/fx-999"),
            None,
            [404, 404, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/conditions"),
            Some(json!({"condition": "prone"})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "DELETE",
            path(id, "/conditions/blinded"),
            None,
            [404, 404, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/damage"),
            Some(json!({"amount": 1})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/heal"),
            Some(json!({"amount": 1})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/death-save"),
            None,
            [409, 409, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/slots"),
            Some(json!({"action": "spend", "level": 1})),
            [409, 409, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/level-up"),
            Some(json!({"class": "barbarian"})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            path(id, "/roll"),
            Some(json!({"kind": "save", "ability": "str"})),
            [200, 200, 403, 403, 404, 401],
        ),
        (
            "POST",
            "/api/v1/characters/ability-rolls".into(),
            None,
            [201, 201, 201, 201, 201, 401],
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{c}/characters/{id}/accept"),
            None,
            [403, 409, 403, 403, 404, 401],
        ),
        (
            "PUT",
            path(id, "/campaign"),
            Some(json!({"campaign_id": c})),
            [200, 403, 403, 403, 404, 401],
        ),
        ("DELETE", path(id, ""), None, [204, 403, 403, 403, 404, 401]),
    ];
    let callers = [
        Some(&p.owner),
        Some(&p.dm),
        Some(&p.player),
        Some(&p.observer),
        Some(&p.outsider),
        None,
    ];
    let names = ["owner", "dm", "player", "observer", "outsider", "anonymous"];
    for (method, route, body, expected) in &routes {
        // Callers in reverse, so the owner's change (the re-join, the deletion) comes last.
        for i in (0..callers.len()).rev() {
            let token = callers[i].map(String::as_str);
            let mut body = body.clone();
            if *method == "PATCH" && route == &path(id, "") {
                let v = s.get(&path(id, ""), Some(&p.owner)).await.data()["version"].clone();
                body.as_mut().unwrap()["version"] = v;
            }
            let r = send(s, method, route, body, token, None).await;
            assert_eq!(
                r.status, expected[i],
                "{method} {route} as {}: {:#}",
                names[i], r.body
            );
            if r.status >= 400 {
                r.code();
            }
            // The re-join made it pending again: the DM accepts it before the next route.
            if *method == "PUT" && r.status == 200 {
                assert_eq!(r.data()["campaign_status"], "pending");
                let r = s
                    .post(
                        &format!("/api/v1/campaigns/{c}/characters/{id}/accept"),
                        json!({}),
                        Some(&p.dm),
                    )
                    .await;
                assert_eq!(r.status, 200);
            }
        }
    }
}

#[tokio::test]
async fn character_access_matrix_sqlite() {
    access_matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn character_access_matrix_postgres() {
    access_matrix(Db::Postgres).await;
}

async fn campaign_packs(db: Db) {
    let p = party(db).await;
    let (s, c, id) = (&p.s, p.campaign, p.character);
    let r = s
        .post(
            &path(id, "/conditions"),
            json!({"condition": "exhaustion", "level": 2}),
            Some(&p.owner),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(
        r.data()["sheet"]["speed"]["walk"]["value"],
        15,
        "SRD exhaustion 2 halves speed"
    );
    assert_eq!(r.data()["packs"], json!(["srd"]));

    // The DM enables the homebrew pack: the campaign's sheets are derived with it at once.
    let r = send(
        s,
        "PUT",
        &format!("/api/v1/campaigns/{c}/packs"),
        Some(json!({"packs": ["brawler"]})),
        Some(&p.dm),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = s.get(&path(id, ""), Some(&p.player)).await;
    assert_eq!(r.data()["packs"], json!(["srd", "brawler"]));
    assert_eq!(
        r.data()["sheet"]["speed"]["walk"]["value"],
        20,
        "brawler: -5 ft per level"
    );

    // The campaign's compendium shows the pack's entries to its members, and only to them.
    let gauntlet = format!("/api/v1/compendium/equipment/spiked-gauntlet?campaign={c}");
    let r = s.get(&gauntlet, Some(&p.observer)).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["source"], "brawler");
    assert_eq!(
        s.get("/api/v1/compendium/equipment/spiked-gauntlet", None)
            .await
            .status,
        404
    );
    let r = s.get(&gauntlet, Some(&p.outsider)).await;
    assert_eq!((r.status, r.code()), (404, "CAMPAIGN_NOT_FOUND"));
    let r = s.get(&gauntlet, None).await;
    assert_eq!((r.status, r.code()), (401, "AUTH_REQUIRED"));
    let r = s
        .get(&format!("{gauntlet}&packs=brawler"), Some(&p.dm))
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .get(
            &format!("/api/v1/compendium/search?q=gauntlet&campaign={c}"),
            Some(&p.player),
        )
        .await;
    assert!(
        r.data()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["slug"] == "spiked-gauntlet"),
        "{:#}",
        r.body
    );

    // The DM hides the gauntlet: it is gone from the members' view, and still in the DM's.
    let hide = format!("/api/v1/campaigns/{c}/hidden-entries/equipment/spiked-gauntlet");
    let r = send(s, "PUT", &hide, None, Some(&p.player), None).await;
    assert_eq!(r.status, 403);
    let r = send(
        s,
        "PUT",
        &format!("/api/v1/campaigns/{c}/hidden-entries/equipment/no-such-thing"),
        None,
        Some(&p.dm),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (404, "ENTRY_NOT_FOUND"));
    let r = send(s, "PUT", &hide, None, Some(&p.dm), None).await;
    assert_eq!(r.status, 204, "{:#}", r.body);
    let r = s
        .get(
            &format!("/api/v1/campaigns/{c}/hidden-entries"),
            Some(&p.dm),
        )
        .await;
    assert_eq!(
        r.data(),
        &json!([{"type": "equipment", "slug": "spiked-gauntlet"}])
    );
    assert_eq!(s.get(&gauntlet, Some(&p.player)).await.status, 404);
    assert_eq!(s.get(&gauntlet, Some(&p.dm)).await.status, 200);
    let search = format!("/api/v1/compendium/search?q=gauntlet&campaign={c}");
    let r = s.get(&search, Some(&p.observer)).await;
    assert!(
        !r.data()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["slug"] == "spiked-gauntlet"),
        "{:#}",
        r.body
    );
    let list = format!("/api/v1/compendium/equipment?q=gauntlet&campaign={c}");
    let r = s.get(&list, Some(&p.player)).await;
    assert!(
        !r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["slug"] == "spiked-gauntlet"),
        "{:#}",
        r.body
    );
    let r = s.get(&list, Some(&p.dm)).await;
    assert!(
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["slug"] == "spiked-gauntlet"),
        "{:#}",
        r.body
    );
    let r = send(s, "DELETE", &hide, None, Some(&p.dm), None).await;
    assert_eq!(r.status, 204);
    let r = send(s, "DELETE", &hide, None, Some(&p.dm), None).await;
    assert_eq!((r.status, r.code()), (404, "NOT_HIDDEN"));
    assert_eq!(
        s.get(&gauntlet, Some(&p.player)).await.status,
        200,
        "shown again"
    );

    // The DM removes the character: it is back on the SRD alone, and hidden from the party.
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}/characters/{id}"),
        None,
        Some(&p.player),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        s,
        "DELETE",
        &format!("/api/v1/campaigns/{c}/characters/{id}"),
        None,
        Some(&p.dm),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    let r = s.get(&path(id, ""), Some(&p.owner)).await;
    assert_eq!(r.data()["campaign_id"], Value::Null);
    assert_eq!(r.data()["sheet"]["speed"]["walk"]["value"], 15);
    assert_eq!(s.get(&path(id, ""), Some(&p.player)).await.status, 404);
    assert_eq!(s.get(&path(id, ""), Some(&p.dm)).await.status, 404);

    // Observers bring no characters; leaving takes the character along.
    let mine = create(s, &p.observer, barbarian("Watcher")).await;
    let r = send(
        s,
        "PUT",
        &path(mine["id"].as_i64().unwrap(), "/campaign"),
        Some(json!({"campaign_id": c})),
        Some(&p.observer),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(
        s,
        "PUT",
        &path(id, "/campaign"),
        Some(json!({"campaign_id": c})),
        Some(&p.owner),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        s,
        "DELETE",
        &path(id, "/campaign"),
        None,
        Some(&p.owner),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let r = send(
        s,
        "DELETE",
        &path(id, "/campaign"),
        None,
        Some(&p.owner),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (409, "NOT_IN_CAMPAIGN"));
}

#[tokio::test]
async fn campaign_packs_change_sheets_sqlite() {
    campaign_packs(Db::Sqlite).await;
}

#[tokio::test]
async fn campaign_packs_change_sheets_postgres() {
    campaign_packs(Db::Postgres).await;
}

/// Two servers on one PostgreSQL database: no in-process queue spans them, so the versioned
/// write alone must keep the count right.
#[tokio::test]
async fn rage_across_two_servers_postgres() {
    let url = crate::common::fresh_postgres().await;
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let srd_dir = srd_file("2014").parent().unwrap().display().to_string();
    let options = || {
        Options::new(Db::Sqlite)
            .env("DATABASE_URL", url.clone())
            .env("JWT_SECRET", "one secret shared by both servers, 32+ bytes")
            .env("GRIMOIRE_RULES_DIR", rules.display().to_string())
            .env("GRIMOIRE_SRD_DIR", srd_dir.clone())
    };
    let a = start(options()).await;
    let b = start(options()).await;
    let token = a.register("two_tables").await;
    let c = create(&a, &token, barbarian("Split")).await;
    let id = c["id"].as_i64().unwrap();
    let uses = (0..40).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        let req = server
            .client
            .patch(server.url(&path(id, "/features/rage/use")))
            .bearer_auth(&token);
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(uses).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        38,
        "{statuses:?}"
    );
    let stored = b.get(&path(id, ""), Some(&token)).await;
    assert_eq!(stored.data()["character"]["resources_spent"]["rage"], 2);
    assert_eq!(stored.data()["version"], 3);
}

async fn spell_slots(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("caster").await;
    let c = create(
        &s,
        &token,
        json!({
            "name": "Lay", "race": "human", "class": "paladin", "level": 2, "background": "acolyte",
            "abilities": {"method": "standard_array", "scores": {"str": 15, "dex": 10, "con": 13, "int": 8, "wis": 12, "cha": 14}},
            "proficiencies": ["skill-athletics", "skill-persuasion"],
            "languages": ["dwarvish", "elvish", "giant"],
        }),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        c["sheet"]["slots"]["1"]["max"], 2,
        "{:#}",
        c["sheet"]["slots"]
    );
    for left in [1, 0] {
        let r = s
            .post(
                &path(id, "/slots"),
                json!({"action": "spend", "level": 1}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        assert_eq!(r.data()["sheet"]["slots"]["1"]["remaining"], left);
    }
    let r = s
        .post(
            &path(id, "/slots"),
            json!({"action": "spend", "level": 1}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 409, "{:#}", r.body);
    assert_eq!(r.body["error"]["details"]["reason"], "no_slot");
    let r = s
        .post(
            &path(id, "/slots"),
            json!({"action": "restore", "level": 1}),
            Some(&token),
        )
        .await;
    assert_eq!(r.data()["sheet"]["slots"]["1"]["remaining"], 1);
    let r = s
        .post(
            &path(id, "/slots"),
            json!({"action": "spend", "level": 0}),
            Some(&token),
        )
        .await;
    assert!(fields(&r).contains_key("level"));
    let r = s
        .post(
            &path(id, "/slots"),
            json!({"action": "spend", "pact": true}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 409, "a paladin has no Pact Magic: {:#}", r.body);
    let r = s
        .post(&path(id, "/rest"), json!({"type": "long"}), Some(&token))
        .await;
    assert_eq!(r.data()["sheet"]["slots"]["1"]["remaining"], 2);
}

#[tokio::test]
async fn spell_slots_spent_and_regained_sqlite() {
    spell_slots(Db::Sqlite).await;
}

#[tokio::test]
async fn spell_slots_spent_and_regained_postgres() {
    spell_slots(Db::Postgres).await;
}
