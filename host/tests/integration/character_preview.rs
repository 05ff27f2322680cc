//! `POST /api/v1/characters/preview`: the wizard's check validates like creation, answers the
//! record and its sheet, and stores nothing (nor uses up an ability roll).

use serde_json::json;

use crate::characters::{barbarian, rules_server};
use crate::common::Db;

async fn preview(db: Db) {
    let s = rules_server(db).await;
    let token = s.register("previewer").await;

    let r = s
        .post(
            "/api/v1/characters/preview",
            barbarian("Grog"),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let d = r.data();
    assert_eq!(d["character"]["race"], "human");
    assert_eq!(
        d["sheet"]["hp"]["max"]["value"], 14,
        "{:#}",
        d["sheet"]["hp"]
    );
    assert!(d["sheet"]["attacks"]["greataxe"].is_object());
    // Nothing was stored.
    let list = s.get("/api/v1/characters", Some(&token)).await;
    assert_eq!(list.data().as_array().map(Vec::len), Some(0));

    // The same field errors as creation, by path.
    let mut bad = barbarian("Grog");
    bad["proficiencies"] = json!(["skill-athletics", "skill-perception", "skill-nature"]);
    bad["equipment"] = json!([7, 0, 0]);
    let r = s
        .post("/api/v1/characters/preview", bad, Some(&token))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "VALIDATION_FAILED");
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("proficiencies"), "{fields:?}");
    assert!(fields.contains_key("equipment[0]"), "{fields:?}");

    // A roll is read, not used up: previewing twice and then creating all work.
    let rolls = s
        .post("/api/v1/characters/ability-rolls", json!({}), Some(&token))
        .await;
    let roll_id = rolls.data()["id"].as_i64().unwrap();
    let totals: Vec<i64> = rolls.data()["rolls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_i64().unwrap())
        .collect();
    let mut rolled = barbarian("Rolled");
    rolled["abilities"] = json!({"method": "rolled", "roll_id": roll_id, "scores": {
        "str": totals[0], "dex": totals[1], "con": totals[2],
        "int": totals[3], "wis": totals[4], "cha": totals[5]}});
    for _ in 0..2 {
        let r = s
            .post("/api/v1/characters/preview", rolled.clone(), Some(&token))
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
    }
    let r = s.post("/api/v1/characters", rolled, Some(&token)).await;
    assert_eq!(r.status, 201, "{:#}", r.body);

    // Signed out: 401.
    let r = s
        .post("/api/v1/characters/preview", barbarian("X"), None)
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn character_preview_sqlite() {
    preview(Db::Sqlite).await;
}
