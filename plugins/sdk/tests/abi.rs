//! The SDK against ABI v1, natively: a plugin defined here answers JSON exactly as its exported
//! `gr_<hook>` functions do for the host (`call_hook` and the exports share one code path).
//! `view-barbarian-20.json` is a real view the engine built (`engine/src/view.rs`) for a hill
//! dwarf barbarian 20 in chain mail and shield, raging and poisoned, with the Pit Fighter feat.

use grimoire_plugin::*;

fn meta() -> Meta {
    Meta::feature("probe", "Probe")
        .features(&["probe", "probe-feat"])
        .activation("action")
        .srd("none")
}

/// Reads every part of the typed view it can, so a view the SDK misreads fails here.
fn modifiers(sheet: &Sheet) -> Vec<Modifier> {
    let summary = json!({
        "level": sheet.level,
        "barbarian": sheet.class_level("barbarian"),
        "wizard": sheet.class_level("wizard"),
        "rage_count": sheet.table_int("barbarian", "rage_count"),
        "subrace": sheet.race.subrace,
        "armor": [sheet.armor.worn, sheet.armor.category, sheet.armor.base, sheet.armor.max_bonus],
        "shield": sheet.shield.bonus,
        "weapon": sheet.weapons.first().map(|w| (&w.slug, &w.properties)),
        "str": sheet.base_abilities.get("str"),
        "raging": sheet.has_effect("raging"),
        "poisoned": sheet.has_condition("poisoned"),
        "rage": sheet.has_feature("rage"),
        "feats": sheet.feats,
        "saves": sheet.proficiencies.saving_throws,
        "languages": sheet.languages.race,
        "hit_die": sheet.class_list.first().map(|c| c.hit_die),
        "size": sheet.pointer("/race/size"),
    });
    vec![grant("notes", summary.to_string())]
}

fn resources(sheet: &Sheet, fx: &Effect) -> Result<Vec<Resource>, String> {
    if fx.data.is_null() {
        return Err(format!("no data on {} (level {})", fx.id, sheet.level));
    }
    Ok(vec![unlimited(fx.id.clone())])
}

fn choices(_sheet: &Sheet) -> Vec<Choice> {
    vec![
        choice("target", "Who?", &["ally", "foe"]),
        choice("note", "Anything to add?", &[]).optional(),
    ]
}

fn activate(_sheet: &Sheet, ctx: &Context) -> Activation {
    match ctx.choice("target") {
        Some("foe") => refuse("no_foes", "Not today."),
        _ => Activation::new()
            .cost("probe", 2)
            .apply(
                apply("probed", Duration::until("turn_start"))
                    .concentration()
                    .data(json!({ "slots": ctx.slots_spent.get("1") })),
            )
            .op(heal(dice(2, 4)))
            .op(spend_pact_slot())
            .op(note(format!("{} left", ctx.resources["probe"].remaining))),
    }
}

export_hooks!(meta, modifiers, resources, choices, activate);

fn answer(hook: &str, input: &str) -> Value {
    let out = call_hook(hook, input);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{hook} answered non-JSON {out}: {e}"))
}

fn error(hook: &str, input: &str) -> String {
    let out = answer(hook, input);
    out.pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{hook}: expected an error answer, got {out}"))
        .to_string()
}

const VIEW: &str = include_str!("view-barbarian-20.json");

#[test]
fn meta_answers_the_meta_record() {
    assert_eq!(
        answer("meta", "{}"),
        json!({"ok": {"id": "probe", "name": "Probe", "kind": "feature",
                      "features": ["probe", "probe-feat"], "activation": "action", "srd": "none"}})
    );
}

#[test]
fn a_real_engine_view_reads_into_the_typed_sheet() {
    let out = answer("modifiers", &format!(r#"{{"sheet": {VIEW}}}"#));
    let note: Value = serde_json::from_str(out["ok"][0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        note,
        json!({
            "level": 20, "barbarian": 20, "wizard": 0, "rage_count": 9999, "subrace": "hill-dwarf",
            "armor": [true, "heavy", 16, null], "shield": 2,
            "weapon": ["greataxe", ["heavy", "two-handed"]], "str": 10,
            "raging": true, "poisoned": true, "rage": true, "feats": ["pit-fighter"],
            "saves": ["str", "con"], "languages": ["common", "dwarvish"], "hit_die": 12,
            "size": "Medium",
        })
    );
}

#[test]
fn effect_hooks_get_the_effect_and_results_become_answers() {
    let fx = r#"{"id": "fx-2", "source": "dm", "data": {"n": 1}, "rounds_left": null}"#;
    assert_eq!(
        answer(
            "resources",
            &format!(r#"{{"sheet": {{}}, "effect": {fx}}}"#)
        ),
        json!({"ok": [{"id": "fx-2", "unlimited": true}]})
    );
    let bare = r#"{"sheet": {"level": 3}, "effect": {"id": "fx-9", "source": "dm"}}"#;
    assert_eq!(error("resources", bare), "no data on fx-9 (level 3)");
    assert!(error("resources", r#"{"sheet": {}}"#).contains("only effect files"));
}

#[test]
fn choices_and_activation_records_have_the_engine_shape() {
    assert_eq!(
        answer("choices", r#"{"sheet": {}}"#),
        json!({"ok": [
            {"id": "target", "prompt": "Who?", "options": ["ally", "foe"], "required": true},
            {"id": "note", "prompt": "Anything to add?", "required": false},
        ]})
    );
    let ctx = r#"{"feature": "probe", "choices": {"target": "ally"}, "slots_spent": {"1": 2},
                  "resources": {"probe": {"max": 3, "remaining": 3, "unlimited": false}}}"#;
    assert_eq!(
        answer("activate", &format!(r#"{{"sheet": {{}}, "ctx": {ctx}}}"#)),
        json!({"ok": {
            "cost": [{"resource": "probe", "amount": 2}],
            "apply": [{"effect": "probed", "duration": {"until": "turn_start"},
                       "concentration": true, "data": {"slots": 2}}],
            "ops": [{"op": "heal", "amount": "2d4"}, {"op": "spend_slot", "level": 0, "pact": true},
                    {"op": "note", "text": "3 left"}],
        }})
    );
    let foe = r#"{"sheet": {}, "ctx": {"choices": {"target": "foe"}}}"#;
    assert_eq!(
        answer("activate", foe),
        json!({"ok": {"refuse": {"code": "no_foes", "message": "Not today."}}})
    );
}

#[test]
fn bad_input_is_an_error_answer_naming_the_problem() {
    assert!(error("modifiers", "not json").starts_with("input is not the JSON object"));
    assert!(error("modifiers", "[1, 2]").starts_with("input is not the JSON object"));
    assert_eq!(error("modifiers", "{}"), "input has no \"sheet\"");
    assert!(error("modifiers", r#"{"sheet": {"level": "three"}}"#)
        .starts_with("input \"sheet\": invalid type"));
    assert_eq!(
        error("activate", r#"{"sheet": {}}"#),
        "input has no \"ctx\""
    );
    assert!(error("activate", r#"{"sheet": {}, "ctx": {"choices": 1}}"#).contains("invalid type"));
    assert_eq!(
        error("on_event", "{}"),
        "this plugin has no hook \"on_event\""
    );
    let not_utf8 = abi::modifiers(b"{\"sheet\": \"\xff\"}", modifiers);
    let not_utf8: Value = serde_json::from_slice(&not_utf8).unwrap();
    assert!(not_utf8["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("input is not UTF-8"));
}

#[test]
fn unknown_view_fields_are_ignored_and_missing_ones_default() {
    let out = answer(
        "modifiers",
        r#"{"sheet": {"level": 2, "a_field_from_the_future": [1]}}"#,
    );
    let note: Value = serde_json::from_str(out["ok"][0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&note["level"], &note["weapon"], &note["armor"]),
        (&json!(2), &json!(null), &json!([false, "", 0, null]))
    );
    let sheet = Sheet::from_json(r#"{"level": 2, "a_field_from_the_future": [1]}"#).unwrap();
    assert_eq!(sheet.level, 2);
    assert_eq!(sheet.class_level("fighter"), 0);
    assert_eq!(sheet.pointer("/a_field_from_the_future/0"), Some(json!(1)));
}

#[test]
fn modifier_constructors_build_the_rhai_helpers_records() {
    let records = vec![
        base("ac", "13 + @abilities.dex.mod"),
        add("damage", "1d4")
            .when(json!({"range": "melee"}))
            .label("Bless"),
        mul("speed.walk", 0.5),
        set("speed.walk", 0).priority(100),
        at_least("abilities.str.score", 19),
        at_most("ac", 20),
        advantage("saves.dex"),
        disadvantage("checks"),
        grant("resistances", "cold"),
        revoke("languages", "common"),
        modifier("initiative", Op::Add, 5),
        spellcaster("paladin", "half").unwrap(),
    ];
    assert_eq!(
        serde_json::to_value(&records).unwrap(),
        json!([
            {"target": "ac", "op": "base", "value": "13 + @abilities.dex.mod"},
            {"target": "damage", "op": "add", "value": "1d4", "when": {"range": "melee"}, "label": "Bless"},
            {"target": "speed.walk", "op": "mul", "value": 0.5},
            {"target": "speed.walk", "op": "override", "value": 0, "priority": 100},
            {"target": "abilities.str.score", "op": "floor", "value": 19},
            {"target": "ac", "op": "cap", "value": 20},
            {"target": "saves.dex", "op": "advantage"},
            {"target": "checks", "op": "disadvantage"},
            {"target": "resistances", "op": "grant", "value": "cold"},
            {"target": "languages", "op": "remove", "value": "common"},
            {"target": "initiative", "op": "add", "value": 5},
            {"target": "caster_level.paladin", "op": "base", "value": "@classes.paladin.level / 2",
             "label": "paladin: half caster"},
        ])
    );
    assert_eq!(spellcaster("paladin", "quarter"), None);
}

#[test]
fn resource_and_operation_constructors_build_the_rhai_helpers_records() {
    assert_eq!(
        serde_json::to_value(vec![
            resource("ki", "@classes.monk.level", &["short_rest", "long_rest"]),
            unlimited("rage").name("Rage"),
        ])
        .unwrap(),
        json!([
            {"id": "ki", "max": "@classes.monk.level", "recover": ["short_rest", "long_rest"]},
            {"id": "rage", "name": "Rage", "unlimited": true},
        ])
    );
    assert_eq!(
        serde_json::to_value(vec![
            temp_hp("1d6 + 5"),
            restore_slots(&[1, 2]),
            spend_slot(2),
            gain_slot(3),
            restore_pact_slots(4),
            restore("rage", 1),
            end_effect("raging"),
        ])
        .unwrap(),
        json!([
            {"op": "temp_hp", "amount": "1d6 + 5"},
            {"op": "restore_slots", "levels": [1, 2]},
            {"op": "spend_slot", "level": 2, "pact": false},
            {"op": "gain_slot", "level": 3},
            {"op": "restore_pact_slots", "amount": 4},
            {"op": "restore", "resource": "rage", "amount": 1},
            {"op": "end_effect", "effect": "raging"},
        ])
    );
    let durations = [
        Duration::rounds(1),
        Duration::minutes(10),
        Duration::hours(8),
        Duration::permanent(),
    ];
    assert_eq!(
        serde_json::to_value(durations).unwrap(),
        json!([{"rounds": 1}, {"minutes": 10}, {"hours": 8}, {}])
    );
}

#[test]
fn meta_kinds_and_options_serialise_like_rhai_maps() {
    assert_eq!(
        serde_json::to_value(vec![
            Meta::core("speed", "Speed"),
            Meta::condition("dazed", "Dazed").implies(&["incapacitated"]),
            Meta::effect("bless", "Bless")
                .duration(Duration::minutes(1))
                .concentration(),
        ])
        .unwrap(),
        json!([
            {"id": "speed", "name": "Speed", "kind": "core"},
            {"id": "dazed", "name": "Dazed", "kind": "condition", "implies": ["incapacitated"]},
            {"id": "bless", "name": "Bless", "kind": "effect", "duration": {"minutes": 1},
             "concentration": true},
        ])
    );
}
