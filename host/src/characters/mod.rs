//! Characters as the API serves them: who may see or change one, the rules it is derived under
//! (the SRD plus its campaign's packs), its sheet (cached by character version, rules generation
//! and packs), and the one write path every change takes.
//!
//! That write path reads the character, lets the engine compute the next state, and writes it
//! only if the stored version is still the one read. A table action that loses that race is
//! simply run again on the fresh state (its meaning — "spend one use of rage" — does not depend
//! on the old one), so concurrent actions serialise without a lock spanning processes; a client
//! that sent `If-Match` gets 409 instead, because its edit was made against what it saw. Within
//! one process, writers of the same character also queue on a striped lock, so they rarely race.

pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use grimoire_engine::actions::{Event, Refusal};
use grimoire_engine::character::{AbilityIncrease, Character};
use grimoire_engine::creation::{self, AbilityMethod, AbilityRoll, NewCharacter};
use grimoire_engine::rules::RuleSet;
use grimoire_engine::sheet::Sheet;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::compendium::SRD_SOURCE;
use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;
use crate::store::{CampaignStatus, CharacterRow, Role, WriteRefusal};

/// How many times an action is re-run after losing a race to another writer in another process.
const ATTEMPTS: usize = 25;
const LOCK_STRIPES: usize = 64;

/// What the caller wants to do with a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// See it: the owner, and members of the campaign it was accepted into (the DM also sees
    /// characters asking to join).
    Read,
    /// Change it: the owner and the campaign's DM.
    Write,
    /// Delete it or move it between campaigns: the owner alone.
    Own,
}

/// How the caller relates to a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Owner,
    Member(Role),
    Stranger,
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct SheetKey {
    id: i64,
    version: i64,
    generation: u64,
    packs: Vec<String>,
}

/// Sheet cache and per-character write queues.
pub struct Characters {
    sheets: moka::sync::Cache<SheetKey, Arc<RawValue>>,
    locks: Vec<tokio::sync::Mutex<()>>,
}

impl Default for Characters {
    fn default() -> Self {
        Characters {
            sheets: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

pub fn not_found(id: i64) -> ApiError {
    ApiError::not_found("CHARACTER_NOT_FOUND", format!("character {id} not found"))
}

fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden {
        code: "FORBIDDEN",
        message: message.to_string(),
    }
}

/// The caller's relation to a stored character.
pub async fn relation(
    state: &AppState,
    user_id: i64,
    row: &CharacterRow,
) -> Result<Relation, ApiError> {
    if row.owner_id == user_id {
        return Ok(Relation::Owner);
    }
    let Some(campaign) = row.campaign_id else {
        return Ok(Relation::Stranger);
    };
    Ok(match state.store().role_in(campaign, user_id).await? {
        Some(role) => Relation::Member(role),
        None => Relation::Stranger,
    })
}

/// Whether `relation` allows `access` to `row`: `Ok(false)` hides the character (404),
/// an error says why a visible character may not be changed (403).
fn allowed(relation: Relation, row: &CharacterRow, access: Access) -> Result<bool, ApiError> {
    let accepted = row.campaign_status == Some(CampaignStatus::Accepted);
    match (relation, access) {
        (Relation::Owner, _) => Ok(true),
        (Relation::Member(Role::Dm), Access::Own) => Err(forbidden(
            "only the character's owner can do this; the DM can remove it from the campaign",
        )),
        (Relation::Member(Role::Dm), _) => Ok(true),
        (Relation::Member(_), _) if !accepted => Ok(false),
        (Relation::Member(_), Access::Read) => Ok(true),
        (Relation::Member(_), _) => Err(forbidden(
            "only the character's owner and the campaign's DM can change it",
        )),
        (Relation::Stranger, _) => Ok(false),
    }
}

/// Loads a character the caller may access as asked; 404 when they may not know it exists.
pub async fn load(
    state: &AppState,
    user_id: i64,
    id: i64,
    access: Access,
) -> Result<CharacterRow, ApiError> {
    let row = state
        .store()
        .find_character(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let rel = relation(state, user_id, &row).await?;
    if allowed(rel, &row, access)? {
        Ok(row)
    } else {
        Err(not_found(id))
    }
}

/// The rule packs a character is derived under: the SRD, plus its campaign's homebrew packs
/// once the DM has accepted it (those still loaded).
pub async fn packs_for(state: &AppState, row: &CharacterRow) -> Result<Vec<String>, ApiError> {
    let mut packs = vec![SRD_SOURCE.to_string()];
    if let (Some(campaign), Some(CampaignStatus::Accepted)) = (row.campaign_id, row.campaign_status)
    {
        for p in state.store().campaign_packs(campaign).await? {
            if state.is_homebrew_pack(&p) {
                packs.push(p);
            }
        }
    }
    Ok(packs)
}

pub fn ruleset(state: &AppState, packs: &[String]) -> Result<(Arc<RuleSet>, u64), ApiError> {
    let generation = state.rules().registry().current();
    let ids: Vec<&str> = packs.iter().map(String::as_str).collect();
    let rules = generation
        .ruleset(&ids)
        .map_err(|message| ApiError::Unavailable {
            code: "RULES_UNAVAILABLE",
            message: format!("the rules for this character cannot be built: {message}"),
        })?;
    Ok((rules, generation.number))
}

/// The stored record, as the engine reads it.
pub fn parse(row: &CharacterRow) -> Result<Character, ApiError> {
    serde_json::from_str(&row.data).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "stored character {} does not parse: {e}",
            row.id
        ))
    })
}

/// The derived sheet of a stored character, as JSON (from the cache when its version, the
/// rules generation and its packs are unchanged).
pub async fn sheet(
    state: &AppState,
    row: &CharacterRow,
) -> Result<(Arc<RawValue>, Vec<String>), ApiError> {
    let packs = packs_for(state, row).await?;
    let (rules, generation) = ruleset(state, &packs)?;
    let key = SheetKey {
        id: row.id,
        version: row.version,
        generation,
        packs,
    };
    if let Some(hit) = state.characters().sheets.get(&key) {
        return Ok((hit, key.packs));
    }
    let character = parse(row)?;
    let json = tokio::task::spawn_blocking(move || {
        let sheet = grimoire_engine::derive::derive(&rules, &character);
        serde_json::value::to_raw_value(&sheet)
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    let json: Arc<RawValue> = Arc::from(json);
    let packs = key.packs.clone();
    state.characters().sheets.insert(key, json.clone());
    Ok((json, packs))
}

/// What an action produced besides the new state (rolls made, for instance).
pub struct Applied<T> {
    pub character: Character,
    pub events: Vec<Event>,
    pub extra: T,
}

/// Runs `action` on the current state of character `id` and stores the result, as described in
/// the module doc. `expected` is the client's If-Match version, if it sent one.
pub async fn mutate<T, F>(
    state: &AppState,
    user_id: i64,
    id: i64,
    expected: Option<i64>,
    action: F,
) -> Result<(CharacterRow, Vec<Event>, T), ApiError>
where
    T: Send + 'static,
    F: Fn(&RuleSet, &Character) -> Result<Applied<T>, ApiError> + Send + Sync + 'static,
{
    let action = Arc::new(action);
    let _queue = state.characters().locks[id.rem_euclid(LOCK_STRIPES as i64) as usize]
        .lock()
        .await;
    for attempt in 0..ATTEMPTS {
        let row = load(state, user_id, id, Access::Write).await?;
        if let Some(v) = expected
            && v != row.version
        {
            return Err(stale(id, row.version));
        }
        let packs = packs_for(state, &row).await?;
        let (rules, generation) = ruleset(state, &packs)?;
        let current = parse(&row)?;
        let run = action.clone();
        // The new state's sheet is derived here too, off the async workers, so the answer (and
        // the next read) find it in the cache.
        let (applied, data, sheet) = tokio::task::spawn_blocking(move || {
            let applied = run(&rules, &current)?;
            let data = serde_json::to_string(&applied.character).map_err(anyhow::Error::from)?;
            let sheet = grimoire_engine::derive::derive(&rules, &applied.character);
            let sheet = serde_json::value::to_raw_value(&sheet).map_err(anyhow::Error::from)?;
            Ok::<_, ApiError>((applied, data, Arc::<RawValue>::from(sheet)))
        })
        .await
        .map_err(anyhow::Error::from)??;
        let name = applied.character.name.clone();
        match state.store().update_character(&row, &name, data).await? {
            Ok(written) => {
                state.characters().sheets.insert(
                    SheetKey {
                        id,
                        version: written.version,
                        generation,
                        packs,
                    },
                    sheet,
                );
                return Ok((written, applied.events, applied.extra));
            }
            Err(WriteRefusal::Missing) => return Err(not_found(id)),
            Err(WriteRefusal::Stale { current }) if expected.is_some() => {
                return Err(stale(id, current));
            }
            Err(WriteRefusal::Stale { .. }) => {
                // Another process wrote first: back off a little, then run again on its result.
                let wait = rand::random::<u64>() % (2 + 2 * attempt as u64);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
    }
    Err(ApiError::Unavailable {
        code: "CHARACTER_BUSY",
        message: format!("character {id} is being changed by many requests at once; try again"),
    })
}

pub fn stale(id: i64, current: i64) -> ApiError {
    ApiError::Conflict {
        code: "VERSION_CONFLICT",
        message: format!(
            "character {id} has changed since you read it (now at version {current}); \
             read it again and reapply your change"
        ),
        details: json!({ "current_version": current }),
    }
}

/// An engine refusal as an API error: the state does not allow it (409), the request names
/// something that is not there (404 for path ids, 422 for body values), or a rule script failed.
pub fn refusal(r: Refusal) -> ApiError {
    let message = r.to_string();
    let details = serde_json::to_value(&r).unwrap_or_else(|_| json!({}));
    let code: &'static str = match &r {
        Refusal::NoUsesLeft { .. } => "NO_USES_LEFT",
        Refusal::NotAvailable { .. } => "FEATURE_NOT_AVAILABLE",
        Refusal::NotActivatable { .. } => "FEATURE_NOT_ACTIVATABLE",
        Refusal::NotAllowed { .. } => "ACTION_NOT_ALLOWED",
        Refusal::NoHitDice { .. } => "NO_HIT_DICE",
        Refusal::MaxLevel => "MAX_LEVEL",
        Refusal::Dead => "CHARACTER_DEAD",
        Refusal::UnknownFeature { .. } => "FEATURE_NOT_FOUND",
        Refusal::NoSuchEffect { .. } => "EFFECT_NOT_FOUND",
        Refusal::MissingChoice { .. } => "MISSING_CHOICE",
        Refusal::InvalidChoice { .. } => "INVALID_CHOICE",
        Refusal::UnknownResource { .. } => "UNKNOWN_RESOURCE",
        Refusal::UnknownEffect { .. } => "UNKNOWN_EFFECT",
        Refusal::UnknownCondition { .. } => "UNKNOWN_CONDITION",
        Refusal::UnknownClass { .. } => "UNKNOWN_CLASS",
        Refusal::Invalid { .. } => "INVALID_ACTION",
        Refusal::Script(_) => "RULE_SCRIPT_FAILED",
    };
    match &r {
        Refusal::NoUsesLeft { .. }
        | Refusal::NotAvailable { .. }
        | Refusal::NotActivatable { .. }
        | Refusal::NotAllowed { .. }
        | Refusal::NoHitDice { .. }
        | Refusal::MaxLevel
        | Refusal::Dead => ApiError::Conflict {
            code,
            message,
            details,
        },
        Refusal::UnknownFeature { .. } | Refusal::NoSuchEffect { .. } => {
            ApiError::NotFound { code, message }
        }
        _ => ApiError::Unprocessable {
            code,
            message,
            details,
        },
    }
}

/// The export document: the whole stored character with the versions needed to read it back.
#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Always `grimoire-character`.
    pub format: String,
    /// The character record's schema version.
    pub schema_version: u32,
    pub exported_at: String,
    pub character: serde_json::Value,
}

pub const EXPORT_FORMAT: &str = "grimoire-character";

fn invalid(fields: FieldErrors) -> ApiError {
    let first = fields
        .iter()
        .next()
        .map(|(k, v)| format!("{k}: {}", v.join("; ")))
        .unwrap_or_default();
    ApiError::Validation {
        message: format!("the character is not valid: {first}"),
        fields,
    }
}

/// A stored record from outside (a PATCH result, an import): it must be exactly a character
/// record — no field the record does not have — and name things the rules know.
pub fn checked_record(rules: &RuleSet, doc: Value) -> Result<Character, ApiError> {
    let character: Character = serde_path_to_error::deserialize(doc.clone())
        .map_err(|e| ApiError::invalid_field(&e.path().to_string(), e.inner().to_string()))?;
    let canonical = serde_json::to_value(&character).map_err(anyhow::Error::from)?;
    if let Some(path) = first_unknown(&doc, &canonical, "") {
        return Err(ApiError::invalid_field(
            &path,
            "the character record has no such field",
        ));
    }
    let fields = validate(rules, &character);
    if fields.is_empty() {
        Ok(character)
    } else {
        Err(invalid(fields))
    }
}

/// Standing choices in `next` that differ from `before` and that the rule files do not offer
/// (a typo, an option that does not exist). Choices left as they were are not re-judged: a
/// character may keep a choice for a feature it has not reached yet.
pub fn changed_choices(
    rules: &RuleSet,
    before: &Character,
    next: &Character,
) -> Result<(), ApiError> {
    if next.choices == before.choices {
        return Ok(());
    }
    let mut fields = FieldErrors::new();
    for e in grimoire_engine::choices::check(rules, next) {
        let id = e.field.strip_prefix("choices.").unwrap_or(&e.field);
        if next.choices.get(id) != before.choices.get(id) {
            fields.entry(e.field).or_default().push(e.message);
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(invalid(fields))
    }
}

/// The path of the first key in `doc` that the record does not keep (`null` counts as absent).
fn first_unknown(doc: &Value, canonical: &Value, at: &str) -> Option<String> {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match (doc, canonical) {
        (Value::Object(d), Value::Object(c)) => d.iter().find_map(|(k, v)| match c.get(k) {
            None if !v.is_null() => Some(join(k)),
            None => None,
            Some(cv) => first_unknown(v, cv, &join(k)),
        }),
        (Value::Array(d), Value::Array(c)) => d
            .iter()
            .zip(c)
            .enumerate()
            .find_map(|(i, (dv, cv))| first_unknown(dv, cv, &format!("{at}[{i}]"))),
        _ => None,
    }
}

fn index_of<'a>(record: &'a Value, field: &str) -> Option<&'a str> {
    record.get(field)?.get("index")?.as_str()
}

/// What the engine needs to be true of a stored character for its sheet to mean anything.
pub fn validate(rules: &RuleSet, c: &Character) -> FieldErrors {
    let comp = &rules.compendium;
    let mut f = FieldErrors::new();
    let mut add = |field: String, problem: String| f.entry(field).or_default().push(problem);
    if c.name.trim().is_empty() || c.name.chars().count() > 100 {
        add("name".into(), "must be 1 to 100 characters".into());
    }
    if comp.get("races", &c.race).is_none() {
        add("race".into(), format!("unknown race {:?}", c.race));
    }
    if let Some(sub) = &c.subrace {
        match comp.get("subraces", sub) {
            None => add("subrace".into(), format!("unknown subrace {sub:?}")),
            Some(r) if index_of(r, "race") != Some(c.race.as_str()) => add(
                "subrace".into(),
                format!("{sub} is not a subrace of {}", c.race),
            ),
            _ => {}
        }
    }
    if let Some(bg) = &c.background
        && comp.get("backgrounds", bg).is_none()
    {
        add("background".into(), format!("unknown background {bg:?}"));
    }
    if c.classes.is_empty() {
        add(
            "classes".into(),
            "a character has at least one class".into(),
        );
    }
    for (i, k) in c.classes.iter().enumerate() {
        if comp.get("classes", &k.class).is_none() {
            add(
                format!("classes[{i}].class"),
                format!("unknown class {:?}", k.class),
            );
        }
        if !(1..=20).contains(&k.level) {
            add(format!("classes[{i}].level"), "must be from 1 to 20".into());
        }
        if c.classes[..i].iter().any(|o| o.class == k.class) {
            add(
                format!("classes[{i}].class"),
                format!("{} is listed twice", k.class),
            );
        }
        if let Some(sub) = &k.subclass {
            match comp.get("subclasses", sub) {
                None => add(
                    format!("classes[{i}].subclass"),
                    format!("unknown subclass {sub:?}"),
                ),
                Some(r) if index_of(r, "class") != Some(k.class.as_str()) => add(
                    format!("classes[{i}].subclass"),
                    format!("{sub} is not a subclass of {}", k.class),
                ),
                _ => {}
            }
        }
    }
    if c.level() > 20 {
        add(
            "classes".into(),
            format!("levels add up to {}; the most is 20", c.level()),
        );
    }
    let keys: Vec<&str> = c.abilities.keys().map(String::as_str).collect();
    let mut wanted = grimoire_engine::character::ABILITIES.to_vec();
    wanted.sort_unstable();
    if keys != wanted {
        add(
            "abilities".into(),
            "must have exactly str, dex, con, int, wis and cha".into(),
        );
    }
    for (k, v) in &c.abilities {
        if !(1..=30).contains(v) {
            add(
                format!("abilities.{k}"),
                format!("must be from 1 to 30, not {v}"),
            );
        }
    }
    if c.exhaustion > 6 {
        add("exhaustion".into(), "must be from 0 to 6".into());
    }
    if c.hp.damage < 0 {
        add("hp.damage".into(), "cannot be negative".into());
    }
    if c.hp.temp < 0 {
        add("hp.temp".into(), "cannot be negative".into());
    }
    if c.death_saves.successes > 3 || c.death_saves.failures > 3 {
        add(
            "death_saves".into(),
            "successes and failures go up to 3".into(),
        );
    }
    for (i, cond) in c.conditions.iter().enumerate() {
        if rules.condition(cond).is_none() && comp.get("conditions", cond).is_none() {
            add(
                format!("conditions[{i}]"),
                format!("unknown condition {cond:?}"),
            );
        }
    }
    for (i, item) in c.equipment.iter().enumerate() {
        if comp.item(&item.item).is_none() {
            add(
                format!("equipment[{i}].item"),
                format!("unknown item {:?}", item.item),
            );
        }
    }
    f
}

/// A class's hit die size (d8 when the record does not say).
pub fn hit_die(rules: &RuleSet, class: &str) -> u64 {
    rules
        .compendium
        .get("classes", class)
        .and_then(|r| r.get("hit_die"))
        .and_then(Value::as_u64)
        .unwrap_or(8)
}

fn ability_name(index: &str) -> String {
    match index {
        "str" => "Strength",
        "dex" => "Dexterity",
        "con" => "Constitution",
        "int" => "Intelligence",
        "wis" => "Wisdom",
        "cha" => "Charisma",
        other => other,
    }
    .to_string()
}

/// Why `scores` do not meet a class's multiclassing prerequisites (SRD: Multiclassing), if they
/// do not: every listed prerequisite, or one of the listed options.
fn unmet_prerequisites(class: &str, record: &Value, score: &dyn Fn(&str) -> i64) -> Option<String> {
    let mc = record.get("multi_classing")?;
    let need = |p: &Value| -> Option<(String, i64)> {
        let ability = index_of(p, "ability_score")?.to_string();
        Some((ability, p.get("minimum_score")?.as_i64()?))
    };
    let describe =
        |(a, min): &(String, i64)| format!("{} {min} (you have {})", ability_name(a), score(a));
    let all: Vec<(String, i64)> = mc
        .get("prerequisites")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(need).collect())
        .unwrap_or_default();
    let unmet: Vec<String> = all
        .iter()
        .filter(|(a, m)| score(a) < *m)
        .map(describe)
        .collect();
    if !unmet.is_empty() {
        return Some(format!(
            "multiclassing with {class} needs {}",
            unmet.join(" and ")
        ));
    }
    let options: Vec<(String, i64)> = mc
        .pointer("/prerequisite_options/from/options")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(need).collect())
        .unwrap_or_default();
    if !options.is_empty() && !options.iter().any(|(a, m)| score(a) >= *m) {
        let list: Vec<String> = options.iter().map(describe).collect();
        return Some(format!(
            "multiclassing with {class} needs {}",
            list.join(" or ")
        ));
    }
    None
}

/// Checks a level-up the engine cannot judge alone: the subclass belongs to the class,
/// multiclassing prerequisites (of the new class and of every class already taken), and an
/// ability score improvement only where the class level grants one.
pub fn check_level_up(
    rules: &RuleSet,
    c: &Character,
    class: &str,
    subclass: Option<&str>,
    asi: &[AbilityIncrease],
) -> Result<(), ApiError> {
    let comp = &rules.compendium;
    let mut f = FieldErrors::new();
    let Some(record) = comp.get("classes", class) else {
        return Err(ApiError::invalid_field(
            "class",
            format!("unknown class {class:?}"),
        ));
    };
    if let Some(sub) = subclass {
        match comp.get("subclasses", sub) {
            Some(r) if index_of(r, "class") == Some(class) => {}
            Some(_) => {
                f.insert(
                    "subclass".into(),
                    vec![format!("{sub} is not a subclass of {class}")],
                );
            }
            None => {
                f.insert("subclass".into(), vec![format!("unknown subclass {sub:?}")]);
            }
        }
    }
    let needs_sheet = (!c.classes.is_empty() && c.class_level(class) == 0) || !asi.is_empty();
    let sheet = needs_sheet.then(|| grimoire_engine::derive::derive(rules, c));
    let score = |a: &str| {
        sheet
            .as_ref()
            .and_then(|s| s.abilities.get(a))
            .map(|a| a.score.value)
            .unwrap_or(0)
    };
    if !c.classes.is_empty() && c.class_level(class) == 0 {
        let mut problems: Vec<String> = unmet_prerequisites(class, record, &score)
            .into_iter()
            .collect();
        for k in &c.classes {
            if let Some(r) = comp.get("classes", &k.class) {
                problems.extend(unmet_prerequisites(&k.class, r, &score));
            }
        }
        if !problems.is_empty() {
            f.insert("class".into(), problems);
        }
    }
    if !asi.is_empty() {
        let level = c.class_level(class) + 1;
        let bonuses = |l: u32| {
            comp.level(class, l)
                .and_then(|r| r.get("ability_score_bonuses"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        let mut problems = Vec::new();
        if bonuses(level) <= bonuses(level - 1) {
            problems.push(format!(
                "{class} level {level} grants no ability score improvement"
            ));
        }
        let total: i64 = asi.iter().map(|a| a.amount).sum();
        if total != 2 || asi.iter().any(|a| a.amount < 1) {
            problems.push("an improvement is +2 to one score or +1 to two".into());
        }
        for a in asi {
            if !grimoire_engine::character::ABILITIES.contains(&a.ability.as_str()) {
                problems.push(format!("unknown ability {:?}", a.ability));
            } else {
                let same: i64 = asi
                    .iter()
                    .filter(|b| b.ability == a.ability)
                    .map(|b| b.amount)
                    .sum();
                if score(&a.ability) + same > 20 {
                    problems.push(format!("{} would go above 20", ability_name(&a.ability)));
                }
            }
        }
        problems.dedup();
        if !problems.is_empty() {
            f.insert("asi".into(), problems);
        }
    }
    if f.is_empty() {
        Ok(())
    } else {
        Err(invalid(f))
    }
}

/// The values `@name` references read in a roll from the sheet: `@str` (modifier), `@prof`,
/// `@level`, `@ac`, `@abilities.str.score`, `@abilities.str.mod`, `@saves.dex`, `@skills.stealth`.
pub fn roll_values(sheet: &Sheet) -> Value {
    let mut values = Map::new();
    let mut abilities = Map::new();
    let mut saves = Map::new();
    for (k, a) in &sheet.abilities {
        values.insert(k.clone(), json!(a.modifier.value));
        abilities.insert(
            k.clone(),
            json!({ "score": a.score.value, "mod": a.modifier.value }),
        );
        saves.insert(k.clone(), json!(a.save.bonus.value));
    }
    let skills: Map<String, Value> = sheet
        .skills
        .iter()
        .map(|(k, s)| (k.clone(), json!(s.roll.bonus.value)))
        .collect();
    values.insert("abilities".into(), Value::Object(abilities));
    values.insert("saves".into(), Value::Object(saves));
    values.insert("skills".into(), Value::Object(skills));
    values.insert("prof".into(), json!(sheet.proficiency_bonus.value));
    values.insert(
        "proficiency_bonus".into(),
        json!(sheet.proficiency_bonus.value),
    );
    values.insert("level".into(), json!(sheet.level));
    values.insert("ac".into(), json!(sheet.ac.value));
    values.insert("initiative".into(), json!(sheet.initiative.bonus.value));
    Value::Object(values)
}

/// Creation's field errors as a 422 naming each field.
pub fn creation_errors(errors: Vec<creation::FieldError>) -> ApiError {
    let mut fields = FieldErrors::new();
    for e in errors {
        fields.entry(e.field).or_default().push(e.message);
    }
    invalid(fields)
}

/// A new character from a player's choices, validated against the SRD; with rolled scores, the
/// server's roll is looked up (not used up: creating uses it, in the same transaction as the
/// insert). Returns the record and the roll's id.
pub async fn new_character(
    state: &AppState,
    user_id: i64,
    req: &NewCharacter,
) -> Result<(Character, Option<i64>), ApiError> {
    let roll_id = req
        .abilities
        .as_ref()
        .filter(|a| a.method == AbilityMethod::Rolled)
        .and_then(|a| a.roll_id);
    let rolled: Option<Vec<i64>> = match roll_id {
        None => None,
        Some(id) => {
            let json = state
                .store()
                .find_ability_roll(id, user_id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "abilities.roll_id",
                        format!(
                            "no unused ability roll {id} of yours (each roll makes one character)"
                        ),
                    )
                })?;
            let rolls: Vec<AbilityRoll> =
                serde_json::from_str(&json).map_err(anyhow::Error::from)?;
            Some(rolls.iter().map(|r| r.total).collect())
        }
    };
    let (rules, _) = ruleset(state, &[SRD_SOURCE.to_string()])?;
    let character = creation::create(&rules, req, rolled.as_deref()).map_err(creation_errors)?;
    Ok((character, roll_id))
}
