//! `/api/v1/dice` and `grimoire roll` against the real server and binary.

use serde_json::json;

use crate::common::{Db, Options, start};

#[tokio::test]
async fn rolls_explain_every_die_and_replay_by_seed() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "1d20+@str", "values": {"str": 5}}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let d = r.data();
    let total = d["total"].as_i64().unwrap();
    assert!((6..=25).contains(&total));
    assert_eq!(d["natural"].as_i64().unwrap() + 5, total);
    let details = d["details"].as_str().unwrap();
    assert!(
        details.starts_with("1d20 (") && details.ends_with(&format!("= {total}")),
        "{details}"
    );
    assert!(d["tree"].is_object());

    // The same seed replays the same dice.
    let seed = d["seed"].as_u64().unwrap();
    let again = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "1d20+@str", "values": {"str": 5}, "seed": seed}),
            None,
        )
        .await;
    assert_eq!(again.data()["details"], d["details"]);

    // A dropped die is marked in the rendering: 4d6kh3 always drops one.
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "4d6kh3", "seed": 1}),
            None,
        )
        .await;
    assert!(
        r.data()["details"].as_str().unwrap().contains("~~"),
        "{:#}",
        r.body
    );

    // Options: advantage turns the d20 into two; maximize gives the highest faces.
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "1d20+2", "options": {"advantage": true}}),
            None,
        )
        .await;
    assert_eq!(r.data()["advantage_applied"], true);
    assert!(
        r.data()["details"].as_str().unwrap().starts_with("2d20kh1"),
        "{:#}",
        r.body
    );
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "8d6[fire]", "options": {"maximize": true}}),
            None,
        )
        .await;
    assert_eq!(r.data()["total"], 48);
    assert!(r.data()["details"].as_str().unwrap().contains("fire"));
}

#[tokio::test]
async fn bad_expressions_get_kind_and_offset() {
    let server = start(Options::new(Db::Sqlite)).await;
    for (expr, kind, offset) in [
        ("1d20+", "unexpected_end", 5),
        ("1d20 + x", "unexpected_character", 7),
        ("(1d6", "unbalanced_paren", 0),
        ("1001d6", "too_many_dice", 0),
        ("1d1!", "infinite_explode", 3),
        ("1d0", "zero_sided_die", 2),
        ("1d20+@dex", "unknown_variable", 5),
    ] {
        let r = server
            .post("/api/v1/dice/roll", json!({"expr": expr}), None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "INVALID_DICE_EXPRESSION"),
            "{expr}"
        );
        let details = &r.body["error"]["details"];
        assert_eq!(details["kind"], kind, "{expr}: {:#}", r.body);
        assert_eq!(details["offset"], offset, "{expr}: {:#}", r.body);
        assert_eq!(details["expr"], expr);
    }
    let long = format!("{}1", "1+".repeat(3000));
    let r = server
        .post("/api/v1/dice/roll", json!({"expr": long}), None)
        .await;
    assert_eq!(r.body["error"]["details"]["kind"], "input_too_long");
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let r = server
        .post("/api/v1/dice/roll", json!({"expr": deep}), None)
        .await;
    assert_eq!(r.status, 422, "deep nesting is refused, not a crash");
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "1d6", "values": [1]}),
            None,
        )
        .await;
    assert!(r.body["error"]["details"]["fields"]["values"].is_array());
    let r = server
        .post(
            "/api/v1/dice/roll",
            json!({"expr": "1d6", "options": {"advantage": "yes"}}),
            None,
        )
        .await;
    assert!(
        r.body["error"]["details"]["fields"]["options.advantage"].is_array(),
        "{:#}",
        r.body
    );
}

#[tokio::test]
async fn odds_are_exact() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server
        .post(
            "/api/v1/dice/odds",
            json!({"expr": "1d20+7", "target": 15, "options": {"advantage": true}}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let d = r.data();
    // 1 - (7/20)^2 = 0.8775
    assert!((d["at_least"]["probability"].as_f64().unwrap() - 0.8775).abs() < 1e-12);
    assert_eq!((d["min"].as_i64(), d["max"].as_i64()), (Some(8), Some(27)));
    assert!(d["distribution"].is_null(), "only when asked");

    let r = server
        .post(
            "/api/v1/dice/odds",
            json!({"expr": "2d6", "distribution": true}),
            None,
        )
        .await;
    let dist = r.data()["distribution"].as_array().unwrap();
    assert_eq!(dist.len(), 11);
    let seven = dist.iter().find(|o| o["total"] == 7).unwrap();
    assert!((seven["probability"].as_f64().unwrap() - 6.0 / 36.0).abs() < 1e-12);
    assert!((r.data()["mean"].as_f64().unwrap() - 7.0).abs() < 1e-12);

    let r = server
        .post("/api/v1/dice/odds", json!({"expr": "4d6kh3"}), None)
        .await;
    assert!((r.data()["mean"].as_f64().unwrap() - 12.2446).abs() < 1e-4);
    let r = server
        .post("/api/v1/dice/odds", json!({"expr": "1d20+"}), None)
        .await;
    assert_eq!((r.status, r.code()), (422, "INVALID_DICE_EXPRESSION"));
}

#[test]
fn the_cli_rolls_explains_and_points_at_errors() {
    let bin = env!("CARGO_BIN_EXE_grimoire");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();

    let out = run(&["roll", "4d6kh3", "--seed", "9"]);
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        line.starts_with("4d6kh3 (") && line.contains("~~"),
        "{line}"
    );
    assert_eq!(
        String::from_utf8_lossy(&run(&["roll", "4d6kh3", "--seed", "9"]).stdout).trim(),
        line,
        "seeded"
    );

    let out = run(&["roll", "--odds", "1d20+7", "--target", "15"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("P(total >= 15) = 0.6500"), "{text}");

    let out = run(&["roll", "1d20+@str", "--value", "str=3", "--json", "--max"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 23);

    let out = run(&["roll", "1d20 + x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].contains("unexpected_character"), "{err}");
    assert_eq!(lines[1], "  1d20 + x");
    assert_eq!(lines[2], "         ^", "the caret sits under the x: {err}");
}
