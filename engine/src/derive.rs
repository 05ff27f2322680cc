//! # Derivation: stored character + rules → sheet, in dependency order, explained
//!
//! 1. **Collect.** Build the script view ([`crate::view`]), pick the rule files that apply (core
//!    files always; feature files for the character's features, traits and feats; effect files for
//!    its active effects; condition files for its conditions and those they imply), and call their
//!    `modifiers` and `resources` hooks. A file that fails is reported on the sheet
//!    (`diagnostics`) and skipped; the others still apply.
//!
//!    Hooks are pure, so their outputs are cached by the rule set at two levels: per character
//!    state (the whole of step 1, and from its second derivation the sheet itself) and per rule
//!    file, keyed by the view fields its source reads (see [`crate::script::Script::view_reads`];
//!    a plugin's by the whole view)
//!    — so a state never seen before (damage taken, another name) runs only the hooks whose
//!    inputs changed. The cached view is read-only to scripts, so no hook sees another's writes.
//! 2. **Evaluate lazily.** Each stat (`abilities.dex.mod`, `ac`, `skills.stealth`…) is computed
//!    on first read, after the stats its formulas read — so a modifier may use any stat
//!    (`@abilities.cha.mod / 2`) and target any other, and the order is the dependency order, not
//!    a fixed list of phases. Reading a stat that is being computed is a cycle: the modifier is
//!    dropped and the sheet names both ends (pack loading refuses such packs, see the registry).
//! 3. **Inside one stat**, the order is fixed: the game's structural formula and every `base`
//!    modifier compete and the highest wins (the SRD lets you pick your best AC calculation) →
//!    `mul` (each factor applied, rounding down) → `add` (all summed; dice terms carried to the roll) →
//!    `floor` (the highest floor) → `cap` (the lowest cap) → `override` (highest `priority`, then
//!    the later pack). Every value is rounded down as it is applied (SRD: Rounding Down).
//! 4. **Rolls** gather their modifiers from their own key and the groups they belong to
//!    (`saves.dex` ← `saves`; `skills.stealth` ← `checks`, `checks.dex`; `attacks.greataxe` ←
//!    `attacks`; `damage.greataxe` ← `damage`), filtered by each modifier's predicate against the
//!    roll's facts. A predicate the sheet cannot decide makes the modifier *situational*: listed on
//!    the roll, not added. Advantage and disadvantage are counted per source.
//!
//! Every value carries its contributions (pack, file:line, op, value, label).

use crate::character::{ABILITIES, Character};
use crate::diagnostic::Diagnostic;
use crate::formula::Formula;
use crate::hooks::{self, Arg, Returned};
use crate::records::{Kind, Modifier, Op, Predicate, Recovery, ResourceDecl};
use crate::rules::RuleSet;
use crate::sheet::*;
use crate::view::SharedView;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// A modifier with where it came from.
#[derive(Debug, Clone)]
pub(crate) struct SMod {
    pub m: Modifier,
    /// The rule file (rule-set index) whose hook returned it: its pack, path and name.
    pub src: usize,
    pub formula: Option<Formula>,
}

/// A resource declaration with where it came from.
#[derive(Debug, Clone)]
pub(crate) struct SRes {
    pub r: ResourceDecl,
    pub pack: String,
    pub file: String,
    pub feature: String,
    pub formula: Option<Formula>,
}

/// What one rule file's `modifiers` and `resources` hooks returned: a pure function of the
/// view fields the file reads (and, in an effect file, of the effect's instance), so cached per
/// rule set by those inputs (see [`prepare`]).
#[derive(Debug, Default)]
pub(crate) struct HookOutput {
    pub mods: Vec<SMod>,
    pub resources: Vec<SRes>,
    pub diagnostics: Vec<Diagnostic>,
}

impl HookOutput {
    /// Whether a hook failed for a reason that depends on the machine's load rather than on its
    /// inputs (the wall-clock backstop; a full plugin instance pool), so must not be cached.
    fn transient(&self) -> bool {
        self.diagnostics.iter().any(|d| {
            d.limit
                .as_deref()
                .is_some_and(|l| l.starts_with("wall-clock") || l.starts_with("concurrent"))
        })
    }
}

/// What step 1 produces: the view, the hooks' records, the applicable feature files and the
/// expanded conditions — all pure functions of the character's view-relevant state and the rule
/// set, so the whole is cached per rule set.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The view, with its script and plugin forms built when first needed (a hook that is not
    /// cached, or `use_feature`'s `choices` and `activate`) and then shared.
    pub view: SharedView,
    /// Each applicable file's hook outputs, in call order.
    pub outputs: Vec<Arc<HookOutput>>,
    /// Applicable feature files (rule set indices).
    pub features: Vec<usize>,
    pub conditions: Vec<String>,
    /// The sheet of this state without the play state the key leaves out (see
    /// [`with_play_state`]), kept once the state is derived a second time.
    sheet: OnceLock<Sheet>,
}

impl Prepared {
    /// Every modifier, in file order.
    pub(crate) fn mods(&self) -> impl Iterator<Item = &SMod> {
        self.outputs.iter().flat_map(|o| o.mods.iter())
    }

    /// Every resource declaration, in file order.
    pub(crate) fn resources(&self) -> impl Iterator<Item = &SRes> {
        self.outputs.iter().flat_map(|o| o.resources.iter())
    }

    fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.outputs.iter().flat_map(|o| o.diagnostics.iter())
    }
}

pub(crate) type Collected = Arc<Prepared>;

/// Feeds what serde writes into a hasher (cache keys without building the bytes).
struct HashWriter<'a>(&'a mut DefaultHasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes a value's JSON form into `h`; false if it does not serialise.
fn hash_json<T: serde::Serialize + ?Sized>(h: &mut DefaultHasher, v: &T) -> bool {
    serde_json::to_writer(HashWriter(h), v).is_ok()
}

/// The parts of a character the view and the hooks see (not uses spent, slots, hit dice or
/// death saves, which the sheet reads directly): the cache key of [`collect`].
#[derive(serde::Serialize)]
struct ViewKey<'a> {
    name: &'a str,
    race: &'a str,
    subrace: &'a Option<String>,
    classes: &'a [crate::character::ClassLevels],
    background: &'a Option<String>,
    abilities: &'a BTreeMap<String, i64>,
    proficiencies: &'a [String],
    expertise: &'a [String],
    feats: &'a [String],
    asi: &'a [crate::character::AbilityIncrease],
    choices: &'a BTreeMap<String, Value>,
    languages: &'a [String],
    equipment: &'a [crate::character::Item],
    effects: &'a [crate::character::ActiveEffect],
    conditions: &'a [String],
    exhaustion: u8,
    hp: &'a crate::character::HitPoints,
}

/// States kept per rule set (each with its view and, once derived twice, its sheet).
const HOOK_CACHE_CAP: usize = 2048;
const FILE_CACHE_CAP: usize = 16384;

/// Conditions with the ones they imply (paralyzed → incapacitated), in order, without repeats.
fn expand_conditions(rules: &RuleSet, c: &Character) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<String> = c.conditions.clone();
    if c.exhaustion > 0 {
        todo.push("exhaustion".into());
    }
    // Conditions an active effect puts on the character while it lasts (its `meta().conditions`).
    for fx in &c.effects {
        if let Some(f) = rules.effect(&fx.effect) {
            todo.extend(f.meta.conditions.iter().cloned());
        }
    }
    while let Some(x) = todo.first().cloned() {
        todo.remove(0);
        if out.contains(&x) {
            continue;
        }
        if let Some(f) = rules.condition(&x) {
            todo.extend(f.meta.implies.iter().cloned());
        }
        out.push(x);
    }
    out
}

/// Step 1. Hooks are pure functions of the view (and of each effect's parameters), and the view
/// a pure function of the character, so the result is cached per rule set, keyed by a hash of
/// the character's view-relevant fields: deriving the same state again (a page reload, a spent
/// use, a spell slot) skips the view and the scripts. Results that hit the wall-clock backstop
/// (or found the plugin instance pool full) are not cached, as they depend on the machine's
/// load (at either level).
pub(crate) fn collect(rules: &RuleSet, c: &Character) -> Collected {
    collect_state(rules, c).0
}

/// [`collect`], and whether the state was seen before.
fn collect_state(rules: &RuleSet, c: &Character) -> (Collected, bool) {
    let mut h = DefaultHasher::new();
    let ok = hash_json(
        &mut h,
        &ViewKey {
            name: &c.name,
            race: &c.race,
            subrace: &c.subrace,
            classes: &c.classes,
            background: &c.background,
            abilities: &c.abilities,
            proficiencies: &c.proficiencies,
            expertise: &c.expertise,
            feats: &c.feats,
            asi: &c.asi,
            choices: &c.choices,
            languages: &c.languages,
            equipment: &c.equipment,
            effects: &c.effects,
            conditions: &c.conditions,
            exhaustion: c.exhaustion,
            hp: &c.hp,
        },
    );
    let key = ok.then(|| h.finish());
    if let Some(hit) = key.and_then(|k| rules.hook_cache.lock().ok()?.get(&k).cloned()) {
        return (hit, true);
    }
    let prepared = Arc::new(prepare(rules, c));
    let transient = prepared.outputs.iter().any(|o| o.transient());
    if let Some(k) = key
        && !transient
        && let Ok(mut cache) = rules.hook_cache.lock()
    {
        if cache.len() >= HOOK_CACHE_CAP {
            cache.clear();
        }
        cache.insert(k, prepared.clone());
    }
    (prepared, false)
}

fn prepare(rules: &RuleSet, c: &Character) -> Prepared {
    let conditions = expand_conditions(rules, c);
    let view = SharedView::new(crate::view::build(c, &rules.compendium, &conditions));
    let mut features = Vec::new();
    // Which files apply, each once, in rule-set order within each kind.
    let mut calls: Vec<(usize, Option<&crate::character::ActiveEffect>)> =
        rules.core.iter().map(|&i| (i, None)).collect();
    let mut seen = HashSet::new();
    if let Some(feats) = view.value.get("features").and_then(Value::as_array) {
        for slug in feats.iter().filter_map(Value::as_str) {
            for &i in rules.by_feature.get(slug).into_iter().flatten() {
                if seen.insert(i) {
                    features.push(i);
                }
            }
        }
    }
    features.sort_unstable();
    calls.extend(features.iter().map(|&i| (i, None)));
    for cond in &conditions {
        if let Some(&i) = rules.conditions.get(cond) {
            calls.push((i, None));
        }
    }
    // An effect applies once however many instances run (SRD: Combining Game Effects); the
    // latest instance's data wins.
    let mut effect_seen = HashSet::new();
    for fx in c.effects.iter().rev() {
        if let Some(&i) = rules.effects.get(&fx.effect)
            && effect_seen.insert(i)
        {
            calls.push((i, Some(fx)));
        }
    }
    // Each file's outputs are looked up by what they depend on: the file, the view fields it
    // reads (all of them if its source lets the view escape) and its effect instance. A state
    // never seen before thus only runs the hooks whose inputs changed.
    let mut field_hashes: HashMap<&str, u64> = HashMap::new();
    let mut field_hash = |field: &str| -> u64 {
        if let Some(&h) = field_hashes.get(field) {
            return h;
        }
        let mut h = DefaultHasher::new();
        let v = view.value.get(field);
        v.is_some().hash(&mut h);
        if let Some(v) = v {
            hash_json(&mut h, v);
        }
        let h = h.finish();
        if let Some((k, _)) = view.value.as_object().and_then(|m| m.get_key_value(field)) {
            field_hashes.insert(k.as_str(), h);
        }
        h
    };
    let mut whole_view: Option<u64> = None;
    let mut outputs = Vec::with_capacity(calls.len());
    for (i, fx) in calls {
        let f = rules.file(i);
        let fx_arg = (f.meta.kind == Kind::Effect).then(|| {
            fx.map(|x| json!({"id": x.id, "source": x.source, "data": x.data, "rounds_left": x.rounds_left}))
                .unwrap_or(Value::Null)
        });
        let mut h = DefaultHasher::new();
        i.hash(&mut h);
        f.code.hash().hash(&mut h);
        let mut ok = true;
        match f.code.view_reads() {
            Some(fields) => {
                for field in fields {
                    field.hash(&mut h);
                    field_hash(field).hash(&mut h);
                }
            }
            None => {
                let w = *whole_view.get_or_insert_with(|| {
                    let mut w = DefaultHasher::new();
                    ok &= hash_json(&mut w, &view.value);
                    w.finish()
                });
                w.hash(&mut h);
            }
        }
        if let Some(fx) = &fx_arg {
            ok &= hash_json(&mut h, fx);
        }
        let key = ok.then(|| h.finish());
        let cached = key.and_then(|k| rules.file_cache.lock().ok()?.get(&k).cloned());
        let out = match cached {
            Some(out) => out,
            None => {
                let out = Arc::new(run_hooks(i, f, &view, fx_arg.as_ref()));
                if let Some(k) = key
                    && !out.transient()
                    && let Ok(mut cache) = rules.file_cache.lock()
                {
                    if cache.len() >= FILE_CACHE_CAP {
                        cache.clear();
                    }
                    cache.insert(k, out.clone());
                }
                out
            }
        };
        outputs.push(out);
    }
    Prepared {
        view,
        outputs,
        features,
        conditions,
        sheet: OnceLock::new(),
    }
}

/// Runs one file's `modifiers` and `resources` hooks (with the effect's instance in effect
/// files, as their second argument).
fn run_hooks(
    i: usize,
    f: &crate::pack::RuleFile,
    view: &SharedView,
    fx: Option<&Value>,
) -> HookOutput {
    let mut out = HookOutput::default();
    let mut args = vec![("sheet", Arg::View(view))];
    if let Some(fx) = fx {
        args.push(("effect", Arg::Data(fx)));
    }
    if f.code.has("modifiers") {
        match hooks::call(&f.code, "modifiers", &args) {
            Ok(v) => out.add_mods(i, f, v),
            Err(d) => out.diagnostics.push(d),
        }
    }
    if f.code.has("resources") {
        match hooks::call(&f.code, "resources", &args) {
            Ok(v) => out.add_resources(f, v),
            Err(d) => out.diagnostics.push(d),
        }
    }
    out
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn formula_of(
    v: &Value,
    f: &crate::pack::RuleFile,
    line: u32,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<Formula>, ()> {
    match v {
        Value::String(s) => match Formula::parse(s) {
            Ok(x) => Ok(Some(x)),
            Err(e) => {
                diags.push(Diagnostic::new(
                    f.code.pack(),
                    f.code.file(),
                    line,
                    1,
                    format!("formula \"{s}\": {e}"),
                ));
                Err(())
            }
        },
        _ => Ok(None),
    }
}

impl HookOutput {
    fn add_mods(&mut self, src: usize, f: &crate::pack::RuleFile, v: Returned) {
        let hook_line = f.code.hook_line("modifiers");
        for item in v.into_list() {
            let m: Modifier = match item.record() {
                Ok(m) => m,
                Err(e) => {
                    let mut d = Diagnostic::new(
                        f.code.pack(),
                        f.code.file(),
                        hook_line,
                        1,
                        format!("modifier record: {e}"),
                    );
                    d.hook = Some("modifiers".into());
                    self.diagnostics.push(d);
                    continue;
                }
            };
            let line = m.line.filter(|l| *l > 0).unwrap_or(hook_line);
            let formula = if matches!(m.op, Op::Grant | Op::Remove) {
                None
            } else {
                match formula_of(&m.value, f, line, &mut self.diagnostics) {
                    Ok(x) => x,
                    Err(()) => continue,
                }
            };
            let mut m = m;
            m.line = Some(line);
            self.mods.push(SMod { m, src, formula });
        }
    }

    fn add_resources(&mut self, f: &crate::pack::RuleFile, v: Returned) {
        let hook_line = f.code.hook_line("resources");
        for item in v.into_list() {
            let r: ResourceDecl = match item.record() {
                Ok(r) => r,
                Err(e) => {
                    let mut d = Diagnostic::new(
                        f.code.pack(),
                        f.code.file(),
                        hook_line,
                        1,
                        format!("resource record: {e}"),
                    );
                    d.hook = Some("resources".into());
                    self.diagnostics.push(d);
                    continue;
                }
            };
            let line = r.line.filter(|l| *l > 0).unwrap_or(hook_line);
            let formula = match formula_of(&r.max, f, line, &mut self.diagnostics) {
                Ok(x) => x,
                Err(()) => continue,
            };
            for rec in &r.recover {
                if let Recovery::Partial { amount, .. } = rec
                    && amount.as_str() != Some("half")
                {
                    // Reported here, where the line is known; evaluated with the stat.
                    let _ = formula_of(amount, f, line, &mut self.diagnostics);
                }
            }
            let mut r = r;
            r.line = Some(line);
            if r.name.is_none() {
                r.name = Some(f.meta.name.clone());
            }
            self.resources.push(SRes {
                r,
                pack: f.code.pack().to_string(),
                file: f.code.file().to_string(),
                feature: f.meta.id.clone(),
                formula,
            });
        }
    }
}

/// Three-valued predicate result: the sheet may not know a fact (`advantage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    Yes,
    No,
    Unknown,
}

fn fact_matches(fact: &Value, want: &Value) -> bool {
    let one = |w: &Value| match fact {
        Value::Array(a) => a.contains(w),
        f => f == w,
    };
    match want {
        Value::Array(ws) => ws.iter().any(one),
        w => one(w),
    }
}

pub(crate) fn eval_predicate(p: &Predicate, facts: &Value) -> Tri {
    let mut result = Tri::Yes;
    for (k, want) in &p.0 {
        let r = match k.as_str() {
            "any" => {
                let subs: Vec<Tri> = as_list(want.clone())
                    .iter()
                    .map(|s| match serde_json::from_value::<Predicate>(s.clone()) {
                        Ok(p) => eval_predicate(&p, facts),
                        Err(_) => Tri::No,
                    })
                    .collect();
                if subs.contains(&Tri::Yes) {
                    Tri::Yes
                } else if subs.contains(&Tri::Unknown) {
                    Tri::Unknown
                } else {
                    Tri::No
                }
            }
            "not" => match serde_json::from_value::<Predicate>(want.clone()) {
                Ok(p) => match eval_predicate(&p, facts) {
                    Tri::Yes => Tri::No,
                    Tri::No => Tri::Yes,
                    Tri::Unknown => Tri::Unknown,
                },
                Err(_) => Tri::No,
            },
            _ => match facts.get(k) {
                None => Tri::Unknown,
                Some(f) => {
                    if fact_matches(f, want) {
                        Tri::Yes
                    } else {
                        Tri::No
                    }
                }
            },
        };
        match r {
            Tri::No => return Tri::No,
            Tri::Unknown => result = Tri::Unknown,
            Tri::Yes => {}
        }
    }
    result
}

impl SMod {
    /// Pack, path and display name of the file that returned this modifier.
    fn origin<'r>(&self, rules: &'r RuleSet) -> (&'r str, &'r str, &'r str) {
        let f = rules.file(self.src);
        (f.code.pack(), f.code.file(), &f.meta.name)
    }
}

fn contribution(rules: &RuleSet, m: &SMod, value: Value, applied: bool) -> Contribution {
    let (pack, file, name) = m.origin(rules);
    Contribution {
        source: pack.to_string(),
        file: file.to_string(),
        line: m.m.line.unwrap_or(0),
        op: m.m.op.as_str().to_string(),
        value,
        label: m.m.label.clone().unwrap_or_else(|| name.to_string()),
        applied,
    }
}

fn engine_c(label: &str, value: f64) -> Contribution {
    Contribution {
        source: "engine".into(),
        file: String::new(),
        line: 0,
        op: "base".into(),
        value: num_json(value),
        label: label.into(),
        applied: true,
    }
}

fn num_json(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn ability_name(ab: &str) -> &'static str {
    match ab {
        "str" => "Strength",
        "dex" => "Dexterity",
        "con" => "Constitution",
        "int" => "Intelligence",
        "wis" => "Wisdom",
        _ => "Charisma",
    }
}

/// Maps keyed by stat paths, rebuilt on every derivation: a fast non-cryptographic hasher (the
/// keys are ours, not an attacker's).
type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// The groups a stat belongs to (`checks`, `checks.dex`): at most two, usually static.
type Groups = smallvec::SmallVec<[std::borrow::Cow<'static, str>; 2]>;

/// Modifier indices (usually a handful: no allocation).
type Idx = smallvec::SmallVec<[usize; 8]>;

/// A cycle found while evaluating.
struct Cycle;

/// The lazy evaluator of step 2.
pub(crate) struct Ev<'a> {
    rules: &'a RuleSet,
    view: &'a Value,
    mods: Vec<&'a SMod>,
    by_target: FastMap<&'a str, Vec<usize>>,
    resources: FastMap<&'a str, &'a SRes>,
    /// Every value computed so far (what formulas read).
    values: FastMap<String, i64>,
    /// Computed stats with their explanations, until the sheet takes them.
    full: FastMap<String, (Stat, Vec<Situational>)>,
    touch_cache: FastMap<String, (Vec<usize>, Vec<usize>)>,
    stack: Vec<(String, Option<usize>)>,
    pub grants: BTreeMap<String, Vec<Granted>>,
    pub facts: HashMap<String, Value>,
    pub diagnostics: Vec<Diagnostic>,
    skills: std::sync::Arc<Vec<(String, String)>>,
    /// Classes that declare a caster fraction (a `caster_level.<class>` record), sorted.
    casters: Vec<&'a str>,
}

/// The class whose compendium levels carry the Multiclass Spellcaster table: the SRD's table is
/// the full casters' table (a wizard of level N has the slots of caster level N).
pub const MULTICLASS_SLOTS_CLASS: &str = "wizard";

impl<'a> Ev<'a> {
    pub(crate) fn new(rules: &'a RuleSet, col: &'a Collected) -> Ev<'a> {
        let mods: Vec<&SMod> = col.mods().collect();
        let mut by_target: FastMap<&str, Vec<usize>> = FastMap::default();
        for (i, m) in mods.iter().enumerate() {
            by_target.entry(m.m.target.as_str()).or_default().push(i);
        }
        let mut grants: BTreeMap<String, Vec<Granted>> = BTreeMap::new();
        for m in &mods {
            let value = match &m.m.value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match m.m.op {
                Op::Grant => {
                    let list = grants.entry(m.m.target.clone()).or_default();
                    let c = contribution(rules, m, json!(value), true);
                    match list.iter_mut().find(|g| g.value == value) {
                        Some(g) => g.sources.push(c),
                        None => list.push(Granted {
                            value,
                            sources: vec![c],
                        }),
                    }
                }
                Op::Remove => {}
                _ => {}
            }
        }
        for m in mods.iter().filter(|m| m.m.op == Op::Remove) {
            let value = m.m.value.as_str().unwrap_or_default();
            if let Some(list) = grants.get_mut(&m.m.target) {
                list.retain(|g| g.value != value);
            }
        }
        let skills = rules.skills.clone();
        let mut casters: Vec<&str> = by_target
            .keys()
            .filter_map(|t| t.strip_prefix("caster_level."))
            .filter(|c| !c.is_empty())
            .collect();
        casters.sort_unstable();
        Ev {
            rules,
            view: &col.view.value,
            mods,
            by_target,
            resources: col.resources().map(|r| (r.r.id.as_str(), r)).collect(),
            values: FastMap::default(),
            full: FastMap::default(),
            touch_cache: FastMap::default(),
            stack: Vec::new(),
            grants,
            facts: HashMap::new(),
            diagnostics: Vec::new(),
            skills,
            casters,
        }
    }

    pub(crate) fn granted(&self, target: &str, value: &str) -> bool {
        self.grants
            .get(target)
            .is_some_and(|l| l.iter().any(|g| g.value == value))
    }

    /// Reads a referenced value for a formula evaluated by modifier `by`.
    fn read(&mut self, r: &str, by: Option<usize>) -> Result<f64, Cycle> {
        let first = r.split('.').next().unwrap_or("");
        if matches!(first, "level" | "classes" | "tables" | "exhaustion") {
            let mut v = self.view;
            for part in r.split('.') {
                match v.get(part) {
                    Some(x) => v = x,
                    None => return Ok(0.0),
                }
            }
            return Ok(v.as_f64().unwrap_or(0.0));
        }
        if let Some(pos) = self.stack.iter().position(|(k, _)| k == r) {
            self.report_cycle(pos, r, by);
            return Err(Cycle);
        }
        if let Some(v) = self.values.get(r) {
            return Ok(*v as f64);
        }
        if let Some(top) = self.stack.last_mut() {
            top.1 = by;
        }
        Ok(self.value(r) as f64)
    }

    fn report_cycle(&mut self, pos: usize, key: &str, by: Option<usize>) {
        let mut path: Vec<String> = self.stack[pos..].iter().map(|(k, _)| k.clone()).collect();
        path.push(key.to_string());
        let sources: Vec<&SMod> = self.stack[pos..]
            .iter()
            .filter_map(|(_, m)| *m)
            .chain(by)
            .map(|i| self.mods[i])
            .collect();
        let names: Vec<String> = sources
            .iter()
            .map(|m| {
                let (pack, file, _) = m.origin(self.rules);
                format!(
                    "{}/{}:{} ({} {} {})",
                    pack,
                    file,
                    m.m.line.unwrap_or(0),
                    m.m.target,
                    m.m.op.as_str(),
                    m.m.value
                )
            })
            .collect();
        // Point at the modifier that closed the loop, or else the first one on it.
        let at = by
            .or_else(|| self.stack[pos..].iter().find_map(|(_, m)| *m))
            .map(|i| &self.mods[i]);
        let (pack, file, line) = at
            .map(|m| {
                let (pack, file, _) = m.origin(self.rules);
                (pack, file, m.m.line.unwrap_or(0))
            })
            .unwrap_or(("engine", "", 0));
        let d = Diagnostic::new(
            pack,
            file,
            line,
            1,
            format!(
                "dependency cycle {}: between {}",
                path.join(" → "),
                names.join(" and ")
            ),
        );
        if !self.diagnostics.contains(&d) {
            self.diagnostics.push(d);
        }
    }

    fn eval_formula(&mut self, f: &Formula, by: Option<usize>) -> Option<crate::formula::Value> {
        let mut cyc = false;
        let res = f.eval::<Cycle>(&mut |r| self.read(r, by));
        match res {
            Ok(Ok(v)) => Some(v),
            Ok(Err(msg)) => {
                if let Some(i) = by {
                    let m = &self.mods[i];
                    let (pack, file, _) = m.origin(self.rules);
                    self.diagnostics.push(Diagnostic::new(
                        pack,
                        file,
                        m.m.line.unwrap_or(0),
                        1,
                        format!("formula \"{}\": {msg}", f.source()),
                    ));
                }
                None
            }
            Err(Cycle) => {
                cyc = true;
                None
            }
        }
        .filter(|_| !cyc)
    }

    /// The value a modifier contributes (number and dice).
    fn mod_value(&mut self, i: usize) -> Option<crate::formula::Value> {
        let m = &self.mods[i];
        match (&m.formula, &m.m.value) {
            (Some(f), _) => {
                let f = f.clone();
                self.eval_formula(&f, Some(i))
            }
            (None, Value::Number(n)) => Some(crate::formula::Value {
                num: n.as_f64().unwrap_or(0.0),
                dice: Vec::new(),
            }),
            (None, Value::Bool(b)) => Some(crate::formula::Value {
                num: if *b { 1.0 } else { 0.0 },
                dice: Vec::new(),
            }),
            _ => None,
        }
    }

    /// The groups a stat belongs to (no facts).
    fn group_names(&self, key: &str) -> Groups {
        let mut parts = key.split('.');
        let names: &[&'static str] = match (parts.next(), parts.next(), parts.next()) {
            (Some("saves"), Some(_), None) => &["saves"],
            (Some("checks"), Some(_), None) => &["checks"],
            (Some("attacks"), Some(_), None) => &["attacks"],
            (Some("damage"), Some(_), None) => &["damage"],
            (Some("spell"), Some(_), Some("dc")) => &["spell.dc"],
            (Some("spell"), Some(_), Some("attack")) => &["attacks", "spell.attack"],
            (Some("initiative"), None, None) => &["checks", "checks.dex"],
            (Some("skills"), Some(sk), None) => {
                let ab = self
                    .skills
                    .iter()
                    .find(|(s, _)| s == sk)
                    .map(|(_, a)| a.as_str())
                    .unwrap_or_default();
                let by_ability = match ab {
                    "str" => "checks.str",
                    "dex" => "checks.dex",
                    "con" => "checks.con",
                    "int" => "checks.int",
                    "wis" => "checks.wis",
                    "cha" => "checks.cha",
                    _ => {
                        return smallvec::smallvec!["checks".into(), format!("checks.{ab}").into()];
                    }
                };
                return smallvec::smallvec!["checks".into(), by_ability.into()];
            }
            _ => &[],
        };
        names
            .iter()
            .map(|n| std::borrow::Cow::Borrowed(*n))
            .collect()
    }

    /// Groups a stat belongs to, and its facts for predicates.
    fn groups(&self, key: &str) -> (Vec<String>, Value) {
        let parts: smallvec::SmallVec<[&str; 4]> = key.split('.').collect();
        match parts.as_slice() {
            ["saves", ab] => (vec!["saves".into()], json!({"ability": ab, "roll": "save"})),
            ["checks", ab] => (
                vec!["checks".into()],
                json!({"ability": ab, "roll": "check"}),
            ),
            ["skills", sk] => {
                let ab = self
                    .skills
                    .iter()
                    .find(|(s, _)| s == sk)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                (
                    vec!["checks".into(), format!("checks.{ab}")],
                    json!({"ability": ab, "skill": sk, "roll": "check"}),
                )
            }
            ["initiative"] => (
                vec!["checks".into(), "checks.dex".into()],
                json!({"ability": "dex", "roll": "initiative"}),
            ),
            ["attacks", slug] => (
                vec!["attacks".into()],
                self.facts.get(*slug).cloned().unwrap_or(Value::Null),
            ),
            ["damage", slug] => (
                vec!["damage".into()],
                self.facts.get(*slug).cloned().unwrap_or(Value::Null),
            ),
            ["spell", _, "attack"] => (
                vec!["attacks".into(), "spell.attack".into()],
                json!({"kind": "spell", "roll": "attack"}),
            ),
            ["spell", _, "dc"] => (vec!["spell.dc".into()], json!({"kind": "spell"})),
            _ => (Vec::new(), Value::Null),
        }
    }

    /// The game's structural value for a stat, if it has one.
    fn builtin(&mut self, key: &str) -> Result<Option<(f64, Vec<Contribution>)>, Cycle> {
        let parts: smallvec::SmallVec<[&str; 4]> = key.split('.').collect();
        let r = match parts.as_slice() {
            ["abilities", ab, "score"] => {
                let v = self.view["base_abilities"][*ab].as_f64().unwrap_or(10.0);
                let mut c = engine_c("base score", v);
                c.source = "character".into();
                Some((v, vec![c]))
            }
            ["abilities", ab, "mod"] => {
                let s = self.read(&format!("abilities.{ab}.score"), None)?;
                let m = ((s - 10.0) / 2.0).floor();
                Some((
                    m,
                    vec![engine_c(
                        &format!("({} score {s} − 10) / 2", ability_name(ab)),
                        m,
                    )],
                ))
            }
            ["saves", ab] => {
                let m = self.read(&format!("abilities.{ab}.mod"), None)?;
                let mut cs = vec![engine_c(&format!("{} modifier", ability_name(ab)), m)];
                let mut v = m;
                if self.granted("proficiencies", &format!("saving-throw-{ab}")) {
                    let p = self.read("proficiency_bonus", None)?;
                    cs.push(engine_c("proficiency", p));
                    v += p;
                }
                Some((v, cs))
            }
            ["checks", ab] => {
                let m = self.read(&format!("abilities.{ab}.mod"), None)?;
                Some((
                    m,
                    vec![engine_c(&format!("{} modifier", ability_name(ab)), m)],
                ))
            }
            ["initiative"] => {
                let m = self.read("abilities.dex.mod", None)?;
                Some((m, vec![engine_c("Dexterity modifier", m)]))
            }
            ["skills", sk] => {
                let ab = self
                    .skills
                    .iter()
                    .find(|(s, _)| s == sk)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_else(|| "str".into());
                let m = self.read(&format!("abilities.{ab}.mod"), None)?;
                let mut cs = vec![engine_c(&format!("{} modifier", ability_name(&ab)), m)];
                let mut v = m;
                let level = self.skill_proficiency(sk);
                if level > 0 {
                    let p = self.read("proficiency_bonus", None)?;
                    let add = p * level as f64;
                    cs.push(engine_c(
                        if level == 2 {
                            "expertise (proficiency × 2)"
                        } else {
                            "proficiency"
                        },
                        add,
                    ));
                    v += add;
                }
                Some((v, cs))
            }
            ["passives", sk] => {
                let s = self.read(&format!("skills.{sk}"), None)?;
                let mode = self.mode(&format!("skills.{sk}"));
                let mut cs = vec![engine_c("10 + skill", 10.0 + s)];
                let mut v = 10.0 + s;
                match mode.mode.as_str() {
                    "advantage" => {
                        cs.push(engine_c("advantage", 5.0));
                        v += 5.0;
                    }
                    "disadvantage" => {
                        cs.push(engine_c("disadvantage", -5.0));
                        v -= 5.0;
                    }
                    _ => {}
                }
                Some((v, cs))
            }
            ["attacks", slug] | ["damage", slug] => {
                let facts = self.facts.get(*slug).cloned().unwrap_or(Value::Null);
                let ab = facts["ability"].as_str().unwrap_or("str").to_string();
                let m = self.read(&format!("abilities.{ab}.mod"), None)?;
                let mut cs = vec![engine_c(&format!("{} modifier", ability_name(&ab)), m)];
                let mut v = m;
                if parts[0] == "attacks" && facts["proficient"] == json!(true) {
                    let p = self.read("proficiency_bonus", None)?;
                    cs.push(engine_c("proficiency", p));
                    v += p;
                }
                if parts[0] == "damage"
                    && let Some(flat) = facts["flat_damage"].as_f64()
                {
                    cs.push(engine_c("unarmed strike", flat));
                    v += flat;
                }
                Some((v, cs))
            }
            ["spell", class, which] => {
                let ab = self
                    .rules
                    .compendium
                    .get("classes", class)
                    .and_then(|c| c.pointer("/spellcasting/spellcasting_ability/index"))
                    .and_then(Value::as_str)
                    .unwrap_or("int")
                    .to_string();
                let m = self.read(&format!("abilities.{ab}.mod"), None)?;
                let p = self.read("proficiency_bonus", None)?;
                let mut cs = Vec::new();
                let mut v = m + p;
                if *which == "dc" {
                    cs.push(engine_c("8", 8.0));
                    v += 8.0;
                }
                cs.push(engine_c(&format!("{} modifier", ability_name(&ab)), m));
                cs.push(engine_c("proficiency", p));
                Some((v, cs))
            }
            // SRD: Multiclassing, Spell Slots. One spellcasting class: its own table. Several:
            // the Multiclass Spellcaster table (the full casters' table) at the combined caster
            // level. Pact Magic is not counted (it has its own pool, `pact_slots`).
            ["caster_level"] => {
                let mut v = 0.0;
                let mut cs = Vec::new();
                for c in self.casters.clone() {
                    let share = self.read(&format!("caster_level.{c}"), None)?;
                    cs.push(engine_c(&format!("{c} caster level"), share));
                    v += share;
                }
                Some((v, cs))
            }
            ["slots", n] => {
                let col = format!("spell_slots_level_{n}");
                match self.casters.as_slice() {
                    [] => None,
                    [one] => {
                        let v = self
                            .view
                            .pointer(&format!("/tables/{one}/{col}"))
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0);
                        Some((v, vec![engine_c(&format!("{one} table"), v)]))
                    }
                    _ => {
                        let cl = self.read("caster_level", None)?.clamp(0.0, 20.0) as u32;
                        let v = (cl > 0)
                            .then(|| self.rules.compendium.level(MULTICLASS_SLOTS_CLASS, cl))
                            .flatten()
                            .and_then(|row| row.get("spellcasting")?.get(&col)?.as_f64())
                            .unwrap_or(0.0);
                        Some((
                            v,
                            vec![engine_c(
                                &format!("Multiclass Spellcaster table, caster level {cl}"),
                                v,
                            )],
                        ))
                    }
                }
            }
            ["resources", id, "max"] => {
                let Some(res) = self.resources.get(id).copied() else {
                    return Ok(None);
                };
                let v = match &res.formula {
                    Some(f) => self
                        .eval_formula(&f.clone(), None)
                        .map(|x| x.num)
                        .unwrap_or(0.0),
                    None => res.r.max.as_f64().unwrap_or(0.0),
                };
                Some((
                    v,
                    vec![Contribution {
                        source: res.pack.clone(),
                        file: res.file.clone(),
                        line: res.r.line.unwrap_or(0),
                        op: "base".into(),
                        value: num_json(v),
                        label: res.r.name.clone().unwrap_or_else(|| res.feature.clone()),
                        applied: true,
                    }],
                ))
            }
            ["resources", id, "recover", on] => {
                let Some(res) = self.resources.get(id).copied() else {
                    return Ok(None);
                };
                let Some(amount) = res.r.recover.iter().find_map(|r| match r {
                    Recovery::Partial { on: o, amount } if o == on => Some(amount),
                    _ => None,
                }) else {
                    return Ok(None);
                };
                let v = match amount {
                    Value::String(s) => {
                        let src = if s == "half" {
                            format!("max(1, @resources.{id}.max / 2)")
                        } else {
                            s.clone()
                        };
                        match Formula::parse(&src) {
                            Ok(f) => self.eval_formula(&f, None).map_or(0.0, |x| x.num),
                            Err(_) => 0.0,
                        }
                    }
                    other => other.as_f64().unwrap_or(0.0),
                };
                Some((
                    v,
                    vec![Contribution {
                        source: res.pack.clone(),
                        file: res.file.clone(),
                        line: res.r.line.unwrap_or(0),
                        op: "base".into(),
                        value: num_json(v),
                        label: format!("{}: regained on {on}", res.r.name.as_deref().unwrap_or(id)),
                        applied: true,
                    }],
                ))
            }
            _ => None,
        };
        Ok(r)
    }

    /// 0, 1 (proficient) or 2 (expertise) for a skill.
    pub(crate) fn skill_proficiency(&self, skill: &str) -> u8 {
        let p = format!("skill-{skill}");
        if self.granted("expertise", &p) {
            2
        } else if self.granted("proficiencies", &p) {
            1
        } else {
            0
        }
    }

    /// Modifier indices that touch `key` (own target and groups), split into those that apply
    /// and those whose predicate is unknown here.
    fn touching(&mut self, key: &str, ops: &[Op]) -> (Idx, Idx) {
        if !self.touch_cache.contains_key(key) {
            let all = self.touching_all(key);
            self.touch_cache.insert(key.to_string(), all);
        }
        let (yes, unknown) = &self.touch_cache[key];
        let keep = |v: &Vec<usize>| -> Idx {
            v.iter()
                .copied()
                .filter(|&i| ops.contains(&self.mods[i].m.op))
                .collect()
        };
        (keep(yes), keep(unknown))
    }

    /// Every modifier touching `key`, whatever its op (computed once per stat).
    fn touching_all(&self, key: &str) -> (Vec<usize>, Vec<usize>) {
        let groups = self.group_names(key);
        let mut candidates = Vec::new();
        for t in std::iter::once(key).chain(groups.iter().map(|g| g.as_ref())) {
            candidates.extend(self.by_target.get(t).into_iter().flatten().copied());
        }
        // Facts are only built when a predicate needs them.
        let facts = if candidates.iter().any(|&i| self.mods[i].m.when.is_some()) {
            self.groups(key).1
        } else {
            Value::Null
        };
        let mut yes = Vec::new();
        let mut unknown = Vec::new();
        {
            for i in candidates {
                match self.mods[i]
                    .m
                    .when
                    .as_ref()
                    .map(|p| eval_predicate(p, &facts))
                {
                    None | Some(Tri::Yes) => yes.push(i),
                    Some(Tri::Unknown) => unknown.push(i),
                    Some(Tri::No) => {}
                }
            }
        }
        yes.sort_unstable();
        unknown.sort_unstable();
        (yes, unknown)
    }

    /// A stat's value, computed on first use.
    pub(crate) fn value(&mut self, key: &str) -> i64 {
        if let Some(v) = self.values.get(key) {
            return *v;
        }
        self.computed(key);
        self.values.get(key).copied().unwrap_or(0)
    }

    fn computed(&mut self, key: &str) {
        let full = self.fresh(key);
        self.full.insert(key.to_string(), full);
    }

    /// Computes a stat and records its value (what formulas read).
    fn fresh(&mut self, key: &str) -> (Stat, Vec<Situational>) {
        self.stack.push((key.to_string(), None));
        let (stat, situational) = self.compute(key);
        let (key, _) = self.stack.pop().unwrap_or_default();
        self.values.insert(key, stat.value);
        (stat, situational)
    }

    /// A stat with its explanation and situational modifiers, for the sheet (which takes it:
    /// formulas keep reading the value).
    pub(crate) fn take(&mut self, key: &str) -> (Stat, Vec<Situational>) {
        match self.full.remove(key) {
            Some(full) => full,
            None => self.fresh(key),
        }
    }

    /// A stat with its explanation, for the sheet.
    pub(crate) fn stat(&mut self, key: &str) -> Stat {
        self.take(key).0
    }

    fn compute(&mut self, key: &str) -> (Stat, Vec<Situational>) {
        let builtin = self.builtin(key).ok().flatten();
        let (idx, unknown) = self.touching(
            key,
            &[Op::Base, Op::Mul, Op::Add, Op::Floor, Op::Cap, Op::Override],
        );
        let mut explain = Vec::new();
        let mut dice = Vec::new();
        // base: the structural formula and every base modifier compete; the highest wins.
        let mut bases: Vec<(f64, Vec<Contribution>)> = Vec::new();
        if let Some(b) = builtin {
            bases.push(b);
        }
        let mut values: Vec<(usize, crate::formula::Value)> = Vec::new();
        for &i in &idx {
            if let Some(mut v) = self.mod_value(i) {
                // "Whenever you divide a number, round down" (SRD: Rounding Down): each value is
                // rounded as it is applied; only `mul` factors (½ speed) stay exact.
                if self.mods[i].m.op != Op::Mul {
                    v.num = v.num.floor();
                }
                values.push((i, v));
            }
        }
        for (i, v) in &values {
            if self.mods[*i].m.op == Op::Base {
                bases.push((
                    v.num,
                    vec![contribution(
                        self.rules,
                        self.mods[*i],
                        num_json(v.num),
                        true,
                    )],
                ));
            }
        }
        let best = bases
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
            .map(|(i, _)| i);
        let mut value = 0.0;
        for (n, (v, cs)) in bases.into_iter().enumerate() {
            let won = Some(n) == best;
            if won {
                value = v;
            }
            explain.extend(cs.into_iter().map(|mut c| {
                c.applied = c.applied && won;
                c
            }));
        }
        let of =
            |op: Op, mods: &[&SMod], values: &[(usize, crate::formula::Value)]| -> Vec<usize> {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, (i, _))| mods[*i].m.op == op)
                    .map(|(n, _)| n)
                    .collect()
            };
        let mods = &self.mods;
        for n in of(Op::Mul, mods, &values) {
            let (i, v) = &values[n];
            value = (value * v.num).floor();
            explain.push(contribution(self.rules, mods[*i], num_json(v.num), true));
        }
        for n in of(Op::Add, mods, &values) {
            let (i, v) = &values[n];
            value += v.num;
            let shown = if v.dice.is_empty() {
                num_json(v.num)
            } else {
                let mut s = v.dice.join(" ");
                if v.num != 0.0 {
                    s.push_str(&format!(" {:+}", v.num));
                }
                json!(s.trim_start_matches('+').trim())
            };
            dice.extend(v.dice.iter().cloned());
            explain.push(contribution(self.rules, mods[*i], shown, true));
        }
        let floors = of(Op::Floor, mods, &values);
        if let Some(&n) = floors
            .iter()
            .max_by(|a, b| values[**a].1.num.total_cmp(&values[**b].1.num))
        {
            for &k in &floors {
                let (i, v) = &values[k];
                let applies = k == n && v.num > value;
                explain.push(contribution(self.rules, mods[*i], num_json(v.num), applies));
            }
            value = value.max(values[n].1.num);
        }
        let caps = of(Op::Cap, mods, &values);
        if let Some(&n) = caps
            .iter()
            .min_by(|a, b| values[**a].1.num.total_cmp(&values[**b].1.num))
        {
            for &k in &caps {
                let (i, v) = &values[k];
                let applies = k == n && v.num < value;
                explain.push(contribution(self.rules, mods[*i], num_json(v.num), applies));
            }
            value = value.min(values[n].1.num);
        }
        let overrides = of(Op::Override, mods, &values);
        // Highest priority wins; on a tie the later modifier (later pack/file) wins.
        if let Some(&n) = overrides
            .iter()
            .max_by_key(|k| (mods[values[**k].0].m.priority, values[**k].0))
        {
            for &k in &overrides {
                let (i, v) = &values[k];
                explain.push(contribution(self.rules, mods[*i], num_json(v.num), k == n));
            }
            value = values[n].1.num;
            dice.clear();
        }
        let situational = unknown
            .into_iter()
            .filter_map(|i| {
                let v = self.mod_value(i)?;
                let shown = if v.dice.is_empty() {
                    num_json(v.num)
                } else {
                    json!(v.dice.join(" ").trim_start_matches('+'))
                };
                Some(Situational {
                    contribution: contribution(self.rules, self.mods[i], shown, false),
                    when: serde_json::to_value(&self.mods[i].m.when).unwrap_or_default(),
                })
            })
            .collect();
        (
            Stat {
                value: value.floor() as i64,
                dice,
                explain,
            },
            situational,
        )
    }

    /// The roll mode of a roll key, counted per source.
    pub(crate) fn mode(&mut self, key: &str) -> RollMode {
        let (idx, _) = self.touching(key, &[Op::Advantage, Op::Disadvantage]);
        let mut mode = RollMode::default();
        for i in idx {
            let c = contribution(self.rules, self.mods[i], Value::Null, true);
            if self.mods[i].m.op == Op::Advantage {
                mode.advantage.push(c);
            } else {
                mode.disadvantage.push(c);
            }
        }
        mode.mode = match (mode.advantage.is_empty(), mode.disadvantage.is_empty()) {
            (false, true) => "advantage",
            (true, false) => "disadvantage",
            _ => "normal",
        }
        .into();
        mode
    }

    /// A d20 roll: bonus, mode, situational modifiers and the expression.
    pub(crate) fn roll(&mut self, key: &str) -> Roll {
        let (bonus, mut situational) = self.take(key);
        let mode = self.mode(key);
        let (_, unknown_modes) = self.touching(key, &[Op::Advantage, Op::Disadvantage]);
        for i in unknown_modes {
            situational.push(Situational {
                contribution: contribution(self.rules, self.mods[i], Value::Null, false),
                when: serde_json::to_value(&self.mods[i].m.when).unwrap_or_default(),
            });
        }
        let d20 = match mode.mode.as_str() {
            "advantage" => "2d20kh1",
            "disadvantage" => "2d20kl1",
            _ => "1d20",
        };
        let expr = expression(d20, bonus.value, &bonus.dice);
        let auto_fail = self
            .grants
            .get("auto_fail")
            .and_then(|l| l.iter().find(|g| g.value == key))
            .map(|g| g.sources.clone())
            .unwrap_or_default();
        Roll {
            bonus,
            mode,
            expr,
            situational,
            auto_fail,
        }
    }
}

/// `1d20 + 5 + 1d4`.
pub(crate) fn expression(head: &str, value: i64, dice: &[String]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(head.len() + 8 + dice.len() * 8);
    s.push_str(head);
    if value > 0 {
        let _ = write!(s, " + {value}");
    } else if value < 0 {
        let _ = write!(s, " - {}", -value);
    }
    for d in dice {
        let (sign, term) = d.split_at(1);
        let _ = write!(s, " {sign} {term}");
    }
    s
}

pub(crate) const FALLBACK_SKILLS: [(&str, &str); 18] = [
    ("acrobatics", "dex"),
    ("animal-handling", "wis"),
    ("arcana", "int"),
    ("athletics", "str"),
    ("deception", "cha"),
    ("history", "int"),
    ("insight", "wis"),
    ("intimidation", "cha"),
    ("investigation", "int"),
    ("medicine", "wis"),
    ("nature", "int"),
    ("perception", "wis"),
    ("performance", "cha"),
    ("persuasion", "cha"),
    ("religion", "int"),
    ("sleight-of-hand", "dex"),
    ("stealth", "dex"),
    ("survival", "wis"),
];

/// The sheet's resources with what the character spent.
fn resources_of(c: &Character, col: &Collected, ev: &mut Ev) -> BTreeMap<String, Resource> {
    let mut out = BTreeMap::new();
    for r in col.resources() {
        let max = if r.r.unlimited {
            Stat::default()
        } else {
            ev.stat(&format!("resources.{}.max", r.r.id))
        };
        let spent = c.resources_spent.get(&r.r.id).copied().unwrap_or(0);
        let remaining = if r.r.unlimited {
            i64::MAX
        } else {
            (max.value - spent as i64).max(0)
        };
        // Partial recoveries: declared on the resource, or added to its stat by another file.
        let prefix = format!("resources.{}.recover.", r.r.id);
        let mut rests: Vec<String> =
            r.r.recover
                .iter()
                .filter(|x| matches!(x, Recovery::Partial { .. }))
                .map(|x| x.on().to_string())
                .collect();
        rests.extend(
            ev.by_target
                .keys()
                .filter_map(|t| t.strip_prefix(prefix.as_str()))
                .map(str::to_string),
        );
        rests.sort_unstable();
        rests.dedup();
        let recover_amount = rests
            .into_iter()
            .map(|on| {
                let st = ev.stat(&format!("{prefix}{on}"));
                (on, st)
            })
            .collect();
        out.insert(
            r.r.id.clone(),
            Resource {
                id: r.r.id.clone(),
                name: r.r.name.clone().unwrap_or_else(|| r.r.id.clone()),
                max,
                spent,
                remaining,
                unlimited: r.r.unlimited,
                recover: r
                    .r
                    .recover
                    .iter()
                    .filter(|x| matches!(x, Recovery::Full(_)))
                    .map(|x| x.on().to_string())
                    .collect(),
                recover_amount,
                source: r.feature.clone(),
            },
        );
    }
    out
}

/// Only the resources of the sheet (what `use_feature` checks costs against), evaluating just
/// the stats they read. Weapon facts are set first, as in a full derivation, so a formula that
/// reads an attack sees the same value.
pub(crate) fn resources(
    rules: &RuleSet,
    c: &Character,
    col: &Collected,
) -> BTreeMap<String, Resource> {
    let mut ev = Ev::new(rules, col);
    attack_facts(&mut ev, rules, c);
    resources_of(c, col, &mut ev)
}

/// Derives the sheet. Never fails: rule files that fail are listed in `sheet.diagnostics`.
///
/// A state derived before (re-reading a sheet, spending a use or a slot) is answered from the
/// sheet kept with its cached hook outputs, with the play state laid over it; the first time a
/// state is derived, nothing extra is kept, so that a new state costs no copy.
pub fn derive(rules: &RuleSet, character: &Character) -> Sheet {
    let (col, seen) = collect_state(rules, character);
    if !seen && col.sheet.get().is_none() {
        return derive_collected(rules, character, &col);
    }
    let base = col
        .sheet
        .get_or_init(|| derive_collected(rules, &without_play_state(character), &col));
    with_play_state(base.clone(), character)
}

/// The character without what the per-state cache key leaves out and the sheet only copies:
/// uses, slots and hit dice spent, spells, death saves.
fn without_play_state(c: &Character) -> Character {
    Character {
        spells: Default::default(),
        resources_spent: Default::default(),
        slots_spent: Default::default(),
        slots_extra: Default::default(),
        pact_slots_spent: 0,
        hit_dice_spent: Default::default(),
        death_saves: Default::default(),
        ..c.clone()
    }
}

/// Lays the play state over a sheet assembled without it: the same values `assemble` gives
/// with it (nothing else on the sheet reads these fields).
fn with_play_state(mut sheet: Sheet, c: &Character) -> Sheet {
    for (die, e) in sheet.hit_dice.iter_mut() {
        e.spent = c.hit_dice_spent.get(die).copied().unwrap_or(0).min(e.total);
        e.remaining = e.total - e.spent;
    }
    for (class, s) in sheet.spellcasting.iter_mut() {
        s.prepared = c.spells.prepared.get(class).cloned().unwrap_or_default();
        s.known = c.spells.known.get(class).cloned().unwrap_or_default();
    }
    if !sheet.spellcasting.is_empty() {
        for (n, extra) in &c.slots_extra {
            if *extra > 0 && n.parse::<u32>().is_ok_and(|l| (1..=9).contains(&l)) {
                sheet.slots.entry(n.clone()).or_default().max += *extra as i64;
            }
        }
    }
    for (n, slot) in sheet.slots.iter_mut() {
        slot.spent = c.slots_spent.get(n).copied().unwrap_or(0);
        slot.remaining = (slot.max - slot.spent as i64).max(0);
    }
    if let Some(p) = sheet.pact_slots.as_mut() {
        p.spent = c.pact_slots_spent;
        p.remaining = (p.max - p.spent as i64).max(0);
    }
    for (id, r) in sheet.resources.iter_mut() {
        r.spent = c.resources_spent.get(id).copied().unwrap_or(0);
        r.remaining = if r.unlimited {
            i64::MAX
        } else {
            (r.max.value - r.spent as i64).max(0)
        };
    }
    sheet.death_saves = c.death_saves.clone();
    sheet
}

pub(crate) fn derive_collected(rules: &RuleSet, character: &Character, col: &Collected) -> Sheet {
    let mut ev = Ev::new(rules, col);
    let mut sheet = assemble(rules, character, col, &mut ev);
    sheet.diagnostics = col.diagnostics().cloned().collect();
    sheet.diagnostics.append(&mut ev.diagnostics);
    sheet
}

/// Weapon facts for predicates and the attack builtins.
fn attack_facts(ev: &mut Ev, rules: &RuleSet, c: &Character) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for it in c.equipment.iter().filter(|i| i.equipped) {
        let Some(rec) = rules.compendium.item(&it.item) else {
            continue;
        };
        let Some(category) = rec.get("weapon_category").and_then(Value::as_str) else {
            continue;
        };
        let range = rec
            .get("weapon_range")
            .and_then(Value::as_str)
            .unwrap_or("Melee")
            .to_ascii_lowercase();
        let props: Vec<String> = rec
            .get("properties")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.get("index")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let str_mod = ev.value("abilities.str.mod");
        let dex_mod = ev.value("abilities.dex.mod");
        // Finesse: the better of Str and Dex (SRD: Weapon Properties); ranged weapons use Dex.
        let ability = if props.iter().any(|p| p == "finesse") {
            if dex_mod > str_mod { "dex" } else { "str" }
        } else if range == "ranged" {
            "dex"
        } else {
            "str"
        };
        let cat = category.to_ascii_lowercase();
        let proficient = ev.granted("proficiencies", &format!("{cat}-weapons"))
            || ev.granted("proficiencies", &format!("{}s", it.item))
            || ev.granted("proficiencies", &it.item);
        let hands = if props.iter().any(|p| p == "two-handed") {
            2
        } else {
            1
        };
        let facts = json!({
            "kind": "weapon", "range": range, "ability": ability, "weapon": it.item,
            "category": cat, "properties": props, "hands": hands, "proficient": proficient,
            "roll": "attack",
        });
        let name = rec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&it.item)
            .to_string();
        let dice = rec
            .pointer("/damage/damage_dice")
            .and_then(Value::as_str)
            .unwrap_or("1")
            .to_string();
        let dtype = rec
            .pointer("/damage/damage_type/index")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        ev.facts.insert(it.item.clone(), facts.clone());
        out.push((name, format!("{dice}|{dtype}"), facts));
    }
    // Unarmed strike (SRD: Melee Attacks): 1 + Strength modifier bludgeoning, always proficient.
    let facts = json!({
        "kind": "weapon", "range": "melee", "ability": "str", "weapon": "unarmed-strike",
        "category": "simple", "properties": [], "hands": 1, "proficient": true,
        "roll": "attack", "flat_damage": 1,
    });
    ev.facts.insert("unarmed-strike".into(), facts.clone());
    out.push(("Unarmed Strike".into(), "|bludgeoning".into(), facts));
    out
}

fn assemble(rules: &RuleSet, c: &Character, col: &Collected, ev: &mut Ev) -> Sheet {
    let mut sheet = Sheet {
        sheet_version: SHEET_VERSION,
        name: c.name.clone(),
        level: c.level(),
        classes: c
            .classes
            .iter()
            .map(|k| (k.class.clone(), k.level))
            .collect(),
        ..Default::default()
    };
    for ab in ABILITIES {
        let score = ev.stat(&format!("abilities.{ab}.score"));
        let modifier = ev.stat(&format!("abilities.{ab}.mod"));
        let save = ev.roll(&format!("saves.{ab}"));
        let check = ev.roll(&format!("checks.{ab}"));
        let save_proficient = ev.granted("proficiencies", &format!("saving-throw-{ab}"));
        sheet.abilities.insert(
            ab.to_string(),
            Ability {
                score,
                modifier,
                save,
                check,
                save_proficient,
            },
        );
    }
    sheet.proficiency_bonus = ev.stat("proficiency_bonus");
    let skills = ev.skills.clone();
    for (sk, ab) in skills.iter().cloned() {
        let roll = ev.roll(&format!("skills.{sk}"));
        let passive = ev.stat(&format!("passives.{sk}"));
        sheet.skills.insert(
            sk.clone(),
            Skill {
                ability: ab,
                proficiency: ev.skill_proficiency(&sk),
                roll,
                passive,
            },
        );
    }
    sheet.ac = ev.stat("ac");
    sheet.initiative = ev.roll("initiative");
    let mut speeds: Vec<String> = vec!["walk".into()];
    let mut senses: Vec<String> = Vec::new();
    for m in col.mods() {
        if let Some(s) = m.m.target.strip_prefix("speed.")
            && !speeds.iter().any(|x| x == s)
        {
            speeds.push(s.to_string());
        }
        if let Some(s) = m.m.target.strip_prefix("senses.")
            && !senses.iter().any(|x| x == s)
        {
            senses.push(s.to_string());
        }
    }
    for s in speeds {
        let st = ev.stat(&format!("speed.{s}"));
        sheet.speed.insert(s, st);
    }
    for s in senses {
        let st = ev.stat(&format!("senses.{s}"));
        sheet.senses.insert(s, st);
    }
    let max = ev.stat("hp.max");
    sheet.hp = HitPoints {
        current: (max.value - c.hp.damage).clamp(0, max.value.max(0)),
        temp: c.hp.temp,
        max,
    };
    for k in &c.classes {
        let die = col
            .view
            .value
            .pointer(&format!("/classes/{}/hit_die", k.class))
            .and_then(Value::as_i64)
            .unwrap_or(8);
        let key = format!("d{die}");
        let e = sheet.hit_dice.entry(key.clone()).or_default();
        e.total += k.level;
        e.spent = c
            .hit_dice_spent
            .get(&key)
            .copied()
            .unwrap_or(0)
            .min(e.total);
        e.remaining = e.total - e.spent;
    }
    // Attacks.
    for (name, dmg, facts) in attack_facts(ev, rules, c) {
        let slug = facts["weapon"].as_str().unwrap_or("").to_string();
        let to_hit = ev.roll(&format!("attacks.{slug}"));
        let (d, damage_situational) = ev.take(&format!("damage.{slug}"));
        let (dice, dtype) = dmg.split_once('|').unwrap_or(("", ""));
        let damage = if dice.is_empty() {
            expression(&d.value.max(0).to_string(), 0, &d.dice)
        } else {
            expression(dice, d.value, &d.dice)
        };
        sheet.attacks.insert(
            slug,
            Attack {
                name,
                ability: facts["ability"].as_str().unwrap_or("").into(),
                range: facts["range"].as_str().unwrap_or("").into(),
                proficient: facts["proficient"] == json!(true),
                to_hit,
                damage,
                damage_type: dtype.into(),
                damage_explain: d.explain,
                damage_situational,
                properties: facts["properties"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        );
    }
    // Spellcasting, from the compendium's class data and level tables.
    for k in &c.classes {
        let Some(ability) = rules
            .compendium
            .get("classes", &k.class)
            .and_then(|r| r.pointer("/spellcasting/spellcasting_ability/index"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let dc = ev.stat(&format!("spell.{}.dc", k.class));
        let attack = ev.roll(&format!("spell.{}.attack", k.class));
        let cantrips = col
            .view
            .value
            .pointer(&format!("/tables/{}/cantrips_known", k.class))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        sheet.spellcasting.insert(
            k.class.clone(),
            Spellcasting {
                class: k.class.clone(),
                ability: ability.into(),
                dc,
                attack,
                cantrips_known: cantrips,
                prepared: c.spells.prepared.get(&k.class).cloned().unwrap_or_default(),
                known: c.spells.known.get(&k.class).cloned().unwrap_or_default(),
            },
        );
    }
    if !sheet.spellcasting.is_empty() {
        if !ev.casters.is_empty() {
            sheet.caster_level = Some(ev.stat("caster_level"));
        }
        for n in 1..=9 {
            let key = n.to_string();
            let st = ev.stat(&format!("slots.{n}"));
            let extra = c.slots_extra.get(&key).copied().unwrap_or(0) as i64;
            let max = st.value.max(0) + extra;
            if max > 0 {
                let spent = c.slots_spent.get(&key).copied().unwrap_or(0);
                sheet.slots.insert(
                    key,
                    Slot {
                        max,
                        spent,
                        remaining: (max - spent as i64).max(0),
                    },
                );
            }
        }
        let max = ev.stat("pact_slots.max");
        if max.value > 0 {
            let level = ev.stat("pact_slots.level");
            let spent = c.pact_slots_spent;
            let mut explain = max.explain;
            explain.extend(level.explain);
            sheet.pact_slots = Some(PactSlots {
                level: level.value,
                max: max.value,
                spent,
                remaining: (max.value - spent as i64).max(0),
                explain,
            });
        }
    }
    sheet.resources = resources_of(c, col, ev);
    // Features: the rule files that apply, then compendium features without rules.
    for &i in &col.features {
        let f = rules.file(i);
        sheet.features.insert(
            f.meta.id.clone(),
            Feature {
                id: f.meta.id.clone(),
                name: f.meta.name.clone(),
                pack: f.code.pack().to_string(),
                file: f.code.file().to_string(),
                activation: f.meta.activation.clone(),
                resources: col
                    .resources()
                    .filter(|r| r.feature == f.meta.id)
                    .map(|r| r.r.id.clone())
                    .collect(),
                srd: f.meta.srd.clone(),
            },
        );
    }
    if let Some(feats) = col.view.value.get("features").and_then(Value::as_array) {
        for slug in feats.iter().filter_map(Value::as_str) {
            if rules.by_feature.contains_key(slug) || sheet.features.contains_key(slug) {
                continue;
            }
            let name = rules
                .compendium
                .get("features", slug)
                .or_else(|| rules.compendium.get("traits", slug))
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
                .unwrap_or(slug);
            sheet.features.insert(
                slug.to_string(),
                Feature {
                    id: slug.to_string(),
                    name: name.to_string(),
                    ..Default::default()
                },
            );
        }
    }
    // Every stat is computed by now: the lists are moved out, not copied.
    let mut list = |t: &str| ev.grants.remove(t).unwrap_or_default();
    sheet.defenses = Defenses {
        resistances: list("resistances"),
        immunities: list("immunities"),
        vulnerabilities: list("vulnerabilities"),
        condition_immunities: list("condition_immunities"),
    };
    sheet.languages = list("languages");
    sheet.proficiencies = list("proficiencies");
    sheet.notes = list("notes");
    sheet.conditions = col.conditions.clone();
    sheet.exhaustion = c.exhaustion;
    sheet.effects = c.effects.clone();
    sheet.death_saves = c.death_saves.clone();
    sheet
}

/// Runs derivation for probe characters and returns only dependency-cycle diagnostics.
pub fn find_cycles(rules: &RuleSet, probes: &[Character]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for p in probes {
        for d in derive(rules, p).diagnostics {
            if d.message.starts_with("dependency cycle") && !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}
