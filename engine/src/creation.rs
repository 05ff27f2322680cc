//! # Character creation
//!
//! A player builds a character by making choices — race, class, scores, skills, languages,
//! starting equipment, spells. [`create`] checks every choice against the compendium (so a
//! homebrew class or background from a pack is checked the same way as the SRD's) and turns the
//! request into the stored [`Character`]. It reports *every* offending field at once, by its JSON
//! path in the request (`abilities.scores.str`, `proficiencies[2]`, `spells.known.wizard`), with
//! what was expected and what was got, so a form can mark all of them in one round trip.
//!
//! Only choices are stored: fixed proficiencies, languages, racial bonuses and HP are derived
//! from the compendium (see [`crate::derive`]), so they are checked against but not copied.
//!
//! Where the SRD leaves it open, Grimoire decides:
//!
//! * **Level** 0 (or missing) means 1. A character created above level 1 takes the average HP for
//!   every level after the first, exactly as [`crate::actions::level_up`] does with no roll.
//! * **Subrace** is required when the race has any; **subclass** is required from the level the
//!   class chooses one (the lowest level its subclasses' tables start at) and refused before it.
//! * **Point buy** may spend fewer than 27 points; never more.
//! * **Proficiency and language choices** must fill every group exactly (`choose`). A pick that
//!   several groups offer (a half-elf rogue's skills) goes wherever it fits; nested choices (the
//!   monk's "artisan's tools or a musical instrument") are flattened, each pick counting one.
//!   Race choices include those of the race's and subrace's traits (the dwarf's tool, the
//!   half-elf's two skills, the high elf's extra language). A pick the character already has
//!   from a fixed source (the acolyte's Insight, the elf's Perception, the human's Common) is
//!   refused, so the player picks another from the same list.
//! * **Equipment**: `equipment[i]` is the index of the option taken in the i-th group of the
//!   class's `starting_equipment_options` followed by the background's. A group that is itself a
//!   category ("druidic focus", the acolyte's holy symbol) has one option, index 0. Every option
//!   that is a choice from a category ("any martial melee weapon", "two martial weapons") takes
//!   its concrete items from `extra_equipment`, in order. An empty `equipment` means no package
//!   was taken: the character gets only the fixed `starting_equipment` of class and background.
//!   Option prerequisites ("a warhammer (if proficient)") are not enforced: the proficiency may
//!   come from a subclass feature the data only states in prose. Equipment packs stay one item.
//!   The first body armour and the first shield are equipped (so the sheet's AC is right), and
//!   every weapon (so the sheet lists its attacks); everything else is carried.
//! * **Spells**: `spells.known.<class>` holds cantrips for every caster, plus the spells known of
//!   bards, rangers, sorcerers and warlocks, plus the wizard's spellbook. `spells.prepared.<class>`
//!   holds the prepared spells of clerics, druids, paladins and wizards (from the spellbook).
//!   Fewer than the table allows is accepted (the player can fill the rest later); more is
//!   refused. Prepared counts are ability modifier + class level (half the level, rounded down,
//!   for a class whose spellcasting starts after level 1 — the paladin), at least 1. Every spell
//!   must be on the class's list and of a level the character has slots for.
//! * **Ability Score Improvements** may be left unspent; at most 2 points per improvement the
//!   class level has reached, 1 or 2 points per entry, and no score above 20 after racial
//!   bonuses and improvements.
//! * **Details** are free text of at most [`DETAILS_MAX`] characters each. A blank optional slug
//!   (`"subrace": ""`) means none.
//!
//! A level-1 human fighter with the acolyte background (chain mail; a longsword and a shield; two
//! handaxes; an explorer's pack; an amulet as holy symbol):
//!
//! ```text
//! {"name": "Brienne", "race": "human", "class": "fighter", "background": "acolyte",
//!  "abilities": {"method": "standard_array",
//!                "scores": {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10}},
//!  "proficiencies": ["skill-athletics", "skill-perception"],
//!  "languages": ["dwarvish", "elvish", "giant"],
//!  "equipment": [0, 0, 1, 1, 0], "extra_equipment": ["longsword", "amulet"],
//!  "alignment": "lawful-good", "details": {"backstory": "Raised in a temple."}}
//! ```
//!
//! * **Standing choices** (`choices`: the dragonborn's ancestry, the half-elf's two +1 ability
//!   bonuses, a fighting style…) must be ones the rule files offer the character at its race,
//!   class and level, with an allowed value (see [`crate::choices`]); any may be left for later.
//!
//! Not covered: the high elf's cantrip (the stored character has no field derivation reads for
//! it yet), feats in place of improvements, multiclassing (a new character has one class), and
//! the SRD's free replacement when two fixed sources grant the same proficiency (no SRD race and
//! background overlap). The half-elf's chosen +1s do not yet count towards the 20 cap on scores
//! after improvements (`asi`); the sheet applies them.

use crate::character::{
    ABILITIES, AbilityIncrease, Character, ClassLevels, CreationRecord, Details, Item,
    SCHEMA_VERSION, Spells,
};
use crate::compendium::Compendium;
use crate::dice::{self, NodeKind, RollOptions};
use crate::rules::RuleSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const STANDARD_ARRAY: [i64; 6] = [15, 14, 13, 12, 10, 8];
pub const POINT_BUY_BUDGET: i64 = 27;
/// Longest name, in characters.
pub const NAME_MAX: usize = 100;
/// Longest text of each [`Details`] field, in characters.
pub const DETAILS_MAX: usize = 10_000;

/// How deep option sets may nest (packs write them); anything deeper is ignored.
const NESTING_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbilityMethod {
    StandardArray,
    PointBuy,
    Rolled,
}

impl AbilityMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            AbilityMethod::StandardArray => "standard_array",
            AbilityMethod::PointBuy => "point_buy",
            AbilityMethod::Rolled => "rolled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbilityChoice {
    pub method: AbilityMethod,
    /// Base scores before racial bonuses, keyed `str` `dex` `con` `int` `wis` `cha`.
    pub scores: BTreeMap<String, i64>,
    /// The host's id of the stored roll; recorded only.
    #[serde(default)]
    pub roll_id: Option<i64>,
}

/// A player's creation request. See the module documentation for what each choice means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct NewCharacter {
    pub name: String,
    /// Compendium `races` slug.
    pub race: String,
    /// Compendium `subraces` slug; required when the race has subraces.
    pub subrace: Option<String>,
    /// Compendium `classes` slug.
    pub class: String,
    /// Compendium `subclasses` slug; required from the level the class chooses one.
    pub subclass: Option<String>,
    /// 1 to 20; 0 (or missing) means 1.
    pub level: u32,
    /// Compendium `backgrounds` slug.
    pub background: Option<String>,
    /// Required.
    pub abilities: Option<AbilityChoice>,
    /// Chosen proficiency slugs (`skill-athletics`, `thieves-tools`, `lute`) from the
    /// `proficiency_choices` of the class, background, race, subrace and their traits.
    pub proficiencies: Vec<String>,
    /// Chosen language slugs from the race's, subrace's, traits' and background's
    /// `language_options`.
    pub languages: Vec<String>,
    /// For each group of the class's and then the background's `starting_equipment_options`,
    /// the index of the option taken; empty takes only the fixed starting equipment.
    pub equipment: Vec<usize>,
    /// The concrete items for options that are a choice from a category ("any simple weapon"),
    /// as equipment slugs, in the order those options come in `equipment`.
    pub extra_equipment: Vec<String>,
    pub spells: Spells,
    pub asi: Vec<AbilityIncrease>,
    /// Compendium `alignments` slug.
    pub alignment: Option<String>,
    pub details: Details,
    /// Standing choices of features, stored as the character's `choices`
    /// (`"draconic-ancestry": "draconic-ancestry-red"`, `"half-elf-ability-bonuses": ["con",
    /// "wis"]`): each must be one the rule files offer this character (see [`crate::choices`]).
    pub choices: BTreeMap<String, Value>,
}

/// One refused choice: the request's JSON path and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The six totals of a 4d6-drop-lowest roll set, with each roll's dice for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbilityRoll {
    pub total: i64,
    /// The four dice, in the order rolled.
    pub dice: Vec<i64>,
    /// The face of the die dropped.
    pub dropped: i64,
    /// `4d6dl1 (6, 5, ~~1~~, 3) = 14`.
    pub rendering: String,
}

/// Rolls six sets of 4d6, dropping the lowest die of each (SRD: Ability Scores, "Determining
/// Ability Scores"). The same seed always gives the same six rolls.
pub fn roll_abilities(seed: u64) -> Vec<AbilityRoll> {
    let expr = dice::parse("4d6dl1").expect("a constant expression");
    let mut rng = dice::rng_from_seed(seed);
    (0..6)
        .map(|_| {
            let roll = dice::roll(&expr, &dice::NoValues, &RollOptions::default(), &mut rng)
                .expect("4 dice are within every limit");
            let mut faces = Vec::with_capacity(4);
            let mut dropped = 0;
            if let NodeKind::Dice { dice, .. } = &roll.tree.kind {
                for d in dice {
                    faces.push(d.face());
                    if d.dropped() {
                        dropped = d.face();
                    }
                }
            }
            AbilityRoll {
                total: roll.total,
                dice: faces,
                dropped,
                rendering: roll.rendering,
            }
        })
        .collect()
}

/// Point-buy cost of a score (SRD: Variant: Customizing Ability Scores), or `None` outside 8–15.
pub fn point_buy_cost(score: i64) -> Option<i64> {
    Some(match score {
        8 => 0,
        9 => 1,
        10 => 2,
        11 => 3,
        12 => 4,
        13 => 5,
        14 => 7,
        15 => 9,
        _ => return None,
    })
}

/// Validates every choice against the compendium and returns the stored character, or every
/// offending field with why. `rolled`: the six totals the server rolled for this player when the
/// method is `rolled` (`None` otherwise).
pub fn create(
    rules: &RuleSet,
    req: &NewCharacter,
    rolled: Option<&[i64]>,
) -> Result<Character, Vec<FieldError>> {
    let comp: &Compendium = &rules.compendium;
    let req = &tidy(req);
    let mut e = Errors::default();

    let name = req.name.trim();
    let name_len = name.chars().count();
    if name_len == 0 {
        e.add("name", "a name is required");
    } else if name_len > NAME_MAX {
        e.add(
            "name",
            format!("at most {NAME_MAX} characters; got {name_len}"),
        );
    }

    let level = if req.level == 0 { 1 } else { req.level };
    if level > 20 {
        e.add("level", format!("levels are 1 to 20; got {level}"));
    }
    let level = level.min(20);

    let race = lookup(comp, &mut e, "race", "races", "race", &req.race);
    let subrace = check_subrace(comp, &mut e, req, race);
    let class = lookup(comp, &mut e, "class", "classes", "class", &req.class);
    if let Some(class) = class {
        check_subclass(comp, &mut e, req, class, level);
    }
    let background = match &req.background {
        Some(b) => lookup(comp, &mut e, "background", "backgrounds", "background", b),
        None => None,
    };
    if let Some(a) = &req.alignment {
        lookup(comp, &mut e, "alignment", "alignments", "alignment", a);
    }
    for (field, text) in [
        ("appearance", &req.details.appearance),
        ("backstory", &req.details.backstory),
        ("personality", &req.details.personality),
        ("notes", &req.details.notes),
    ] {
        let n = text.chars().count();
        if n > DETAILS_MAX {
            e.add(
                format!("details.{field}"),
                format!("at most {DETAILS_MAX} characters; got {n}"),
            );
        }
    }

    let scores = check_abilities(&mut e, req.abilities.as_ref(), rolled);
    let races: Vec<(&str, &Value)> = [(req.race.as_str(), race)]
        .into_iter()
        .chain(req.subrace.as_deref().map(|s| (s, subrace)))
        .filter_map(|(slug, r)| Some((slug, r?)))
        .collect();
    let finals = scores.as_ref().map(|s| final_scores(s, &races, &req.asi));
    if let Some(class) = class {
        check_asi(comp, &mut e, req, level, finals.as_ref());
        check_spells(comp, &mut e, req, class, level, finals.as_ref());
    }

    let sources = Sources {
        comp,
        class: class.map(|c| (req.class.as_str(), c)),
        background: background.map(|b| (req.background.as_deref().unwrap_or(""), b)),
        races: &races,
    };
    check_proficiencies(&mut e, &sources, &req.proficiencies);
    check_languages(&mut e, &sources, &req.languages);
    let equipment = match class {
        Some(c) => build_equipment(comp, &mut e, req, c, background),
        None => Vec::new(),
    };

    // Standing choices are checked against what the rule files offer the character being built
    // — its race, subrace, class and level — so they need those to be known, not the rest.
    if race.is_some() && class.is_some() && !req.choices.is_empty() {
        let draft = Character {
            race: req.race.clone(),
            subrace: req.subrace.clone(),
            classes: vec![ClassLevels {
                class: req.class.clone(),
                level,
                subclass: req.subclass.clone(),
                hp_rolls: Vec::new(),
            }],
            background: req.background.clone(),
            choices: req.choices.clone(),
            ..Character::default()
        };
        e.0.extend(crate::choices::check(rules, &draft));
    }

    if !e.0.is_empty() {
        return Err(e.0);
    }
    let (Some(class), Some(choice), Some(scores)) = (class, &req.abilities, scores) else {
        unreachable!("a missing class or missing scores is an error above");
    };
    let die = class.get("hit_die").and_then(Value::as_u64).unwrap_or(8) as u32;
    Ok(Character {
        schema_version: SCHEMA_VERSION,
        name: name.to_string(),
        race: req.race.clone(),
        subrace: req.subrace.clone(),
        classes: vec![ClassLevels {
            class: req.class.clone(),
            level,
            subclass: req.subclass.clone(),
            hp_rolls: vec![die / 2 + 1; level as usize - 1],
        }],
        background: req.background.clone(),
        abilities: scores,
        proficiencies: req.proficiencies.clone(),
        languages: req.languages.clone(),
        equipment,
        spells: req.spells.clone(),
        asi: req.asi.clone(),
        alignment: req.alignment.clone(),
        details: req.details.clone(),
        choices: req.choices.clone(),
        creation: Some(CreationRecord {
            method: choice.method.as_str().to_string(),
            rolls: match choice.method {
                AbilityMethod::Rolled => rolled.unwrap_or_default().to_vec(),
                _ => Vec::new(),
            },
            roll_id: match choice.method {
                AbilityMethod::Rolled => choice.roll_id,
                _ => None,
            },
        }),
        ..Character::default()
    })
}

/// The request with blank optional slugs as `None` (what a form sends for "none") and empty
/// spell lists dropped.
fn tidy(req: &NewCharacter) -> NewCharacter {
    let mut req = req.clone();
    for slug in [
        &mut req.subrace,
        &mut req.subclass,
        &mut req.background,
        &mut req.alignment,
    ] {
        if slug.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *slug = None;
        }
    }
    req.spells.known.retain(|_, v| !v.is_empty());
    req.spells.prepared.retain(|_, v| !v.is_empty());
    req
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
}

fn lookup<'a>(
    comp: &'a Compendium,
    e: &mut Errors,
    field: &str,
    kind: &str,
    what: &str,
    slug: &str,
) -> Option<&'a Value> {
    if slug.trim().is_empty() {
        e.add(field, format!("a {what} is required"));
        return None;
    }
    let found = comp.get(kind, slug);
    if found.is_none() {
        e.add(field, format!("no {what} \"{slug}\" in the compendium"));
    }
    found
}

/// The word with its indefinite article: `a fighter`, `an 8th`, `an Arcane Tradition`.
fn a(word: &str) -> String {
    let vowel = matches!(
        word.chars().next().map(|c| c.to_ascii_lowercase()),
        Some('a' | 'e' | 'i' | 'o' | 'u' | '8')
    ) || word.starts_with("11")
        || word.starts_with("18");
    format!("{} {word}", if vowel { "an" } else { "a" })
}

fn name_of<'a>(v: &'a Value, slug: &'a str) -> &'a str {
    v.get("name").and_then(Value::as_str).unwrap_or(slug)
}

/// The slug of a reference, written either as `"slug"` or `{"index": "slug", …}`.
fn index_of(v: &Value) -> Option<&str> {
    v.as_str()
        .or_else(|| v.get("index").and_then(Value::as_str))
}

fn list(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// One object or an array of them (the data writes a single choice either way).
fn one_or_many(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

fn check_subrace<'a>(
    comp: &'a Compendium,
    e: &mut Errors,
    req: &NewCharacter,
    race: Option<&Value>,
) -> Option<&'a Value> {
    let offered: Vec<&str> = race
        .map(|r| {
            list(r.get("subraces"))
                .iter()
                .filter_map(index_of)
                .collect()
        })
        .unwrap_or_default();
    match &req.subrace {
        None => {
            if !offered.is_empty() {
                e.add(
                    "subrace",
                    format!(
                        "{} has subraces: choose one of {}",
                        req.race,
                        offered.join(", ")
                    ),
                );
            }
            None
        }
        Some(s) => {
            let sub = lookup(comp, e, "subrace", "subraces", "subrace", s)?;
            let of = sub.pointer("/race/index").and_then(Value::as_str);
            if race.is_some() && of != Some(req.race.as_str()) {
                let expected = if offered.is_empty() {
                    format!("{} has no subraces", req.race)
                } else {
                    format!("{} has {}", req.race, offered.join(", "))
                };
                e.add(
                    "subrace",
                    format!(
                        "{s} is a subrace of {}; {expected}",
                        of.unwrap_or("another race")
                    ),
                );
            }
            Some(sub)
        }
    }
}

/// The level a class chooses its subclass at: where its subclasses' level tables start.
fn subclass_level(comp: &Compendium, class: &Value) -> Option<u32> {
    let subs: Vec<&str> = list(class.get("subclasses"))
        .iter()
        .filter_map(index_of)
        .collect();
    if subs.is_empty() {
        return None;
    }
    subs.iter()
        .filter_map(|s| (1..=20).find(|&l| comp.level(s, l).is_some()))
        .min()
        .or(Some(3))
}

fn check_subclass(
    comp: &Compendium,
    e: &mut Errors,
    req: &NewCharacter,
    class: &Value,
    level: u32,
) {
    let offered: Vec<&str> = list(class.get("subclasses"))
        .iter()
        .filter_map(index_of)
        .collect();
    let at = subclass_level(comp, class);
    let flavor = req
        .subclass
        .as_deref()
        .and_then(|s| comp.get("subclasses", s))
        .or_else(|| offered.first().and_then(|s| comp.get("subclasses", s)))
        .and_then(|s| s.get("subclass_flavor"))
        .and_then(Value::as_str)
        .unwrap_or("subclass");
    match (&req.subclass, at) {
        (None, Some(at)) if level >= at => e.add(
            "subclass",
            format!(
                "a level-{level} {} has {} (chosen at level {at}): one of {}",
                req.class,
                a(flavor),
                offered.join(", ")
            ),
        ),
        (None, _) => {}
        (Some(s), _) => {
            let Some(sub) = lookup(comp, e, "subclass", "subclasses", "subclass", s) else {
                return;
            };
            let of = sub.pointer("/class/index").and_then(Value::as_str);
            if of != Some(req.class.as_str()) {
                e.add(
                    "subclass",
                    format!(
                        "{s} is a subclass of {}; {} has {}",
                        of.unwrap_or("another class"),
                        req.class,
                        if offered.is_empty() {
                            "none".to_string()
                        } else {
                            offered.join(", ")
                        }
                    ),
                );
            } else if let Some(at) = at.filter(|&at| level < at) {
                e.add(
                    "subclass",
                    format!(
                        "{} chooses {} at level {at}; this one is level {level}",
                        a(&req.class),
                        a(flavor)
                    ),
                );
            }
        }
    }
}

fn check_abilities(
    e: &mut Errors,
    choice: Option<&AbilityChoice>,
    rolled: Option<&[i64]>,
) -> Option<BTreeMap<String, i64>> {
    let Some(choice) = choice else {
        e.add(
            "abilities",
            "required: a method and base scores for str, dex, con, int, wis and cha",
        );
        return None;
    };
    let before = e.0.len();
    for k in choice.scores.keys() {
        if !ABILITIES.contains(&k.as_str()) {
            e.add(
                format!("abilities.scores.{k}"),
                format!("unknown ability; expected {}", ABILITIES.join(", ")),
            );
        }
    }
    for ab in ABILITIES {
        if !choice.scores.contains_key(ab) {
            e.add(format!("abilities.scores.{ab}"), "missing base score");
        }
    }
    if e.0.len() > before {
        return None;
    }
    let values: Vec<i64> = ABILITIES.iter().map(|a| choice.scores[*a]).collect();
    let got = join_numbers(&values);
    let mut sorted = values.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    match choice.method {
        AbilityMethod::StandardArray => {
            if sorted != STANDARD_ARRAY {
                e.add(
                    "abilities.scores",
                    format!(
                        "the standard array assigns {} once each; got {got}",
                        join_numbers(&STANDARD_ARRAY)
                    ),
                );
            }
        }
        AbilityMethod::PointBuy => {
            let mut spent = 0;
            for (ab, v) in ABILITIES.iter().zip(&values) {
                match point_buy_cost(*v) {
                    Some(c) => spent += c,
                    None => e.add(
                        format!("abilities.scores.{ab}"),
                        format!("point buy scores are 8 to 15; got {v}"),
                    ),
                }
            }
            if e.0.len() == before && spent > POINT_BUY_BUDGET {
                e.add(
                    "abilities.scores",
                    format!("point buy spends {spent} of {POINT_BUY_BUDGET} points"),
                );
            }
        }
        AbilityMethod::Rolled => match rolled {
            Some(r) if r.len() == 6 => {
                let mut want = r.to_vec();
                want.sort_unstable_by(|a, b| b.cmp(a));
                if sorted != want {
                    e.add(
                        "abilities.scores",
                        format!(
                            "rolled scores assign the six totals rolled ({}) once each; got {got}",
                            join_numbers(r)
                        ),
                    );
                }
            }
            _ => e.add(
                "abilities.method",
                "rolled scores need the server's roll for this character first; none was found",
            ),
        },
    }
    (e.0.len() == before).then(|| choice.scores.clone())
}

fn join_numbers(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// A score's parts, as the SRD pack adds them up.
#[derive(Clone, Copy, Default)]
struct Score {
    base: i64,
    racial: i64,
    improved: i64,
}

impl Score {
    fn total(&self) -> i64 {
        self.base + self.racial + self.improved
    }
}

fn final_scores(
    base: &BTreeMap<String, i64>,
    races: &[(&str, &Value)],
    asi: &[AbilityIncrease],
) -> BTreeMap<String, Score> {
    let mut out: BTreeMap<String, Score> = base
        .iter()
        .map(|(k, v)| {
            let s = Score {
                base: *v,
                ..Score::default()
            };
            (k.clone(), s)
        })
        .collect();
    for (_, r) in races {
        for b in list(r.get("ability_bonuses")) {
            let ab = b.pointer("/ability_score/index").and_then(Value::as_str);
            let bonus = b.get("bonus").and_then(Value::as_i64).unwrap_or(0);
            if let Some(s) = ab.and_then(|ab| out.get_mut(ab)) {
                s.racial += bonus;
            }
        }
    }
    for a in asi {
        if let Some(s) = out.get_mut(&a.ability) {
            s.improved += a.amount;
        }
    }
    out
}

fn ability_name(ab: &str) -> &str {
    match ab {
        "str" => "Strength",
        "dex" => "Dexterity",
        "con" => "Constitution",
        "int" => "Intelligence",
        "wis" => "Wisdom",
        "cha" => "Charisma",
        _ => ab,
    }
}

fn check_asi(
    comp: &Compendium,
    e: &mut Errors,
    req: &NewCharacter,
    level: u32,
    finals: Option<&BTreeMap<String, Score>>,
) {
    if req.asi.is_empty() {
        return;
    }
    let mut points = 0;
    for (i, a) in req.asi.iter().enumerate() {
        if !ABILITIES.contains(&a.ability.as_str()) {
            e.add(
                format!("asi[{i}].ability"),
                format!("unknown ability; expected {}", ABILITIES.join(", ")),
            );
        }
        if !(1..=2).contains(&a.amount) {
            e.add(
                format!("asi[{i}].amount"),
                format!("an improvement adds 1 or 2 points; got {}", a.amount),
            );
        }
        points += a.amount.max(0);
    }
    let improvements = comp
        .level(&req.class, level)
        .and_then(|r| r.get("ability_score_bonuses"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if points > 2 * improvements {
        e.add(
            "asi",
            format!(
                "a level-{level} {} has {improvements} Ability Score Improvement{} ({} points); got {points} points",
                req.class,
                if improvements == 1 { "" } else { "s" },
                2 * improvements
            ),
        );
    }
    let Some(finals) = finals else { return };
    for ab in ABILITIES {
        let Some(s) = finals.get(ab) else { continue };
        if s.total() > 20 {
            e.add(
                "asi",
                format!(
                    "{} would be {} ({} base + {} racial + {} improved); improvements stop at 20",
                    ability_name(ab),
                    s.total(),
                    s.base,
                    s.racial,
                    s.improved
                ),
            );
        }
    }
}

fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn check_spells(
    comp: &Compendium,
    e: &mut Errors,
    req: &NewCharacter,
    class: &Value,
    level: u32,
    finals: Option<&BTreeMap<String, Score>>,
) {
    let slug = req.class.as_str();
    for (list_name, map) in [
        ("known", &req.spells.known),
        ("prepared", &req.spells.prepared),
    ] {
        for k in map.keys().filter(|k| k.as_str() != slug) {
            e.add(
                format!("spells.{list_name}.{k}"),
                format!("{k} is not this character's class ({slug})"),
            );
        }
    }
    let known = req.spells.known.get(slug).map_or(&[][..], Vec::as_slice);
    let prepared = req.spells.prepared.get(slug).map_or(&[][..], Vec::as_slice);
    if known.is_empty() && prepared.is_empty() {
        return;
    }
    let known_field = format!("spells.known.{slug}");
    let prepared_field = format!("spells.prepared.{slug}");
    let Some(casting) = class.get("spellcasting") else {
        let field = if known.is_empty() {
            &prepared_field
        } else {
            &known_field
        };
        e.add(field.clone(), format!("{} casts no spells", a(slug)));
        return;
    };
    let starts = casting.get("level").and_then(Value::as_u64).unwrap_or(1) as u32;
    if level < starts {
        let field = if known.is_empty() {
            &prepared_field
        } else {
            &known_field
        };
        e.add(
            field.clone(),
            format!(
                "{} casts spells from level {starts}; this one is level {level}",
                a(slug)
            ),
        );
        return;
    }
    let row = comp
        .level(slug, level)
        .and_then(|r| r.get("spellcasting"))
        .cloned()
        .unwrap_or(Value::Null);
    let cantrips_max = row
        .get("cantrips_known")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let spells_known = row.get("spells_known").and_then(Value::as_i64);
    let top_slot = (1..=9)
        .filter(|n| {
            row.get(format!("spell_slots_level_{n}"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
        })
        .max()
        .unwrap_or(0);
    let spellbook = list(casting.get("info"))
        .iter()
        .any(|i| i.get("name").and_then(Value::as_str) == Some("Spellbook"));

    let spell_ok = |e: &mut Errors, field: String, s: &str, seen: &mut BTreeSet<String>| {
        if !seen.insert(s.to_string()) {
            e.add(field, format!("{s} is listed twice"));
            return None;
        }
        let Some(rec) = comp.get("spells", s) else {
            e.add(field, format!("no spell \"{s}\" in the compendium"));
            return None;
        };
        let name = name_of(rec, s);
        let on_list = list(rec.get("classes"))
            .iter()
            .any(|c| index_of(c) == Some(slug));
        if !on_list {
            e.add(field, format!("{name} is not on the {slug} spell list"));
            return None;
        }
        let lvl = rec.get("level").and_then(Value::as_i64).unwrap_or(0);
        if lvl > top_slot {
            let most = if top_slot == 0 {
                "no spell slots".to_string()
            } else {
                format!("spell slots up to {} level", ordinal(top_slot))
            };
            e.add(
                field,
                format!(
                    "{name} is {}-level spell; a level-{level} {slug} has {most}",
                    a(&ordinal(lvl))
                ),
            );
            return None;
        }
        Some(lvl)
    };

    let mut seen = BTreeSet::new();
    let (mut cantrips, mut leveled) = (0, 0);
    let mut book = BTreeSet::new();
    for (i, s) in known.iter().enumerate() {
        let field = format!("{known_field}[{i}]");
        let Some(lvl) = spell_ok(e, field.clone(), s, &mut seen) else {
            continue;
        };
        if lvl == 0 {
            cantrips += 1;
        } else if spells_known.is_none() && !spellbook {
            e.add(
                field,
                format!(
                    "{} prepares from the whole {slug} list: put {s} in {prepared_field}",
                    a(slug)
                ),
            );
        } else {
            leveled += 1;
            book.insert(s.as_str());
        }
    }
    if cantrips > cantrips_max {
        e.add(
            known_field.clone(),
            format!("a level-{level} {slug} knows {cantrips_max} cantrips; got {cantrips}"),
        );
    }
    if let Some(n) = spells_known {
        if leveled > n {
            e.add(
                known_field.clone(),
                format!(
                    "a level-{level} {slug} knows {n} spells of 1st level and higher; got {leveled}"
                ),
            );
        }
        if !prepared.is_empty() {
            e.add(
                prepared_field,
                format!("{} casts the spells it knows and prepares none", a(slug)),
            );
        }
        return;
    }
    if spellbook {
        let holds = 6 + 2 * (level as i64 - 1);
        if leveled > holds {
            e.add(
                known_field.clone(),
                format!("a level-{level} {slug}'s spellbook holds {holds} spells; got {leveled}"),
            );
        }
    }
    let ability = casting
        .pointer("/spellcasting_ability/index")
        .and_then(Value::as_str)
        .unwrap_or("int");
    let mut seen = BTreeSet::new();
    for (i, s) in prepared.iter().enumerate() {
        let field = format!("{prepared_field}[{i}]");
        let Some(lvl) = spell_ok(e, field.clone(), s, &mut seen) else {
            continue;
        };
        if lvl == 0 {
            e.add(
                field,
                format!("cantrips are not prepared: put {s} in {known_field}"),
            );
        } else if spellbook && !book.contains(s.as_str()) {
            e.add(
                field,
                format!(
                    "{} prepares from the spellbook, and {s} is not in {known_field}",
                    a(slug)
                ),
            );
        }
    }
    let Some(score) = finals
        .and_then(|f| f.get(ability))
        .map(|s| s.total().min(20))
    else {
        return;
    };
    let class_levels = if starts > 1 { level / 2 } else { level } as i64;
    let most = (score.div_euclid(2) - 5 + class_levels).max(1);
    let count = prepared.len() as i64;
    if count > most {
        e.add(
            prepared_field,
            format!(
                "a level-{level} {slug} with {} {score} prepares up to {most} spells; got {count}",
                ability_name(ability)
            ),
        );
    }
}

/// The class, background, race and subrace records a choice can come from.
struct Sources<'a> {
    comp: &'a Compendium,
    class: Option<(&'a str, &'a Value)>,
    background: Option<(&'a str, &'a Value)>,
    races: &'a [(&'a str, &'a Value)],
}

impl<'a> Sources<'a> {
    /// The records of the race, subrace and their traits, each with a label for messages.
    fn race_records(&self) -> Vec<(String, &'a Value)> {
        let mut out = Vec::new();
        for &(slug, r) in self.races {
            out.push((slug.to_string(), r));
            for t in list(r.get("traits"))
                .iter()
                .chain(list(r.get("racial_traits")))
            {
                let Some(ts) = index_of(t) else { continue };
                if let Some(rec) = self.comp.get("traits", ts) {
                    out.push((format!("{slug} ({})", name_of(rec, ts)), rec));
                }
            }
        }
        out
    }

    /// Every record with a label, in the order class, background, race.
    fn records(&self) -> Vec<(String, &'a Value)> {
        let mut out = Vec::new();
        if let Some((slug, c)) = self.class {
            out.push((slug.to_string(), c));
        }
        if let Some((slug, b)) = self.background {
            out.push((format!("background {slug}"), b));
        }
        out.extend(self.race_records());
        out
    }
}

/// A `choose N from …` group.
struct Group {
    label: String,
    choose: usize,
    /// `(slug, name)`.
    options: Vec<(String, String)>,
}

impl Group {
    fn offers(&self, slug: &str) -> bool {
        self.options.iter().any(|(s, _)| s == slug)
    }

    /// `barbarian chooses 2 skills from Animal Handling, Athletics, …`.
    fn describe(&self, noun: (&str, &str, &str)) -> String {
        let names: Vec<&str> = self
            .options
            .iter()
            .map(|(_, n)| n.strip_prefix("Skill: ").unwrap_or(n))
            .collect();
        let skills = self.options.iter().all(|(s, _)| s.starts_with("skill-"));
        let noun = match (skills, self.choose) {
            (true, 1) => "skill",
            (true, _) => "skills",
            (false, 1) => noun.0,
            (false, _) => noun.1,
        };
        format!(
            "{} chooses {} {noun} from {}",
            self.label,
            self.choose,
            names.join(", ")
        )
    }
}

fn groups(comp: &Compendium, records: &[(String, &Value)], keys: &[&str]) -> Vec<Group> {
    let mut out = Vec::new();
    for (label, rec) in records {
        for key in keys {
            for g in one_or_many(rec.get(*key)) {
                let mut options = Vec::new();
                if let Some(from) = g.get("from") {
                    option_items(comp, from, &mut options, 0);
                }
                // A group cannot ask for more than it offers (and a pack's typo cannot ask for
                // a billion).
                let choose = g.get("choose").and_then(Value::as_u64).unwrap_or(1) as usize;
                let choose = choose.min(options.len());
                out.push(Group {
                    label: label.clone(),
                    choose,
                    options,
                });
            }
        }
    }
    out
}

/// The `(slug, name)` of everything an option set offers, nested choices flattened.
fn option_items(comp: &Compendium, from: &Value, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > NESTING_MAX {
        return;
    }
    match from.get("option_set_type").and_then(Value::as_str) {
        Some("options_array") => {
            for o in list(from.get("options")) {
                option_item(comp, o, out, depth + 1);
            }
        }
        Some("equipment_category") => {
            let cat = from.get("equipment_category").and_then(index_of);
            if let Some(rec) = cat.and_then(|c| comp.get("equipment_categories", c)) {
                for it in list(rec.get("equipment")) {
                    push_reference(it, out);
                }
            }
        }
        Some("resource_list") => {
            let url = from
                .get("resource_list_url")
                .and_then(Value::as_str)
                .unwrap_or("");
            let kind = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            for (slug, rec) in comp.all(&kind.replace('-', "_")) {
                out.push((slug.to_string(), name_of(rec, slug).to_string()));
            }
        }
        _ => {}
    }
}

fn option_item(comp: &Compendium, o: &Value, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > NESTING_MAX {
        return;
    }
    match o.get("option_type").and_then(Value::as_str) {
        Some("reference") => push_reference(o.get("item").unwrap_or(&Value::Null), out),
        Some("counted_reference") => push_reference(o.get("of").unwrap_or(&Value::Null), out),
        Some("choice") => {
            if let Some(f) = o.pointer("/choice/from") {
                option_items(comp, f, out, depth + 1);
            }
        }
        Some("multiple") => {
            for i in list(o.get("items")) {
                option_item(comp, i, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn push_reference(v: &Value, out: &mut Vec<(String, String)>) {
    if let Some(slug) = index_of(v) {
        let name = v.get("name").and_then(Value::as_str).unwrap_or(slug);
        out.push((slug.to_string(), name.to_string()));
    }
}

/// Assigns each pick to a group offering it, at most `choose` per group, as many as possible
/// (augmenting paths: a pick several groups offer moves to make room). Returns the number
/// assigned per group and the picks left over.
fn assign(groups: &[Group], picks: &[&str]) -> (Vec<usize>, Vec<usize>) {
    let slots: Vec<usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, gr)| std::iter::repeat_n(g, gr.choose))
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; slots.len()];
    fn place(
        p: usize,
        picks: &[&str],
        groups: &[Group],
        slots: &[usize],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for s in 0..slots.len() {
            if seen[s] || !groups[slots[s]].offers(picks[p]) {
                continue;
            }
            seen[s] = true;
            if owner[s].is_none_or(|q| place(q, picks, groups, slots, owner, seen)) {
                owner[s] = Some(p);
                return true;
            }
        }
        false
    }
    let mut left = Vec::new();
    for p in 0..picks.len() {
        let mut seen = vec![false; slots.len()];
        if !place(p, picks, groups, &slots, &mut owner, &mut seen) {
            left.push(p);
        }
    }
    let mut counts = vec![0; groups.len()];
    for (s, o) in owner.iter().enumerate() {
        if o.is_some() {
            counts[slots[s]] += 1;
        }
    }
    (counts, left)
}

/// Checks picks against their groups: each offered by some group, no repeats, nothing already
/// granted, and every group filled exactly.
fn check_picks(
    e: &mut Errors,
    field: &str,
    noun: (&str, &str, &str),
    groups: &[Group],
    fixed: &BTreeMap<String, String>,
    picks: &[String],
) {
    let mut valid: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, p) in picks.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !seen.insert(p.as_str()) {
            e.add(at, format!("{p} is chosen twice"));
            continue;
        }
        if !groups.iter().any(|g| g.offers(p)) {
            let offered = if groups.is_empty() {
                format!("this character has no {} to choose", noun.1)
            } else {
                let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
                format!("not offered by {}", labels.join(", "))
            };
            e.add(at, format!("{p}: {offered}"));
            continue;
        }
        if let Some(from) = fixed.get(p.as_str()) {
            e.add(at, format!("{p}: {} {from}; choose another", noun.2));
        }
        valid.push(p);
    }
    let (counts, left) = assign(groups, &valid);
    // Groups that offer a common option are judged together: which of them a shared pick fills
    // is the matching's choice, not the player's.
    let offered = |g: &Group| valid.iter().filter(|p| g.offers(p)).count();
    for component in overlapping(groups) {
        let short = component.iter().any(|&g| counts[g] < groups[g].choose);
        let over = left
            .iter()
            .any(|&p| component.iter().any(|&g| groups[g].offers(valid[p])));
        if !short && !over {
            continue;
        }
        let lacking: Vec<usize> = component
            .iter()
            .copied()
            .filter(|&g| offered(&groups[g]) < groups[g].choose)
            .collect();
        if component.len() == 1 || !lacking.is_empty() {
            for g in if lacking.is_empty() {
                component
            } else {
                lacking
            } {
                let got = offered(&groups[g]);
                e.add(field, format!("{}; got {got}", groups[g].describe(noun)));
            }
        } else {
            let parts: Vec<String> = component
                .iter()
                .map(|&g| groups[g].describe(noun))
                .collect();
            let total: usize = component.iter().map(|&g| groups[g].choose).sum();
            let got = valid
                .iter()
                .filter(|p| component.iter().any(|&g| groups[g].offers(p)))
                .count();
            e.add(
                field,
                format!("{}; {total} in all, got {got}", parts.join("; ")),
            );
        }
    }
}

/// Groups split into sets that share options (directly or through another group).
fn overlapping(groups: &[Group]) -> Vec<Vec<usize>> {
    let mut set: Vec<usize> = (0..groups.len()).collect();
    fn root(set: &mut [usize], mut g: usize) -> usize {
        while set[g] != g {
            g = set[g];
        }
        g
    }
    for a in 0..groups.len() {
        for b in a + 1..groups.len() {
            if groups[a].options.iter().any(|(s, _)| groups[b].offers(s)) {
                let (ra, rb) = (root(&mut set, a), root(&mut set, b));
                set[rb] = ra;
            }
        }
    }
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for g in 0..groups.len() {
        let r = root(&mut set, g);
        out.entry(r).or_default().push(g);
    }
    out.into_values().collect()
}

fn check_proficiencies(e: &mut Errors, src: &Sources, picks: &[String]) {
    let records = src.records();
    let groups = groups(
        src.comp,
        &records,
        &["proficiency_choices", "starting_proficiency_options"],
    );
    let mut fixed = BTreeMap::new();
    for (label, rec) in records.iter().rev() {
        let label = match src.class {
            Some((slug, _)) if label == slug => format!("class {slug}"),
            _ if label.starts_with("background ") => label.clone(),
            _ => format!("race {label}"),
        };
        for key in ["proficiencies", "starting_proficiencies"] {
            for p in list(rec.get(key)).iter().filter_map(index_of) {
                fixed.insert(p.to_string(), label.clone());
            }
        }
    }
    check_picks(
        e,
        "proficiencies",
        ("proficiency", "proficiencies", "already proficient from"),
        &groups,
        &fixed,
        picks,
    );
}

fn check_languages(e: &mut Errors, src: &Sources, picks: &[String]) {
    let records = src.records();
    let groups = groups(src.comp, &records, &["language_options"]);
    let mut fixed = BTreeMap::new();
    for (label, rec) in src.race_records() {
        for l in list(rec.get("languages")).iter().filter_map(index_of) {
            fixed.insert(l.to_string(), format!("race {label}"));
        }
    }
    check_picks(
        e,
        "languages",
        ("language", "languages", "already known from"),
        &groups,
        &fixed,
        picks,
    );
}

fn build_equipment(
    comp: &Compendium,
    e: &mut Errors,
    req: &NewCharacter,
    class: &Value,
    background: Option<&Value>,
) -> Vec<Item> {
    let mut taken: Vec<(String, u32)> = Vec::new();
    for rec in std::iter::once(class).chain(background) {
        for it in list(rec.get("starting_equipment")) {
            if let Some(slug) = it.get("equipment").and_then(index_of) {
                let q = it.get("quantity").and_then(Value::as_u64).unwrap_or(1) as u32;
                taken.push((slug.to_string(), q));
            }
        }
    }
    let groups: Vec<&Value> = std::iter::once(class)
        .chain(background)
        .flat_map(|r| list(r.get("starting_equipment_options")))
        .collect();
    if req.equipment.is_empty() {
        if !req.extra_equipment.is_empty() {
            e.add(
                "extra_equipment",
                "items for equipment choices, but no equipment choice was made",
            );
        }
    } else if groups.is_empty() {
        e.add(
            "equipment",
            format!(
                "there is no starting equipment to choose; got {} picks",
                req.equipment.len()
            ),
        );
    } else if req.equipment.len() != groups.len() {
        let descs: Vec<&str> = groups
            .iter()
            .map(|g| {
                g.get("desc")
                    .or_else(|| g.pointer("/from/equipment_category/name"))
                    .and_then(Value::as_str)
                    .unwrap_or("a choice")
            })
            .collect();
        e.add(
            "equipment",
            format!(
                "starting equipment has {} choices ({}); got {}",
                groups.len(),
                descs.join("; "),
                req.equipment.len()
            ),
        );
    }
    let mut extra = Extra {
        items: &req.extra_equipment,
        next: 0,
    };
    for (i, (&pick, group)) in req.equipment.iter().zip(&groups).enumerate() {
        let field = format!("equipment[{i}]");
        let Some(from) = group.get("from") else {
            continue;
        };
        let desc = group
            .get("desc")
            .or_else(|| from.pointer("/equipment_category/name"))
            .and_then(Value::as_str)
            .unwrap_or("a choice");
        if from.get("option_set_type").and_then(Value::as_str) == Some("options_array") {
            let options = list(from.get("options"));
            match options.get(pick) {
                Some(o) => take_option(comp, e, &field, o, &mut extra, &mut taken, 0),
                None => e.add(
                    field,
                    format!(
                        "{desc}: options are 0 to {}; got {pick}",
                        options.len().saturating_sub(1)
                    ),
                ),
            }
        } else if pick != 0 {
            e.add(field, format!("{desc} has one option, 0; got {pick}"));
        } else {
            let choose = group.get("choose").and_then(Value::as_u64).unwrap_or(1) as usize;
            take_choice(comp, e, &field, desc, choose, from, &mut extra, &mut taken);
        }
    }
    for (k, s) in req.extra_equipment.iter().enumerate().skip(extra.next) {
        e.add(
            format!("extra_equipment[{k}]"),
            format!("{s}: no equipment choice left to use it"),
        );
    }

    let mut items: Vec<Item> = Vec::new();
    for (slug, q) in taken {
        match items.iter_mut().find(|i| i.item == slug) {
            Some(i) => i.quantity = i.quantity.saturating_add(q),
            None => items.push(Item {
                item: slug,
                quantity: q,
                equipped: false,
                attuned: false,
            }),
        }
    }
    let (mut armor, mut shield) = (false, false);
    for it in &mut items {
        let Some(rec) = comp.item(&it.item) else {
            continue;
        };
        match rec.get("armor_category").and_then(Value::as_str) {
            Some("Shield") if !shield => (it.equipped, shield) = (true, true),
            Some("Shield") => {}
            Some(_) if !armor => (it.equipped, armor) = (true, true),
            Some(_) => {}
            None => it.equipped = rec.get("weapon_category").is_some(),
        }
    }
    items
}

/// `extra_equipment`, consumed in order by category choices.
struct Extra<'a> {
    items: &'a [String],
    next: usize,
}

fn take_option(
    comp: &Compendium,
    e: &mut Errors,
    field: &str,
    o: &Value,
    extra: &mut Extra,
    taken: &mut Vec<(String, u32)>,
    depth: usize,
) {
    if depth > NESTING_MAX {
        return;
    }
    match o.get("option_type").and_then(Value::as_str) {
        Some("counted_reference") => {
            if let Some(slug) = o.get("of").and_then(index_of) {
                let q = o.get("count").and_then(Value::as_u64).unwrap_or(1) as u32;
                taken.push((slug.to_string(), q));
            }
        }
        Some("reference") => {
            if let Some(slug) = o.get("item").and_then(index_of) {
                taken.push((slug.to_string(), 1));
            }
        }
        Some("multiple") => {
            for i in list(o.get("items")) {
                take_option(comp, e, field, i, extra, taken, depth + 1);
            }
        }
        Some("choice") => {
            let c = o.get("choice").unwrap_or(&Value::Null);
            let desc = c.get("desc").and_then(Value::as_str).unwrap_or("a choice");
            let choose = c.get("choose").and_then(Value::as_u64).unwrap_or(1) as usize;
            if let Some(from) = c.get("from") {
                take_choice(comp, e, field, desc, choose, from, extra, taken);
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn take_choice(
    comp: &Compendium,
    e: &mut Errors,
    field: &str,
    desc: &str,
    choose: usize,
    from: &Value,
    extra: &mut Extra,
    taken: &mut Vec<(String, u32)>,
) {
    let mut offered = Vec::new();
    option_items(comp, from, &mut offered, 0);
    for n in 0..choose {
        let Some(slug) = extra.items.get(extra.next) else {
            e.add(
                "extra_equipment",
                format!(
                    "{field} ({desc}) needs {choose} item{} from extra_equipment; got {n}",
                    if choose == 1 { "" } else { "s" }
                ),
            );
            return;
        };
        let k = extra.next;
        extra.next += 1;
        if offered.iter().any(|(s, _)| s == slug) {
            taken.push((slug.clone(), 1));
        } else {
            e.add(
                format!("extra_equipment[{k}]"),
                format!("{slug} is not an option for {field} ({desc})"),
            );
        }
    }
}
