//! Rule packs through the server: listing, the scripting reference, homebrew entries in the
//! compendium, hot reload (edit → live, break → last good stays with the error, fix → live),
//! and `grimoire check-rules`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Db, Options, TestServer, start};
use crate::compendium::srd_file;

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn repo_rules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// A server with a private copy of the repository's rule packs and the SRD imported.
async fn with_packs(db: Db) -> (TestServer, tempfile::TempDir) {
    let rules = tempfile::tempdir().unwrap();
    copy_dir(&repo_rules(), rules.path());
    let srd_dir = srd_file("2014").parent().unwrap().display().to_string();
    let server = start(
        Options::new(db)
            .env("GRIMOIRE_RULES_DIR", rules.path().display().to_string())
            .env("GRIMOIRE_SRD_DIR", srd_dir),
    )
    .await;
    (server, rules)
}

fn pack<'a>(packs: &'a Value, id: &str) -> &'a Value {
    packs["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {packs:#}"))
}

/// Polls `check` for up to ten seconds: reloads happen in the background after a debounce.
async fn eventually(server: &TestServer, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let r = server.get(path, None).await;
        last = r.body.clone();
        if check(&r.body) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never satisfied the check; last: {last:#}");
}

async fn packs_and_reload(db: Db) {
    let (server, rules) = with_packs(db).await;
    let r = server.get("/api/v1/rules/packs", None).await;
    assert_eq!(r.status, 200);
    for id in ["srd", "brawler"] {
        let p = pack(r.data(), id);
        assert_eq!(p["status"], "live", "{p:#}");
        assert!(p["cases"].as_u64().unwrap() > 0, "{id} ran its fixtures");
    }
    let one = server.get("/api/v1/rules/packs/brawler", None).await;
    assert_eq!(one.data()["dependencies"], serde_json::json!(["srd"]));
    let missing = server.get("/api/v1/rules/packs/nope", None).await;
    assert_eq!((missing.status, missing.code()), (404, "PACK_NOT_FOUND"));

    // The pack's homebrew weapon is in the compendium, visible when the pack is enabled.
    let e = server
        .get(
            "/api/v1/compendium/equipment/spiked-gauntlet?packs=brawler",
            None,
        )
        .await;
    assert_eq!(e.status, 200, "{:#}", e.body);
    assert_eq!(e.data()["source"], "brawler");
    assert_eq!(
        server
            .get("/api/v1/compendium/equipment/spiked-gauntlet", None)
            .await
            .status,
        404
    );

    // Edit a data file: the change is live without a restart.
    let data = rules.path().join("examples/brawler/data/equipment.json");
    let text = std::fs::read_to_string(&data).unwrap();
    std::fs::write(
        &data,
        text.replace("Spiked Gauntlet", "Spiked Gauntlet of Testing"),
    )
    .unwrap();
    eventually(
        &server,
        "/api/v1/compendium/equipment/spiked-gauntlet?packs=brawler",
        |b| b["data"]["name"] == "Spiked Gauntlet of Testing",
    )
    .await;

    // Break the manifest: the last good version stays live, marked stale, with the error.
    let manifest = rules.path().join("examples/brawler/pack.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{good}\nthis is = = not toml\n")).unwrap();
    let body = eventually(&server, "/api/v1/rules/packs/brawler", |b| {
        b["data"]["status"] == "stale"
    })
    .await;
    let error = &body["data"]["errors"][0];
    assert_eq!(error["file"], "pack.toml", "{body:#}");
    assert!(error["line"].as_u64().unwrap() > 0, "{body:#}");
    let still = server
        .get(
            "/api/v1/compendium/equipment/spiked-gauntlet?packs=brawler",
            None,
        )
        .await;
    assert_eq!(
        still.data()["name"],
        "Spiked Gauntlet of Testing",
        "the last good version still serves"
    );
    let reload = server.get("/api/v1/rules/packs", None).await;
    assert_eq!(reload.data()["last_reload"]["ok"], false);

    // Fix it: live again, errors gone.
    std::fs::write(&manifest, good).unwrap();
    let body = eventually(&server, "/api/v1/rules/packs/brawler", |b| {
        b["data"]["status"] == "live"
    })
    .await;
    assert_eq!(body["data"]["errors"], serde_json::json!([]));

    // A campaign can now enable the pack.
    let dm = server.register("pack_dm").await;
    let c = server
        .post(
            "/api/v1/campaigns",
            serde_json::json!({"name": "Homebrew night"}),
            Some(&dm),
        )
        .await;
    let id = c.data()["id"].as_i64().unwrap();
    let r = server
        .send(
            server
                .client
                .put(server.url(&format!("/api/v1/campaigns/{id}/packs")))
                .bearer_auth(&dm)
                .json(&serde_json::json!({"packs": ["brawler"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["packs"], serde_json::json!(["brawler"]));

    // Removing the pack's directory removes it and its entries.
    std::fs::remove_dir_all(rules.path().join("examples/brawler")).unwrap();
    eventually(&server, "/api/v1/rules/packs", |b| {
        b["data"]["packs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "brawler")
    })
    .await;
    eventually(
        &server,
        "/api/v1/compendium/equipment/spiked-gauntlet?packs=brawler",
        |b| b["error"]["code"] == "ENTRY_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn packs_load_reload_and_bring_entries_sqlite() {
    packs_and_reload(Db::Sqlite).await;
}

#[tokio::test]
async fn packs_load_reload_and_bring_entries_postgres() {
    packs_and_reload(Db::Postgres).await;
}

#[tokio::test]
async fn the_scripting_reference_is_generated() {
    let (server, _rules) = with_packs(Db::Sqlite).await;
    let r = server.get("/api/v1/rules/api", None).await;
    assert_eq!(r.status, 200);
    let text = r.data().to_string();
    assert!(text.len() > 500, "{text}");
}

#[test]
fn check_rules_reports_file_line_col() {
    let rules = tempfile::tempdir().unwrap();
    copy_dir(&repo_rules(), rules.path());
    let srd_dir = srd_file("2014").parent().unwrap().to_path_buf();
    let run = |dir: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_grimoire"))
            .args(["check-rules", &dir.display().to_string()])
            .env("GRIMOIRE_SRD_DIR", &srd_dir)
            .env("GRIMOIRE_DATA_DIR", rules.path().join("data"))
            .env("GRIMOIRE_RULES_DIR", rules.path())
            .output()
            .unwrap()
    };
    let ok = run(rules.path());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        text.contains("ok     srd") && text.contains("ok     brawler"),
        "{text}"
    );

    // One pack on its own: its dependency (srd) comes from the rules directory, unreported.
    let alone = run(&rules.path().join("examples/storm-herald"));
    let text = String::from_utf8_lossy(&alone.stdout);
    assert!(
        alone.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    assert!(
        text.contains("ok     storm-herald") && !text.contains(" srd "),
        "{text}"
    );

    let feature = rules
        .path()
        .join("examples/brawler/features/pit-fighter.rhai");
    let src = std::fs::read_to_string(&feature).unwrap();
    std::fs::write(&feature, format!("{src}\nfn broken( {{\n")).unwrap();
    let bad = run(&rules.path().join("examples/brawler"));
    assert!(!bad.status.success());
    let text = String::from_utf8_lossy(&bad.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("pit-fighter.rhai:"))
        .unwrap_or_else(|| panic!("{text}"));
    let parts: Vec<&str> = line.splitn(4, ':').collect();
    assert!(
        parts[1].parse::<u32>().unwrap() > 0 && parts[2].parse::<u32>().is_ok(),
        "file:line:col: {line}"
    );
}
