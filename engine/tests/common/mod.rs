//! Shared helpers for the rules tests: the SRD compendium from the fetched SQLite file and the
//! repository's rule packs.
#![allow(dead_code)]

use grimoire_engine::compendium::Compendium;
use grimoire_engine::registry::Registry;
use grimoire_engine::rules::RuleSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The SRD tables the engine reads (creation also checks languages, spells, alignments and
/// equipment categories; Wild Shape reads monsters).
const TABLES: [&str; 18] = [
    "classes",
    "subclasses",
    "levels",
    "features",
    "races",
    "subraces",
    "traits",
    "equipment",
    "equipment_categories",
    "magic_items",
    "skills",
    "proficiencies",
    "backgrounds",
    "languages",
    "spells",
    "alignments",
    "ability_scores",
    "monsters",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The compendium, loaded once per test binary.
pub fn compendium() -> &'static Compendium {
    static C: OnceLock<Compendium> = OnceLock::new();
    C.get_or_init(|| {
        let path = repo().join(".srd/dnd5e-2014-en-v5.10.0.sqlite3");
        assert!(
            path.is_file(),
            "SRD data missing at {}: run scripts/fetch-srd.sh",
            path.display()
        );
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open SRD sqlite (run scripts/fetch-srd.sh)");
        let mut records = Vec::new();
        for t in TABLES {
            let mut st = db
                .prepare(&format!("SELECT \"index\", data FROM {t}"))
                .expect("SRD table (run scripts/fetch-srd.sh)");
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .expect("query");
            for row in rows {
                let (slug, data) = row.expect("row");
                let v: serde_json::Value = serde_json::from_str(&data).expect("json");
                records.push((t.to_string(), slug, v));
            }
        }
        Compendium::from_records(records)
    })
}

/// A registry with `rules/srd` and `rules/examples/*` loaded; panics with every error if any
/// pack fails.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let r = Registry::new(compendium().clone());
        let mut errors = Vec::new();
        for (dir, res) in r.load_dir(&repo().join("rules")) {
            if let Err((id, errs)) = res {
                errors.push(format!("{} ({id}):", dir.display()));
                errors.extend(errs.iter().map(|e| format!("  {e}")));
            }
        }
        assert!(
            errors.is_empty(),
            "packs failed to load:\n{}",
            errors.join("\n")
        );
        r
    })
}

pub fn srd() -> Arc<RuleSet> {
    registry().ruleset(&["srd"]).expect("srd rule set")
}

/// A WAT bump allocator exported as `gr_alloc` (the plugin ABI's), over a mutable global
/// `$heap`; it grows memory as needed and traps when growth is refused. For hand-written test
/// plugins.
pub const WAT_ALLOC: &str = r#"(func (export "gr_alloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u
                (i32.add (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
                         (i32.const 65535))
                (i32.const 16)))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $p))"#;
