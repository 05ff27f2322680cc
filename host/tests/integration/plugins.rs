//! WASM plugins through the server: a pack with a plugin goes live with its fixtures, a rebuilt
//! `.wasm` is picked up without a restart and changes a campaign character's sheet, a broken or
//! looping one keeps the last good version live (stale, with the plugin's named error) while the
//! server goes on answering.

use serde_json::{Value, json};
use std::path::Path;

use crate::characters::{party_on, rules_server_with, send};
use crate::common::{Db, TestServer};
use crate::rules::{copy_dir, repo_rules};

/// `(ptr << 32) | len` of a hook's answer.
fn packed(at: usize, len: usize) -> i64 {
    ((at as i64) << 32) | len as i64
}

fn wat_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A core plugin (it applies to every character of a campaign that enables its pack) whose
/// `modifiers` hook runs `modifiers` (WAT instructions leaving an i64) or answers `+bonus` AC.
fn ward(bonus: i64, modifiers: Option<&str>) -> Vec<u8> {
    let meta = r#"{"ok":{"id":"ward","name":"Ward","kind":"core"}}"#;
    let mods = format!(r#"{{"ok":[{{"target":"ac","op":"add","value":{bonus}}}]}}"#);
    let body = modifiers
        .map(str::to_string)
        .unwrap_or_else(|| format!("(i64.const {})", packed(1024, mods.len())));
    let text = format!(
        r#"(module
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 4096))
  (data (i32.const 0) "{meta}")
  (data (i32.const 1024) "{mods}")
  (func (export "gr_abi_version") (result i32) (i32.const 1))
  (func (export "gr_alloc") (param $len i32) (result i32) (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (local.get $p) (local.get $len)))
    (block $fits
      (br_if $fits (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
      (drop (memory.grow (i32.add (i32.shr_u (local.get $len) (i32.const 16)) (i32.const 1)))))
    (local.get $p))
  (func (export "gr_meta") (param i32 i32) (result i64) (i64.const {meta_at}))
  (func (export "gr_modifiers") (param i32 i32) (result i64) {body}))"#,
        meta = wat_string(meta),
        mods = wat_string(&mods),
        meta_at = packed(0, meta.len()),
    );
    wat::parse_str(text).expect("valid WAT")
}

/// The `ward` pack: a manifest, the plugin and one fixture expecting `ac` for an unarmoured
/// Dex 10 fighter.
fn write_pack(dir: &Path, bonus: i64, expect_ac: i64) {
    std::fs::create_dir_all(dir.join("plugins/ward")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("pack.toml"),
        "id = \"ward\"\nname = \"Ward\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plugins/ward/plugin.toml"),
        "id = \"ward\"\nversion = \"1.0.0\"\napi = 1\nwasm = \"ward.wasm\"\nhooks = [\"meta\", \"modifiers\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/ward.toml"),
        format!(
            "[[case]]\nname = \"the ward adds to AC\"\ncharacter = {{ classes = [{{ class = \"fighter\", level = 1 }}], abilities = {{ dex = 10 }} }}\n[case.expect]\n\"ac\" = {expect_ac}\n"
        ),
    )
    .unwrap();
    write_wasm(dir, &ward(bonus, None));
}

/// Replaces the module the way a build does: a new file renamed over the old one.
fn write_wasm(dir: &Path, bytes: &[u8]) {
    let tmp = dir.join("plugins/ward/.ward.wasm.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join("plugins/ward/ward.wasm")).unwrap();
}

async fn pack_when(s: &TestServer, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..150 {
        let r = s.get("/api/v1/rules/packs/ward", None).await;
        if r.status == 200 && check(r.data()) {
            return r.data().clone();
        }
        last = r.body;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the ward pack never reached the expected state; last: {last:#}");
}

async fn ac(s: &TestServer, character: i64, token: &str) -> i64 {
    let r = s
        .get(&format!("/api/v1/characters/{character}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    r.data()["sheet"]["ac"]["value"].as_i64().unwrap()
}

async fn plugin_hot_reload(db: Db) {
    let rules = tempfile::tempdir().unwrap();
    copy_dir(&repo_rules().join("srd"), &rules.path().join("srd"));
    let pack = rules.path().join("ward");
    write_pack(&pack, 1, 11);
    let p = party_on(rules_server_with(db, rules.path()).await).await;
    let s = &p.s;

    let live = pack_when(s, |p| p["status"] == "live").await;
    assert_eq!(
        live["cases"], 1,
        "the fixture ran through the plugin: {live:#}"
    );
    let before = ac(s, p.character, &p.owner).await;
    let r = send(
        s,
        "PUT",
        &format!("/api/v1/campaigns/{}/packs", p.campaign),
        Some(json!({"packs": ["ward"]})),
        Some(&p.dm),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(ac(s, p.character, &p.owner).await, before + 1);

    // A rebuilt plugin is live without a restart: the pack's fixture and the sheet follow it.
    std::fs::write(
        pack.join("tests/ward.toml"),
        std::fs::read_to_string(pack.join("tests/ward.toml"))
            .unwrap()
            .replace("\"ac\" = 11", "\"ac\" = 12"),
    )
    .unwrap();
    write_wasm(&pack, &ward(2, None));
    let rebuilt = pack_when(s, |p| p["status"] == "live" && p["hash"] != live["hash"]).await;
    assert!(rebuilt["errors"].as_array().unwrap().is_empty());
    assert_eq!(ac(s, p.character, &p.owner).await, before + 2);

    // Garbage instead of a module: the last good version stays, with the plugin's error.
    write_wasm(&pack, b"not a module");
    let stale = pack_when(s, |p| p["status"] == "stale").await;
    assert_eq!(stale["hash"], rebuilt["hash"], "{stale:#}");
    let error = &stale["errors"][0];
    assert_eq!(error["file"], "plugins/ward/plugin.toml", "{stale:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not a valid plugin module"),
        "{stale:#}"
    );
    assert_eq!(ac(s, p.character, &p.owner).await, before + 2);

    // A plugin that never returns fails its fixture by its fuel limit; the server keeps
    // answering and the last good version keeps serving sheets.
    write_wasm(
        &pack,
        &ward(0, Some("(loop $spin (br $spin)) (i64.const 0)")),
    );
    let looping = pack_when(s, |p| {
        p["status"] == "stale" && p["errors"].to_string().contains("fuel limit")
    })
    .await;
    assert!(
        looping["errors"].to_string().contains("hook modifiers"),
        "{looping:#}"
    );
    assert_eq!(s.get("/health", None).await.status, 200);
    assert_eq!(ac(s, p.character, &p.owner).await, before + 2);

    // Fixed again: live.
    write_wasm(&pack, &ward(2, None));
    pack_when(s, |p| p["status"] == "live").await;
}

#[tokio::test]
async fn plugin_hot_reload_sqlite() {
    plugin_hot_reload(Db::Sqlite).await;
}

#[tokio::test]
async fn plugin_hot_reload_postgres() {
    plugin_hot_reload(Db::Postgres).await;
}
