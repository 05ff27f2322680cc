//! Rule packs end to end: loading the repository's packs, their fixtures, check_packs, the
//! sandbox limits, dependency cycles and hot reload (keep last good, report, recover).

mod common;

use grimoire_engine::character::{Character, ClassLevels};
use grimoire_engine::check::check_packs;
use grimoire_engine::derive::derive;
use grimoire_engine::pack::{self, Sources};
use grimoire_engine::registry::{Registry, Status};
use std::path::PathBuf;

fn sources(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}

fn manifest(id: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n"
    )
}

fn fighter(feats: &[&str]) -> Character {
    Character {
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level: 1,
            ..Default::default()
        }],
        feats: feats.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A registry holding only the SRD pack (tests that change packs need their own).
fn srd_registry() -> Registry {
    let r = Registry::new(common::compendium().clone());
    let src = pack::load_dir(&common::repo().join("rules/srd")).expect("read rules/srd");
    r.reload_pack("srd", &src).expect("srd loads");
    r
}

#[test]
fn repository_packs_load_live_with_their_fixtures() {
    let r = common::registry();
    let packs = r.packs();
    let srd = packs.iter().find(|p| p.id == "srd").expect("srd");
    assert_eq!(srd.status, Status::Live);
    assert!(srd.cases >= 50, "srd fixtures: {}", srd.cases);
    assert!(srd.files >= 30);
    let brawler = packs.iter().find(|p| p.id == "brawler").expect("brawler");
    assert_eq!(brawler.status, Status::Live);
    assert_eq!(brawler.dependencies, vec!["srd"]);
}

#[test]
fn check_packs_passes_on_the_repository_and_reports_file_line_col() {
    let report = check_packs(&common::repo().join("rules"), common::compendium());
    assert!(report.ok(), "{}", report.lines().join("\n"));
    let mut ids: Vec<&str> = report.packs.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "battle-trance",
            "brawler",
            "chilled",
            "iron-hide",
            "pit-fighter-wasm",
            "srd",
            "storm-herald"
        ]
    );

    let dir = tempdir("check");
    std::fs::create_dir_all(dir.join("bad/features")).unwrap();
    std::fs::write(
        dir.join("bad/pack.toml"),
        "id = \"bad\"\nname = \"Bad\"\nversion = \"1\"\napi = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad/features/oops.rhai"),
        "fn meta() { #{ id: \"oops\", kind: \"core\" } }\n\nfn modifiers(sheet) {\n    [add(\"ac\", 1) +]\n}\n",
    )
    .unwrap();
    let report = check_packs(&dir, common::compendium());
    assert!(!report.ok());
    let lines = report.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("bad/features/oops.rhai:4:"),
        "{}",
        lines[0]
    );
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grimoire-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const HOSTILE: &[(&str, &str)] = &[
    (
        "features/spin.rhai",
        "fn meta() { #{ id: \"spin\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    loop { }\n}\n",
    ),
    (
        "features/deep.rhai",
        "fn meta() { #{ id: \"deep\", kind: \"feature\" } }\nfn down(n) { down(n + 1) }\nfn modifiers(sheet) {\n    down(0)\n}\n",
    ),
    (
        "features/huge.rhai",
        "fn meta() { #{ id: \"huge\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    let s = \"0123456789abcdef\";\n    loop { s += s; }\n}\n",
    ),
    (
        "features/fine.rhai",
        "fn meta() { #{ id: \"fine\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    [add(\"ac\", 1)]\n}\n",
    ),
];

#[test]
fn hostile_scripts_fail_alone_with_their_limit_named() {
    // Build the pack without its own validation, compose it with the SRD, and derive a
    // character that has all four features: the three hostile files fail, each with its limit,
    // file and line; the fine one and the whole SRD still apply.
    let mut files = vec![("pack.toml", manifest("hostile"))];
    files.extend(HOSTILE.iter().map(|(p, c)| (*p, c.to_string())));
    let src: Sources = files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
    let hostile = std::sync::Arc::new(pack::build(&src).expect("compiles"));
    let srd = common::srd();
    let (rules, errs) = grimoire_engine::rules::RuleSet::new(
        common::compendium(),
        srd.packs.iter().cloned().chain([hostile]).collect(),
    );
    assert!(errs.is_empty());
    let sheet = derive(&rules, &fighter(&["spin", "deep", "huge", "fine"]));
    let diag = |file: &str| {
        sheet
            .diagnostics
            .iter()
            .find(|d| d.file == file)
            .unwrap_or_else(|| panic!("no diagnostic for {file}: {:?}", sheet.diagnostics))
    };
    let spin = diag("features/spin.rhai");
    assert!(
        spin.limit
            .as_deref()
            .unwrap()
            .starts_with("operations limit 100000"),
        "{spin}"
    );
    // A limit hit inside a loop is reported at the hook that was running.
    assert_eq!(
        (spin.pack.as_str(), spin.line, spin.hook.as_deref()),
        ("hostile", 2, Some("modifiers"))
    );
    let deep = diag("features/deep.rhai");
    assert!(
        deep.limit
            .as_deref()
            .unwrap()
            .starts_with("call depth limit 32"),
        "{deep}"
    );
    // Rhai reports a stack overflow without a position: the hook's line stands in.
    assert_eq!(deep.line, 3);
    let huge = diag("features/huge.rhai");
    assert!(
        huge.limit
            .as_deref()
            .unwrap()
            .starts_with("string size limit 16384"),
        "{huge}"
    );
    // Rhai's size checks carry no position either: the hook's line stands in.
    assert_eq!(huge.line, 2);
    assert!(
        huge.to_string()
            .starts_with("hostile/features/huge.rhai:2:"),
        "{huge}"
    );
    assert_eq!(sheet.diagnostics.len(), 3, "{:?}", sheet.diagnostics);
    // Everything else was derived: SRD AC 10 + the fine feature's +1, HP, proficiency.
    assert_eq!(sheet.ac.value, 11);
    assert_eq!(sheet.hp.max.value, 10);
    assert_eq!(sheet.proficiency_bonus.value, 2);
}

#[test]
fn a_pack_whose_fixtures_hit_a_limit_is_refused_and_others_keep_working() {
    let r = srd_registry();
    let mut files: Vec<(&str, String)> = vec![("pack.toml", manifest("hostile"))];
    files.extend(HOSTILE.iter().map(|(p, c)| (*p, c.to_string())));
    files.push((
        "tests/t.toml",
        "[[case]]\nname = \"spin\"\ncharacter = { classes = [{ class = \"fighter\", level = 1 }], feats = [\"spin\"] }\n"
            .into(),
    ));
    let src: Sources = files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
    let errs = r.reload_pack("hostile", &src).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.message.contains("operations limit 100000")),
        "{errs:?}"
    );
    assert_eq!(r.pack("hostile").unwrap().status, Status::Failed);
    assert_eq!(r.pack("srd").unwrap().status, Status::Live);
    let sheet = derive(&r.ruleset(&["srd"]).unwrap(), &fighter(&[]));
    assert!(sheet.diagnostics.is_empty());
    assert!(r.ruleset(&["hostile"]).is_err());
}

#[test]
fn dependency_cycles_are_refused_at_load_naming_both_sources() {
    let r = srd_registry();
    let src = sources(&[
        ("pack.toml", &manifest("loopy")),
        (
            "core/dex-from-ac.rhai",
            "fn meta() { #{ id: \"dex-from-ac\", kind: \"core\" } }\nfn modifiers(sheet) {\n    [add(\"abilities.dex.score\", \"@ac / 10\")]\n}\n",
        ),
    ]);
    let errs = r.reload_pack("loopy", &src).unwrap_err();
    let e = errs
        .iter()
        .find(|e| e.message.starts_with("dependency cycle"))
        .unwrap_or_else(|| panic!("{errs:?}"));
    assert!(e.message.contains("loopy/core/dex-from-ac.rhai:3"), "{e}");
    assert!(e.message.contains("srd/core/armor-class.rhai"), "{e}");
    assert_eq!((e.file.as_str(), e.line), ("core/dex-from-ac.rhai", 3));
}

#[test]
fn modifiers_may_read_values_computed_earlier() {
    // Half the Charisma modifier to AC (the D&D Beyond "no way to add only half" complaint).
    let r = srd_registry();
    let src = sources(&[
        ("pack.toml", &manifest("grace")),
        (
            "core/grace.rhai",
            "fn meta() { #{ id: \"grace\", kind: \"core\" } }\nfn modifiers(sheet) {\n    [add(\"ac\", \"@abilities.cha.mod / 2\").label(\"Grace\")]\n}\n",
        ),
    ]);
    r.reload_pack("grace", &src).expect("loads");
    let mut c = fighter(&[]);
    c.abilities.insert("cha".into(), 17);
    c.abilities.insert("dex".into(), 14);
    let sheet = derive(&r.ruleset(&["grace"]).unwrap(), &c);
    assert_eq!(sheet.ac.value, 13, "{:?}", sheet.ac);
    let grace = sheet
        .ac
        .explain
        .iter()
        .find(|x| x.label == "Grace")
        .unwrap();
    assert_eq!(
        (grace.source.as_str(), grace.file.as_str(), grace.line),
        ("grace", "core/grace.rhai", 3)
    );
    assert_eq!(grace.value, serde_json::json!(1));
}

#[test]
fn hot_reload_keeps_the_last_good_version_and_recovers() {
    let r = srd_registry();
    let dir = tempdir("reload");
    let write = |body: &str| {
        std::fs::create_dir_all(dir.join("features")).unwrap();
        std::fs::write(dir.join("pack.toml"), manifest("tough")).unwrap();
        std::fs::write(dir.join("features/tough.rhai"), body).unwrap();
    };
    let reload = || r.reload_pack("tough", &pack::load_dir(&dir).unwrap());
    let hp = |r: &Registry| {
        derive(&r.ruleset(&["tough"]).unwrap(), &fighter(&["tough"]))
            .hp
            .max
            .value
    };

    write(
        "fn meta() { #{ id: \"tough\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    [add(\"hp.max\", 2)]\n}\n",
    );
    let v1 = reload().expect("v1 loads");
    assert_eq!(v1.status, Status::Live);
    assert_eq!(hp(&r), 12);
    let before = r.current();

    // Edit: now +5.
    write(
        "fn meta() { #{ id: \"tough\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    [add(\"hp.max\", 5)]\n}\n",
    );
    reload().expect("v2 loads");
    assert_eq!(hp(&r), 15);
    // A request that started before the swap still sees its generation.
    assert_eq!(
        derive(&before.ruleset(&["tough"]).unwrap(), &fighter(&["tough"]))
            .hp
            .max
            .value,
        12
    );

    // Break it: the last good version stays live, marked stale, with the error's line.
    write(
        "fn meta() { #{ id: \"tough\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    [add(\"hp.max\", 9) +]\n}\n",
    );
    let errs = reload().unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0].file.as_str(), errs[0].line),
        ("features/tough.rhai", 3)
    );
    let info = r.pack("tough").unwrap();
    assert_eq!(info.status, Status::Stale);
    assert_eq!(info.errors, errs);
    assert_eq!(hp(&r), 15);

    // Fix it: the new version is live and the errors are gone.
    write(
        "fn meta() { #{ id: \"tough\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    [add(\"hp.max\", 7)]\n}\n",
    );
    let fixed = reload().expect("v4 loads");
    assert_eq!(fixed.status, Status::Live);
    assert!(fixed.errors.is_empty());
    assert_eq!(hp(&r), 17);
}

#[test]
fn a_typo_fails_at_its_line_not_later() {
    let r = srd_registry();
    let src = sources(&[
        ("pack.toml", &manifest("typo")),
        (
            "features/typo.rhai",
            "fn meta() { #{ id: \"typo\", kind: \"feature\" } }\nfn modifiers(sheet) {\n    let n = sheet.levels.wizard;\n    [add(\"ac\", n)]\n}\n",
        ),
        (
            "tests/t.toml",
            "[[case]]\nname = \"typo\"\ncharacter = { feats = [\"typo\"] }\n",
        ),
    ]);
    let errs = r.reload_pack("typo", &src).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.message.contains("features/typo.rhai:3") && e.message.contains("levels")),
        "{errs:?}"
    );
}

#[test]
fn the_srd_pack_corrects_the_imported_level_tables() {
    let srd = common::srd();
    let cr =
        srd.compendium.level("druid", 7).unwrap()["class_specific"]["wild_shape_max_cr"].clone();
    assert_eq!(cr, serde_json::json!(0.5));
    assert_eq!(
        common::compendium().level("druid", 7).unwrap()["class_specific"]["wild_shape_max_cr"],
        serde_json::json!(1.0),
        "the base compendium is untouched"
    );
    for (lvl, n) in [(4, 2), (5, 3), (6, 3), (7, 4)] {
        assert_eq!(
            srd.compendium.level("warlock", lvl).unwrap()["class_specific"]["invocations_known"],
            serde_json::json!(n),
            "warlock {lvl}"
        );
    }
}

#[test]
fn the_scripting_reference_is_generated_from_registrations() {
    let r = grimoire_engine::script::rules_api_reference();
    let f = r["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "advantage")
        .expect("advantage documented");
    assert!(f["docComments"].to_string().contains("per source"), "{f}");
    assert_eq!(r["api_version"], 1);
    assert!(
        r["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "activate")
    );
}
