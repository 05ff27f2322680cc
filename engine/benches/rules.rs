//! Speed of the rules engine with the SRD pack: full derivation of a level-1 and a level-20
//! character (and level-20 multiclasses: fighter/rogue with several effects and conditions,
//! cleric/wizard casting), one feature use,
//! and loading `rules/srd` (compiling every script cold, with the AST cache warm, and a full
//! hot reload that also runs the pack's fixtures). Needs the SRD data (`scripts/fetch-srd.sh`).
//! Run with `cargo bench -p grimoire-engine --bench rules`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use grimoire_engine::actions;
use grimoire_engine::character::{Character, ClassLevels, Item};
use grimoire_engine::derive::derive;
use grimoire_engine::pack;
use grimoire_engine::registry::Registry;
use std::hint::black_box;

fn item(slug: &str) -> Item {
    Item {
        item: slug.into(),
        quantity: 1,
        equipped: true,
        attuned: false,
    }
}

fn barbarian(level: u32) -> Character {
    let mut c = Character {
        name: "Bench".into(),
        race: "half-orc".into(),
        classes: vec![ClassLevels {
            class: "barbarian".into(),
            level,
            ..Default::default()
        }],
        equipment: vec![item("greataxe"), item("javelin"), item("shield")],
        proficiencies: vec!["skill-athletics".into(), "skill-perception".into()],
        ..Default::default()
    };
    for (a, v) in [
        ("str", 16),
        ("dex", 14),
        ("con", 15),
        ("int", 8),
        ("wis", 12),
        ("cha", 10),
    ] {
        c.abilities.insert(a.into(), v);
    }
    c
}

fn multiclass() -> Character {
    let mut c = barbarian(1);
    c.classes = vec![
        ClassLevels {
            class: "fighter".into(),
            level: 10,
            ..Default::default()
        },
        ClassLevels {
            class: "rogue".into(),
            level: 10,
            ..Default::default()
        },
    ];
    c.equipment = vec![
        item("rapier"),
        item("longbow"),
        item("studded-leather-armor"),
    ];
    c.expertise = vec!["skill-stealth".into(), "skill-perception".into()];
    c.choices.insert(
        "fighter-fighting-style".into(),
        serde_json::json!("fighter-fighting-style-archery"),
    );
    c.conditions = vec!["poisoned".into(), "frightened".into()];
    c.exhaustion = 2;
    c
}

/// Cleric 10 / wizard 10 (issue 8's "level-20 multiclass caster"): two spellcasting classes,
/// combined caster level 20 for slots, spells prepared in both, Bless on.
fn caster() -> Character {
    let mut c = barbarian(1);
    c.classes = vec![
        ClassLevels {
            class: "cleric".into(),
            level: 10,
            subclass: Some("life".into()),
            ..Default::default()
        },
        ClassLevels {
            class: "wizard".into(),
            level: 10,
            subclass: Some("evocation".into()),
            ..Default::default()
        },
    ];
    c.equipment = vec![item("mace"), item("chain-mail"), item("shield")];
    for (ability, score) in [("int", 16), ("wis", 16), ("str", 14)] {
        c.abilities.insert(ability.into(), score);
    }
    c
}

fn bench(c: &mut Criterion) {
    let rules = common::srd();
    let lvl1 = barbarian(1);
    let mut lvl20 = barbarian(20);
    lvl20 = actions::use_feature(&rules, &lvl20, "rage", &Default::default(), 1)
        .expect("rage")
        .character;
    lvl20 = actions::add_effect(
        &rules,
        &lvl20,
        "bless",
        "bench",
        None,
        serde_json::Value::Null,
    )
    .expect("bless")
    .character;
    let mut multi = multiclass();
    for fx in ["bless", "shield"] {
        multi = actions::add_effect(&rules, &multi, fx, "bench", None, serde_json::Value::Null)
            .expect("effect")
            .character;
    }
    let mut caster = caster();
    caster = actions::add_effect(
        &rules,
        &caster,
        "bless",
        "bench",
        None,
        serde_json::Value::Null,
    )
    .expect("bless")
    .character;
    assert!(derive(&rules, &caster).diagnostics.is_empty());
    assert!(derive(&rules, &lvl20).diagnostics.is_empty());
    assert!(derive(&rules, &multi).diagnostics.is_empty());

    // "cold": a character state never derived before (here: another name), so a new view; each
    // rule file's hooks run only if the view fields they read changed (none do here).
    // "uncached": the rule set's caches emptied before each iteration (outside the timing), so
    // every hook runs, as for a rule set just loaded. "warm": the same state again (its sheet
    // is kept, as when a sheet is re-read).
    for (name, ch) in [
        ("level-1 barbarian", &lvl1),
        ("level-20 barbarian raging + bless", &lvl20),
        (
            "level-20 fighter 10 rogue 10, 2 effects, 3 conditions",
            &multi,
        ),
        ("level-20 cleric 10 wizard 10 (caster) + bless", &caster),
    ] {
        let mut n = 0u64;
        c.bench_function(&format!("derive cold/{name}"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let mut x = ch.clone();
                    x.name = format!("bench {n}");
                    x
                },
                |x| derive(&rules, &x),
                BatchSize::SmallInput,
            )
        });
        c.bench_function(&format!("derive uncached/{name}"), |b| {
            b.iter_batched(
                || rules.clear_caches(),
                |()| derive(&rules, ch),
                BatchSize::PerIteration,
            )
        });
        c.bench_function(&format!("derive warm/{name}"), |b| {
            b.iter(|| derive(&rules, black_box(ch)))
        });
    }
    let fresh = barbarian(20);
    let mut n = 0u64;
    c.bench_function("use_feature cold/rage at level 20", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut x = fresh.clone();
                x.name = format!("bench {n}");
                x
            },
            |x| actions::use_feature(&rules, &x, "rage", &Default::default(), 7),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("use_feature uncached/rage at level 20", |b| {
        b.iter_batched(
            || rules.clear_caches(),
            |()| actions::use_feature(&rules, &fresh, "rage", &Default::default(), 7),
            BatchSize::PerIteration,
        )
    });
    c.bench_function("use_feature warm/rage at level 20", |b| {
        b.iter(|| actions::use_feature(&rules, black_box(&fresh), "rage", &Default::default(), 7))
    });

    let sources = pack::load_dir(&common::repo().join("rules/srd")).expect("rules/srd");
    c.bench_function("pack/build rules/srd (AST cache warm)", |b| {
        b.iter(|| pack::build(black_box(&sources)).expect("builds"))
    });
    let mut n = 0u64;
    c.bench_function("pack/build rules/srd (every script compiled)", |b| {
        b.iter(|| {
            n += 1;
            let changed: pack::Sources = sources
                .iter()
                .map(|(p, bytes)| {
                    let mut v = bytes.clone();
                    if p.ends_with(".rhai") {
                        v.extend_from_slice(format!("\n// {n}\n").as_bytes());
                    }
                    (p.clone(), v)
                })
                .collect();
            pack::build(&changed).expect("builds")
        })
    });
    let registry = Registry::new(common::compendium().clone());
    let mut g = c.benchmark_group("reload");
    g.sample_size(10);
    g.bench_function(
        "reload_pack srd (build + compose + cycle probe + fixtures)",
        |b| {
            b.iter(|| {
                registry
                    .reload_pack("srd", black_box(&sources))
                    .expect("reloads")
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
