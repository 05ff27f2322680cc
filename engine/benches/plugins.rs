//! Speed of WebAssembly plugins: (a) one hook call — a fresh instance, the input written into
//! it, the hook run, its JSON answer read back as modifier records — with the view of a level-20
//! character as input (once with the view already serialised, as in a derivation, once
//! serialising it too); (b) loading a small plugin: compiling its module (new bytes each time,
//! so the module cache cannot help), checking it against the ABI and asking its version — and
//! the same with the module cached. Needs the SRD data (`scripts/fetch-srd.sh`).
//! Run with `cargo bench -p grimoire-engine --bench plugins`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use grimoire_engine::character::{Character, ClassLevels, Item};
use grimoire_engine::pack::Sources;
use grimoire_engine::plugin::Plugin;
use grimoire_engine::records::Modifier;
use std::hint::black_box;

/// Four modifier records, as a feature plugin returns them.
const OUTPUT: &str = r#"{"ok":[{"target":"ac","op":"add","value":1},{"target":"speed.walk","op":"add","value":10},{"target":"saves.wis","op":"advantage"},{"target":"damage","op":"add","value":"@proficiency_bonus / 2","when":{"range":"melee"}}]}"#;

/// A small plugin: a bump allocator, `meta` and `modifiers` returning fixed JSON. `salt` changes
/// the bytes (not the behaviour) so each module is new content.
fn module(salt: u64) -> Vec<u8> {
    let meta = r#"{"ok":{"id":"bench","kind":"core"}}"#;
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let (m_at, o_at) = (1024, 1024 + meta.len());
    let heap = (o_at + OUTPUT.len() + 15) & !15;
    let packed = |at: usize, len: usize| ((at as u64) << 32 | len as u64) as i64;
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const {heap}))
  (data (i32.const {m_at}) "{meta}")
  (data (i32.const {o_at}) "{output}")
  (data (i32.const 0) "{salt:016x}")
  (func (export "gr_abi_version") (result i32) (i32.const 1))
  {alloc}
  (func (export "gr_meta") (param i32 i32) (result i64) (i64.const {pm}))
  (func (export "gr_modifiers") (param i32 i32) (result i64) (i64.const {po})))"#,
        meta = esc(meta),
        output = esc(OUTPUT),
        pm = packed(m_at, meta.len()),
        po = packed(o_at, OUTPUT.len()),
        alloc = common::WAT_ALLOC,
    ))
    .expect("valid WAT")
}

fn sources(wasm: Vec<u8>) -> Sources {
    let mut s = Sources::new();
    s.insert(
        "plugins/bench/plugin.toml".into(),
        b"id = \"bench\"\nversion = \"1.0.0\"\napi = 1\nwasm = \"bench.wasm\"\nhooks = [\"meta\", \"modifiers\"]\n".to_vec(),
    );
    s.insert("plugins/bench/bench.wasm".into(), wasm);
    s
}

fn load(src: &Sources) -> Plugin {
    Plugin::load("bench", "plugins/bench/plugin.toml", src).expect("the plugin loads")
}

/// A level-20 barbarian, as the rules benchmark derives.
fn barbarian() -> Character {
    let item = |slug: &str| Item {
        item: slug.into(),
        quantity: 1,
        equipped: true,
        attuned: false,
    };
    let mut c = Character {
        name: "Bench".into(),
        race: "half-orc".into(),
        classes: vec![ClassLevels {
            class: "barbarian".into(),
            level: 20,
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

fn call(plugin: &Plugin, view: &[u8]) -> Vec<Modifier> {
    let out = plugin
        .call("modifiers", &[b"{\"sheet\":", view, b"}"])
        .expect("the hook answers");
    serde_json::from_value(out).expect("modifier records")
}

fn hook_call(c: &mut Criterion) {
    let view = grimoire_engine::view::build(&barbarian(), common::compendium(), &[]);
    let json = view.to_string().into_bytes();
    eprintln!("level-20 view: {} bytes of JSON", json.len());
    let plugin = load(&sources(module(0)));
    assert_eq!(call(&plugin, &json).len(), 4);
    c.bench_function("plugin hook call, level-20 view", |b| {
        b.iter(|| black_box(call(&plugin, black_box(&json))))
    });
    c.bench_function("plugin hook call, level-20 view serialised too", |b| {
        b.iter(|| {
            let json = black_box(&view).to_string().into_bytes();
            black_box(call(&plugin, &json))
        })
    });
}

fn load_module(c: &mut Criterion) {
    let mut salt = 1u64;
    c.bench_function("plugin load, small module compiled", |b| {
        b.iter_batched(
            || {
                salt += 1;
                sources(module(salt))
            },
            |src| black_box(load(&src)),
            BatchSize::SmallInput,
        )
    });
    let cached = sources(module(0));
    c.bench_function("plugin load, small module cached", |b| {
        b.iter(|| black_box(load(&cached)))
    });
}

criterion_group!(benches, hook_call, load_module);
criterion_main!(benches);
