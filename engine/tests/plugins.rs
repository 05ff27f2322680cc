//! WebAssembly plugins end to end, with real modules written in WAT: a good plugin in a pack
//! with fixtures, the same feature in Rhai and in WASM giving the same sheet, every hostile
//! plugin failing alone with its named reason, fresh instances per call, and hot reload.

mod common;

use grimoire_engine::actions::{self, Action};
use grimoire_engine::character::{Character, ClassLevels};
use grimoire_engine::check::check_packs_within;
use grimoire_engine::derive::derive;
use grimoire_engine::diagnostic::Diagnostic;
use grimoire_engine::pack::{self, Pack, Sources};
use grimoire_engine::registry::Status;
use grimoire_engine::rules::RuleSet;
use grimoire_engine::script::engine;
use grimoire_engine::sheet::Sheet;
use serde_json::{Value, json};
use std::sync::Arc;

/// Where a module's fixed outputs start in its memory.
const DATA_AT: usize = 1024;

/// A plugin module in WAT: each hook either returns fixed JSON (placed in a data segment) or
/// runs a body of its own (`$ptr`, `$len` in, the packed output pointer and length out).
struct Wat {
    abi: i32,
    imports: String,
    /// More module fields (globals, tables…).
    fields: String,
    hooks: Vec<(String, String)>,
    data: Vec<u8>,
}

impl Wat {
    fn new(meta: Value) -> Wat {
        Wat {
            abi: 1,
            imports: String::new(),
            fields: String::new(),
            hooks: Vec::new(),
            data: Vec::new(),
        }
        .returns("meta", &json!({ "ok": meta }).to_string())
    }

    /// Places bytes in the data segment; returns their address.
    fn place(&mut self, bytes: &[u8]) -> usize {
        let at = DATA_AT + self.data.len();
        self.data.extend_from_slice(bytes);
        at
    }

    /// The hook returns this text.
    fn returns(mut self, hook: &str, out: &str) -> Wat {
        let at = self.place(out.as_bytes());
        let body = format!("(i64.const {})", packed(at, out.len()));
        self.hooks.push((hook.into(), body));
        self
    }

    /// The hook returns `{"ok": value}`.
    fn ok(self, hook: &str, value: Value) -> Wat {
        self.returns(hook, &json!({ "ok": value }).to_string())
    }

    fn body(mut self, hook: &str, body: &str) -> Wat {
        self.hooks.push((hook.into(), body.into()));
        self
    }

    fn hook_names(&self) -> Vec<String> {
        self.hooks.iter().map(|(h, _)| h.clone()).collect()
    }

    fn text(&self) -> String {
        let heap = (DATA_AT + self.data.len() + 15) & !15;
        let data: String = self.data.iter().map(|b| format!("\\{b:02x}")).collect();
        let hooks: String = self
            .hooks
            .iter()
            .map(|(h, body)| {
                format!(
                    "(func (export \"gr_{h}\") (param $ptr i32) (param $len i32) (result i64) {body})\n"
                )
            })
            .collect();
        format!(
            r#"(module
  {imports}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const {heap}))
  {fields}
  (data (i32.const {DATA_AT}) "{data}")
  (func (export "gr_abi_version") (result i32) (i32.const {abi}))
  {alloc}
  {hooks})"#,
            imports = self.imports,
            fields = self.fields,
            abi = self.abi,
            alloc = common::WAT_ALLOC,
        )
    }

    fn wasm(&self) -> Vec<u8> {
        wat::parse_str(self.text()).expect("valid WAT")
    }
}

fn packed(ptr: usize, len: usize) -> i64 {
    (((ptr as u64) << 32) | len as u64) as i64
}

fn manifest(id: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n"
    )
}

fn plugin_toml(id: &str, hooks: &[String]) -> String {
    let hooks: Vec<String> = hooks.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        "id = \"{id}\"\nversion = \"0.1.0\"\napi = 1\nwasm = \"{id}.wasm\"\nhooks = [{}]\n",
        hooks.join(", ")
    )
}

/// Adds `plugins/<id>/plugin.toml` (declaring the module's hooks) and `plugins/<id>/<id>.wasm`.
fn add(src: &mut Sources, id: &str, wat: &Wat) {
    add_raw(
        src,
        id,
        &plugin_toml(id, &wat.hook_names()),
        Some(wat.wasm()),
    );
}

fn add_raw(src: &mut Sources, id: &str, toml: &str, wasm: Option<Vec<u8>>) {
    src.insert(
        format!("plugins/{id}/plugin.toml"),
        toml.as_bytes().to_vec(),
    );
    if let Some(w) = wasm {
        src.insert(format!("plugins/{id}/{id}.wasm"), w);
    }
}

fn new_pack(id: &str) -> Sources {
    let mut s = Sources::new();
    s.insert("pack.toml".into(), manifest(id).into_bytes());
    s
}

/// A core plugin that adds 1 to AC, labelled so the tests can find it.
fn good() -> Wat {
    Wat::new(json!({ "id": "good", "kind": "core" })).ok(
        "modifiers",
        json!([{ "target": "ac", "op": "add", "value": 1, "label": "Good plugin" }]),
    )
}

fn srd() -> Arc<Pack> {
    common::registry().current().packs["srd"]
        .live
        .clone()
        .expect("srd is live")
}

fn build(src: &Sources) -> Result<Pack, Vec<Diagnostic>> {
    pack::build(src)
}

fn rules(src: &Sources) -> RuleSet {
    let p = build(src).unwrap_or_else(|e| panic!("pack builds: {e:#?}"));
    RuleSet::new(common::compendium(), vec![srd(), Arc::new(p)]).0
}

fn fighter(level: u32, feats: &[&str]) -> Character {
    let mut c = Character {
        name: "Tester".into(),
        race: "human".into(),
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level,
            ..Default::default()
        }],
        feats: feats.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    for a in ["str", "dex", "con", "int", "wis", "cha"] {
        c.abilities.insert(a.into(), 12);
    }
    c
}

fn good_applies(sheet: &Sheet) -> bool {
    sheet
        .ac
        .explain
        .iter()
        .any(|c| c.label == "Good plugin" && c.applied)
}

/// Derives a fighter with `good` and one hostile core plugin; returns the hostile plugin's
/// diagnostic after checking that the good plugin still applies.
fn hostile(id: &str, wat: Wat) -> Diagnostic {
    let mut src = new_pack(id);
    add(&mut src, "good", &good());
    add(&mut src, id, &wat);
    let sheet = derive(&rules(&src), &fighter(1, &[]));
    assert!(good_applies(&sheet), "the good plugin still applies");
    let mine: Vec<&Diagnostic> = sheet
        .diagnostics
        .iter()
        .filter(|d| d.file == format!("plugins/{id}/plugin.toml"))
        .collect();
    assert_eq!(mine.len(), 1, "{:#?}", sheet.diagnostics);
    assert_eq!(sheet.diagnostics.len(), 1, "{:#?}", sheet.diagnostics);
    let d = mine[0].clone();
    assert_eq!(d.pack, id);
    assert_eq!(d.hook.as_deref(), Some("modifiers"));
    d
}

/// Builds a pack with `good` and one plugin that must be refused at load; returns its errors.
fn refused(id: &str, toml: &str, wasm: Option<Vec<u8>>) -> Vec<Diagnostic> {
    let mut src = new_pack(id);
    add(&mut src, "good", &good());
    add_raw(&mut src, id, toml, wasm);
    let errors = build(&src).expect_err("the plugin is refused");
    for e in &errors {
        assert_eq!(e.file, format!("plugins/{id}/plugin.toml"), "{e}");
    }
    // Without it, the pack (and its good plugin) loads.
    src.retain(|p, _| !p.starts_with(&format!("plugins/{id}/")));
    let sheet = derive(&rules(&src), &fighter(1, &[]));
    assert!(good_applies(&sheet) && sheet.diagnostics.is_empty());
    errors
}

fn core_meta(id: &str) -> Value {
    json!({ "id": id, "kind": "core" })
}

// ---------------------------------------------------------------------------------------------
// The same feature in Rhai and in WASM.

const TRANCE_RHAI: &str = r#"
fn meta() {
    #{ id: "battle-trance", name: "Battle Trance", kind: "feature", activation: "bonus_action" }
}
fn modifiers(sheet) {
    [add("ac", 1), grant("resistances", "psychic")]
}
fn resources(sheet) {
    [resource("trance", "@proficiency_bonus", ["long_rest"])]
}
fn activate(sheet, ctx) {
    #{ cost: [cost("trance", 1)], apply: [apply("tranced", #{ minutes: 1 })] }
}
"#;

const TRANCED_RHAI: &str = r#"
fn meta() { #{ id: "tranced", name: "Tranced", kind: "effect" } }
fn modifiers(sheet, fx) { [add("speed.walk", 10), advantage("saves.wis")] }
"#;

fn trance_plugins(src: &mut Sources) {
    let feature = Wat::new(json!({
        "id": "battle-trance", "name": "Battle Trance", "kind": "feature", "activation": "bonus_action"
    }))
    .ok(
        "modifiers",
        json!([
            { "target": "ac", "op": "add", "value": 1 },
            { "target": "resistances", "op": "grant", "value": "psychic" },
        ]),
    )
    .ok(
        "resources",
        json!([{ "id": "trance", "max": "@proficiency_bonus", "recover": ["long_rest"] }]),
    )
    .ok(
        "activate",
        json!({
            "cost": [{ "resource": "trance", "amount": 1 }],
            "apply": [{ "effect": "tranced", "duration": { "minutes": 1 } }],
        }),
    );
    let effect = Wat::new(json!({ "id": "tranced", "name": "Tranced", "kind": "effect" })).ok(
        "modifiers",
        json!([
            { "target": "speed.walk", "op": "add", "value": 10 },
            { "target": "saves.wis", "op": "advantage" },
        ]),
    );
    add(src, "battle-trance", &feature);
    add(src, "tranced", &effect);
}

const TRANCE_FIXTURE: &str = r#"
[[case]]
name = "battle trance: AC, uses, and the effect it applies"
character = { classes = [{ class = "fighter", level = 5 }], feats = ["battle-trance"] }
actions = [{ action = "use", feature = "battle-trance" }]
[case.expect]
"ac" = 11
"resources.trance.max" = 3
"resources.trance.remaining" = 2
"speed.walk" = 40
"abilities.wis.save.mode" = "advantage"

[[case]]
name = "battle trance: no uses left"
character = { classes = [{ class = "fighter", level = 5 }], feats = ["battle-trance"], resources_spent = { trance = 3 } }
actions = [{ action = "use", feature = "battle-trance" }]
refusal = "no_uses_left"
"#;

/// The sheet without where its numbers come from (file and line differ between a script and
/// a plugin; everything else must not).
fn located_nowhere(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("file");
                m.remove("line");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("grimoire-plugins-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_plugin_pack_loads_from_disk_and_passes_its_fixtures() {
    let mut src = new_pack("trance");
    trance_plugins(&mut src);
    src.insert(
        "tests/trance.toml".into(),
        TRANCE_FIXTURE.as_bytes().to_vec(),
    );
    let dir = tempdir("fixtures");
    let pack_dir = dir.join("trance");
    for (path, bytes) in &src {
        let p = pack_dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    // The files come back as they were written, .wasm included.
    assert_eq!(pack::load_dir(&pack_dir).unwrap(), src);
    let report = check_packs_within(
        &dir,
        Some(&common::repo().join("rules/srd")),
        common::compendium(),
    );
    assert!(report.ok(), "{}", report.lines().join("\n"));
    assert_eq!(report.packs.len(), 1);
    assert_eq!(report.packs[0].cases, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_plugin_and_a_script_of_the_same_feature_give_the_same_sheets() {
    let mut wasm = new_pack("trance");
    trance_plugins(&mut wasm);
    let mut rhai = new_pack("trance");
    rhai.insert(
        "features/battle-trance.rhai".into(),
        TRANCE_RHAI.as_bytes().to_vec(),
    );
    rhai.insert(
        "effects/tranced.rhai".into(),
        TRANCED_RHAI.as_bytes().to_vec(),
    );
    let (wasm, rhai) = (rules(&wasm), rules(&rhai));
    let c = fighter(5, &["battle-trance"]);
    let used = |rules: &RuleSet| {
        actions::apply(
            rules,
            &c,
            &Action::Use {
                feature: "battle-trance".into(),
                choices: Default::default(),
            },
            7,
        )
        .expect("the feature can be used")
    };
    let (w, r) = (used(&wasm), used(&rhai));
    assert_eq!(w.character, r.character);
    assert_eq!(w.events, r.events);
    for c in [&c, &w.character] {
        let (sw, sr) = (derive(&wasm, c), derive(&rhai, c));
        assert!(sw.diagnostics.is_empty(), "{:#?}", sw.diagnostics);
        let (jw, jr) = (
            located_nowhere(serde_json::to_value(&sw).unwrap()),
            located_nowhere(serde_json::to_value(&sr).unwrap()),
        );
        assert_eq!(jw, jr);
    }
    let sheet = derive(&wasm, &w.character);
    assert_eq!(sheet.ac.value, 12, "10 + Dex 1 + 1");
    assert_eq!(sheet.resources["trance"].remaining, 2);
    assert_eq!(sheet.speed["walk"].value, 40);
    assert!(
        sheet
            .defenses
            .resistances
            .iter()
            .any(|g| g.value == "psychic")
    );
    let feature = &sheet.features["battle-trance"];
    assert_eq!(feature.file, "plugins/battle-trance/plugin.toml");
}

#[test]
fn a_plugin_receives_the_view_and_the_effect_as_scripts_do_and_can_log() {
    let mut src = new_pack("echo");
    let mut echo = Wat::new(json!({ "id": "echoed", "kind": "effect" }));
    echo.imports = r#"(import "grimoire" "log" (func $log (param i32 i32 i32)))"#.into();
    let empty = echo.place(br#"{"ok":[]}"#);
    let echo = echo.body(
        "modifiers",
        &format!(
            "(call $log (local.get $ptr) (local.get $len) (i32.const 1)) (i64.const {})",
            packed(empty, 9)
        ),
    );
    add(&mut src, "echo", &echo);
    let rules = rules(&src);
    let mut c = fighter(1, &[]);
    c = actions::apply(
        &rules,
        &c,
        &serde_json::from_value(
            json!({ "action": "add_effect", "effect": "echoed", "data": { "x": 1 } }),
        )
        .expect("an add_effect action"),
        3,
    )
    .expect("effect added")
    .character;
    let _ = engine().take_log();
    let sheet = derive(&rules, &c);
    assert!(sheet.diagnostics.is_empty(), "{:#?}", sheet.diagnostics);
    let log = engine().take_log();
    let line = log
        .iter()
        .find_map(|l| l.strip_prefix("plugin echo [info]: "))
        .unwrap_or_else(|| panic!("logged: {log:?}"));
    let input: Value = serde_json::from_str(line).expect("the input is JSON");
    let fx = &c.effects[0];
    assert_eq!(
        input["effect"],
        json!({ "id": fx.id, "source": fx.source, "data": { "x": 1 }, "rounds_left": fx.rounds_left })
    );
    let conditions: Vec<String> = Vec::new();
    let view = grimoire_engine::view::build(&c, &rules.compendium, &conditions);
    assert_eq!(input["sheet"], view);
    assert_eq!(input.as_object().unwrap().len(), 2);
}

#[test]
fn a_plugins_choices_are_asked_for_and_checked_before_it_activates() {
    let pick = Wat::new(json!({ "id": "pick", "kind": "feature", "activation": "action" }))
        .ok(
            "choices",
            json!([{ "id": "style", "prompt": "Pick a style", "options": ["a", "b"] }]),
        )
        .ok(
            "activate",
            json!({ "ops": [{ "op": "note", "text": "picked" }] }),
        );
    let mut src = new_pack("pick");
    add(&mut src, "pick", &pick);
    let rules = rules(&src);
    let c = fighter(1, &["pick"]);
    let with = |choice: Option<&str>| {
        let mut choices = serde_json::Map::new();
        if let Some(v) = choice {
            choices.insert("style".into(), json!(v));
        }
        actions::use_feature(&rules, &c, "pick", &choices, 1)
    };
    assert_eq!(with(None).unwrap_err().code(), "missing_choice");
    assert_eq!(with(Some("c")).unwrap_err().code(), "invalid_choice");
    let used = with(Some("a")).expect("a valid choice");
    assert!(
        used.events
            .iter()
            .any(|e| serde_json::to_value(e).unwrap()["text"] == "picked"),
        "{:?}",
        used.events
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile plugins fail alone, each with its reason.

#[test]
fn a_log_call_outside_memory_fails_the_call() {
    let mut wat = Wat::new(core_meta("babbler"));
    wat.imports = r#"(import "grimoire" "log" (func $log (param i32 i32 i32)))"#.into();
    let wat = wat.body(
        "modifiers",
        "(call $log (i32.const 65530) (i32.const 100) (i32.const 2)) (i64.const 0)",
    );
    let d = hostile("babbler", wat);
    assert_eq!(
        d.message,
        "plugin babbler hook modifiers failed: grimoire.log: the message at 0xfffa (100 bytes) lies outside the plugin's memory (64 KiB)"
    );
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let d = hostile(
        "looper",
        Wat::new(core_meta("looper")).body("modifiers", "(loop $l (br $l)) (i64.const 0)"),
    );
    assert_eq!(
        d.message,
        "fuel limit 5000000 exhausted in plugin looper hook modifiers (loop?)"
    );
    assert_eq!(d.limit.as_deref(), Some("fuel limit 5000000"));
}

#[test]
fn a_memory_bomb_is_denied_and_named() {
    // Grows a page at a time until refused, then says so.
    let mut bomb = Wat::new(core_meta("bomb"));
    let err = br#"{"error":{"message":"out of memory"}}"#;
    let at = bomb.place(err);
    let bomb = bomb.body(
        "modifiers",
        &format!(
            "(block $full (loop $more
               (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
               (br $more)))
             (i64.const {})",
            packed(at, err.len())
        ),
    );
    let d = hostile("bomb", bomb);
    assert_eq!(
        d.message,
        "plugin bomb hook modifiers: out of memory (memory limit 16 MiB exceeded in plugin bomb hook modifiers)"
    );
    assert_eq!(d.limit.as_deref(), Some("memory limit 16 MiB"));
}

#[test]
fn a_trap_after_a_denied_growth_is_reported_as_the_memory_limit() {
    let d = hostile(
        "greedy",
        Wat::new(core_meta("greedy")).body(
            "modifiers",
            "(if (i32.eq (memory.grow (i32.const 1000)) (i32.const -1)) (then unreachable))
             (i64.const 0)",
        ),
    );
    assert_eq!(
        d.message,
        "memory limit 16 MiB exceeded in plugin greedy hook modifiers"
    );
    assert_eq!(d.limit.as_deref(), Some("memory limit 16 MiB"));
}

#[test]
fn a_table_growth_past_the_limit_is_named() {
    let mut wat = Wat::new(core_meta("tabular"));
    wat.fields = "(table $t 1 funcref)".into();
    let wat = wat.body(
        "modifiers",
        "(if (i32.eq (table.grow $t (ref.null func) (i32.const 20000)) (i32.const -1))
           (then unreachable))
         (i64.const 0)",
    );
    let d = hostile("tabular", wat);
    assert_eq!(
        d.message,
        "table limit 10000 elements exceeded in plugin tabular hook modifiers"
    );
}

#[test]
fn a_trap_is_contained() {
    let d = hostile(
        "trapper",
        Wat::new(core_meta("trapper")).body("modifiers", "unreachable"),
    );
    assert!(
        d.message
            .starts_with("plugin trapper hook modifiers trapped: "),
        "{d}"
    );
    assert!(d.message.contains("unreachable"), "{d}");
    assert_eq!(d.limit, None);
}

#[test]
fn malformed_json_is_named() {
    let d = hostile(
        "garbled",
        Wat::new(core_meta("garbled")).returns("modifiers", "{\"ok\": [1,"),
    );
    assert!(
        d.message
            .starts_with("plugin garbled hook modifiers returned malformed JSON: "),
        "{d}"
    );
}

#[test]
fn output_over_the_limit_is_refused() {
    let d = hostile(
        "chatty",
        Wat::new(core_meta("chatty")).body(
            "modifiers",
            &format!("(i64.const {})", packed(DATA_AT, 3 << 20)),
        ),
    );
    assert_eq!(
        d.message,
        "output of plugin chatty hook modifiers is 3 MiB; the limit is 1 MiB"
    );
    assert_eq!(d.limit.as_deref(), Some("output limit 1 MiB"));
}

#[test]
fn output_outside_memory_is_refused() {
    let d = hostile(
        "wild",
        Wat::new(core_meta("wild")).body(
            "modifiers",
            &format!("(i64.const {})", packed(0xffff_0000, 10)),
        ),
    );
    assert_eq!(
        d.message,
        "plugin wild hook modifiers returned output at 0xffff0000 (10 bytes), outside the plugin's memory (64 KiB)"
    );
}

#[test]
fn a_guest_error_is_reported_with_its_message() {
    let d = hostile(
        "grumpy",
        Wat::new(core_meta("grumpy"))
            .returns("modifiers", r#"{"error":{"message":"no shield equipped"}}"#),
    );
    assert_eq!(
        d.message,
        "plugin grumpy hook modifiers: no shield equipped"
    );
}

#[test]
fn records_of_the_wrong_shape_fail_like_a_scripts() {
    let d = hostile(
        "sloppy",
        Wat::new(core_meta("sloppy")).ok("modifiers", json!([{ "target": "ac", "op": "plus" }])),
    );
    assert!(d.message.starts_with("modifier record: "), "{d}");
}

#[test]
fn every_call_gets_a_fresh_instance() {
    let mut counter = Wat::new(core_meta("counter"));
    let out = br#"{"ok":[{"target":"ac","op":"add","value":0,"label":"Counter"}]}"#;
    let at = counter.place(out);
    let digit = at + out.iter().position(|&b| b == b'0').unwrap();
    counter.fields = "(global $calls (mut i32) (i32.const 0))".into();
    let counter = counter.body(
        "modifiers",
        &format!(
            "(global.set $calls (i32.add (global.get $calls) (i32.const 1)))
             (i32.store8 (i32.const {digit}) (i32.add (i32.const 48) (global.get $calls)))
             (i64.const {})",
            packed(at, out.len())
        ),
    );
    let mut src = new_pack("counter");
    add(&mut src, "counter", &counter);
    let rules = rules(&src);
    let mut values = Vec::new();
    for level in 1..=4 {
        // Other characters, and the same one again with the caches cleared.
        rules.clear_caches();
        let sheet = derive(&rules, &fighter(level, &[]));
        let c = sheet
            .ac
            .explain
            .iter()
            .find(|c| c.label == "Counter")
            .expect("the counter's modifier");
        values.push(c.value.clone());
    }
    assert_eq!(values, vec![json!(1); 4]);
}

// ---------------------------------------------------------------------------------------------
// Refused at load.

#[test]
fn a_wrong_abi_version_is_refused() {
    let mut wat = good();
    wat.abi = 2;
    let errors = refused(
        "future",
        &plugin_toml("future", &wat.hook_names()),
        Some(wat.wasm()),
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "plugin future was built for plugin API 2; this Grimoire supports API 1"
    );
}

#[test]
fn an_unsupported_api_in_plugin_toml_is_refused() {
    let toml = plugin_toml("next", &good().hook_names()).replace("api = 1", "api = 2");
    let errors = refused("next", &toml, Some(good().wasm()));
    assert_eq!(
        errors[0].message,
        "plugin next was built for plugin API 2; this Grimoire supports API 1"
    );
    assert_eq!(errors[0].line, 3);
}

#[test]
fn an_unknown_import_is_refused() {
    let mut wat = good();
    wat.imports = r#"(import "env" "foo" (func (param i32)))"#.into();
    let errors = refused(
        "nosy",
        &plugin_toml("nosy", &wat.hook_names()),
        Some(wat.wasm()),
    );
    assert_eq!(
        errors[0].message,
        "plugin nosy imports env.foo; only grimoire.log is provided"
    );
}

#[test]
fn declared_and_exported_hooks_must_match() {
    let wat = good();
    let toml = plugin_toml(
        "liar",
        &["meta".into(), "modifiers".into(), "resources".into()],
    );
    let errors = refused("liar", &toml, Some(wat.wasm()));
    assert_eq!(
        errors[0].message,
        "plugin.toml declares hook resources but plugin liar does not export gr_resources"
    );
    let toml = plugin_toml("shy", &["meta".into()]);
    let errors = refused("shy", &toml, Some(wat.wasm()));
    assert_eq!(
        errors[0].message,
        "plugin shy exports gr_modifiers but plugin.toml does not declare hook modifiers"
    );
}

#[test]
fn a_missing_wasm_is_named() {
    let errors = refused("ghost", &plugin_toml("ghost", &good().hook_names()), None);
    assert_eq!(
        errors[0].message,
        "plugin.toml names ghost.wasm, which is missing (build it with plugins/build.sh)"
    );
    assert_eq!(errors[0].line, 4);
}

#[test]
fn a_module_over_the_memory_or_table_limits_is_refused_at_load() {
    let text = good().text();
    let toml = plugin_toml("huge", &good().hook_names());
    let huge = text.replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") 300)"#,
    );
    let errors = refused("huge", &toml, Some(wat::parse_str(huge).unwrap()));
    // The pooling allocator's slots are the limit: such a module does not even compile.
    let m = &errors[0].message;
    assert!(
        m.starts_with("huge.wasm is not a valid plugin module: module memory does not fit"),
        "{m}"
    );
    assert!(
        m.ends_with("minimum byte size of 19660800 which exceeds the limit of 0x1000000 bytes"),
        "{m}"
    );
    let two_memories = text.replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") 1) (memory $other 1)"#,
    );
    let toml = plugin_toml("twins", &good().hook_names());
    let errors = refused("twins", &toml, Some(wat::parse_str(two_memories).unwrap()));
    assert!(
        errors[0]
            .message
            .starts_with("twins.wasm is not a valid plugin module: "),
        "{}",
        errors[0]
    );
    let two_tables = text.replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") 1) (table 1 funcref) (table 1 funcref)"#,
    );
    let toml = plugin_toml("tables", &good().hook_names());
    let errors = refused("tables", &toml, Some(wat::parse_str(two_tables).unwrap()));
    assert!(
        errors[0].message.ends_with(
            "module table does not fit in pooling allocator requirements: defined tables count of 2 exceeds the per-instance limit of 1"
        ),
        "{}",
        errors[0]
    );
}

#[test]
fn a_module_that_is_not_webassembly_is_refused() {
    let errors = refused(
        "broken",
        &plugin_toml("broken", &good().hook_names()),
        Some(b"\0asm garbage".to_vec()),
    );
    assert!(
        errors[0]
            .message
            .starts_with("broken.wasm is not a valid plugin module: "),
        "{}",
        errors[0]
    );
}

// ---------------------------------------------------------------------------------------------
// Hot reload.

#[test]
fn a_broken_plugin_keeps_the_last_good_pack_and_a_fixed_one_goes_live() {
    let registry = common::registry();
    let adds = |n: i64| {
        Wat::new(core_meta("bonus")).ok(
            "modifiers",
            json!([{ "target": "ac", "op": "add", "value": n, "label": "Bonus" }]),
        )
    };
    let bonus = |n: i64| {
        let mut src = new_pack("reloading");
        add(&mut src, "bonus", &adds(n));
        src
    };
    let ac_bonus = || {
        let rules = registry.ruleset(&["reloading"]).expect("the pack is live");
        let sheet = derive(&rules, &fighter(1, &[]));
        sheet
            .ac
            .explain
            .iter()
            .find(|c| c.label == "Bonus")
            .map(|c| c.value.clone())
    };
    registry
        .reload_pack("reloading", &bonus(1))
        .expect("the first version loads");
    assert_eq!(ac_bonus(), Some(json!(1)));

    // A .wasm that no longer compiles, then one that loops in its hook (the probe derivation
    // and fixtures would see it): both keep version 1 live.
    let mut broken = bonus(2);
    broken.insert("plugins/bonus/bonus.wasm".into(), b"\0asm\x01".to_vec());
    let errors = registry
        .reload_pack("reloading", &broken)
        .expect_err("a broken module is refused");
    assert!(
        errors[0].message.contains("not a valid plugin module"),
        "{errors:?}"
    );
    let info = registry.pack("reloading").unwrap();
    assert_eq!(info.status, Status::Stale);
    assert_eq!(ac_bonus(), Some(json!(1)));

    let mut looping = new_pack("reloading");
    add(
        &mut looping,
        "bonus",
        &Wat::new(core_meta("bonus")).body("modifiers", "(loop $l (br $l)) (i64.const 0)"),
    );
    looping.insert(
        "tests/bonus.toml".into(),
        b"[[case]]\nname = \"loads\"\ncharacter = { classes = [{ class = \"fighter\", level = 1 }] }\n"
            .to_vec(),
    );
    let errors = registry
        .reload_pack("reloading", &looping)
        .expect_err("a plugin failing its fixtures is refused");
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("fuel limit 5000000 exhausted in plugin bonus")),
        "{errors:?}"
    );
    assert_eq!(ac_bonus(), Some(json!(1)));

    // Fixed: the new module is new content, compiled and live.
    let info = registry
        .reload_pack("reloading", &bonus(2))
        .expect("the fixed version loads");
    assert_eq!(info.status, Status::Live);
    assert!(info.errors.is_empty());
    assert_eq!(ac_bonus(), Some(json!(2)));
}
