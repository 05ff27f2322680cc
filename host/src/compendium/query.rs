//! List and search parameters: parsed from the query string, validated per entry type, so that
//! an unknown filter or a bad value is refused with 422 naming the field.

use std::collections::BTreeMap;

use super::{DEFAULT_EDITION, EDITIONS, SRD_SOURCE};
use crate::error::{ApiError, FieldErrors};

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;

/// One type-specific filter, already validated.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Level(i64),
    School(String),
    Class(String),
    Concentration(bool),
    Ritual(bool),
    CastingTime(String),
    CrMin(f64),
    CrMax(f64),
    CreatureType(String),
    Size(String),
    Category(String),
    Rarity(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    NameAsc,
    NameDesc,
    /// Best match first (the default when `q` is given).
    Relevance,
}

/// Which entries a request may see: the SRD of one edition plus the enabled packs.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub edition: String,
    pub sources: Vec<String>,
    /// Leave out the entries this campaign's DM hid (a member's view of the campaign).
    pub hidden_in: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct ListQuery {
    pub entry_type: String,
    pub scope: Scope,
    pub q: Option<String>,
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub q: String,
    pub scope: Scope,
    pub types: Vec<String>,
    pub limit: i64,
}

/// The filters each type accepts (besides the common `q`, `page`, `per_page`, `sort`,
/// `edition`, `packs`).
pub fn filters_for(entry_type: &str) -> &'static [&'static str] {
    match entry_type {
        "spells" => &[
            "level",
            "school",
            "class",
            "concentration",
            "ritual",
            "casting_time",
        ],
        "monsters" => &["cr_min", "cr_max", "type", "size"],
        "equipment" => &["category"],
        "magic-items" => &["rarity", "category"],
        "levels" => &["class", "level"],
        _ => &[],
    }
}

const COMMON: &[&str] = &["q", "page", "per_page", "sort", "edition", "packs"];

type Params = BTreeMap<String, String>;

fn add(fields: &mut FieldErrors, field: &str, problem: impl Into<String>) {
    fields
        .entry(field.to_string())
        .or_default()
        .push(problem.into());
}

/// `edition` and `packs` → the visible sources. `packs` is a comma-separated list of pack ids.
pub fn scope(params: &Params, fields: &mut FieldErrors) -> Scope {
    let edition = params
        .get("edition")
        .map(String::as_str)
        .unwrap_or(DEFAULT_EDITION);
    if !EDITIONS.contains(&edition) {
        add(
            fields,
            "edition",
            format!("must be one of {}", EDITIONS.join(", ")),
        );
    }
    let mut sources = vec![SRD_SOURCE.to_string()];
    if let Some(packs) = params.get("packs") {
        for id in packs.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                add(fields, "packs", format!("{id:?} is not a pack id"));
            } else if !sources.iter().any(|s| s == id) {
                sources.push(id.to_string());
            }
        }
    }
    Scope {
        edition: edition.to_string(),
        sources,
        hidden_in: None,
    }
}

fn text(value: &str, field: &str, fields: &mut FieldErrors) -> Option<String> {
    let v = value.trim().to_lowercase();
    if v.is_empty() || v.len() > 100 {
        add(fields, field, "must be 1 to 100 characters");
        return None;
    }
    Some(v)
}

fn boolean(value: &str, field: &str, fields: &mut FieldErrors) -> Option<bool> {
    match value {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => {
            add(fields, field, "must be true or false");
            None
        }
    }
}

fn int(
    value: &str,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
    fields: &mut FieldErrors,
) -> Option<i64> {
    match value.trim().parse::<i64>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            add(
                fields,
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
            None
        }
    }
}

/// A challenge rating: `5`, `0.25` or `1/4`.
fn challenge_rating(value: &str, field: &str, fields: &mut FieldErrors) -> Option<f64> {
    let v = value.trim();
    let parsed = match v.split_once('/') {
        Some((n, d)) => match (n.parse::<f64>(), d.parse::<f64>()) {
            (Ok(n), Ok(d)) if d != 0.0 => Some(n / d),
            _ => None,
        },
        None => v.parse::<f64>().ok(),
    };
    match parsed {
        Some(cr) if (0.0..=30.0).contains(&cr) => Some(cr),
        _ => {
            add(
                fields,
                field,
                "must be a challenge rating from 0 to 30, such as 5, 0.25 or 1/4",
            );
            None
        }
    }
}

fn validation(fields: FieldErrors) -> ApiError {
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    ApiError::Validation {
        message: format!("invalid query parameters: {}", names.join(", ")),
        fields,
    }
}

/// Parses a list request for `entry_type` (already known to exist).
pub fn list_query(entry_type: &str, params: &Params) -> Result<ListQuery, ApiError> {
    let mut fields = FieldErrors::new();
    let allowed = filters_for(entry_type);
    let scope = scope(params, &mut fields);
    let mut filters = Vec::new();
    for (key, value) in params {
        if COMMON.contains(&key.as_str()) {
            continue;
        }
        if !allowed.contains(&key.as_str()) {
            let accepted = if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            };
            add(
                &mut fields,
                key,
                format!("is not a filter for {entry_type} (filters: {accepted})"),
            );
            continue;
        }
        let f = match key.as_str() {
            "level" => int(value, key, 0..=20, &mut fields).map(Filter::Level),
            "school" => text(value, key, &mut fields).map(Filter::School),
            "class" => text(value, key, &mut fields).map(Filter::Class),
            "concentration" => boolean(value, key, &mut fields).map(Filter::Concentration),
            "ritual" => boolean(value, key, &mut fields).map(Filter::Ritual),
            "casting_time" => {
                text(value, key, &mut fields).map(|t| Filter::CastingTime(t.replace('-', " ")))
            }
            "cr_min" => challenge_rating(value, key, &mut fields).map(Filter::CrMin),
            "cr_max" => challenge_rating(value, key, &mut fields).map(Filter::CrMax),
            "type" => text(value, key, &mut fields).map(Filter::CreatureType),
            "size" => text(value, key, &mut fields).map(Filter::Size),
            "category" => text(value, key, &mut fields).map(Filter::Category),
            "rarity" => text(value, key, &mut fields).map(|r| Filter::Rarity(r.replace(' ', "-"))),
            _ => None,
        };
        filters.extend(f);
    }
    let q = params
        .get("q")
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        add(&mut fields, "q", "must be at most 200 characters");
    }
    let sort = match params.get("sort").map(String::as_str) {
        None if q.is_some() => Sort::Relevance,
        None | Some("name") => Sort::NameAsc,
        Some("-name") => Sort::NameDesc,
        Some("relevance") if q.is_some() => Sort::Relevance,
        Some(_) => {
            add(
                &mut fields,
                "sort",
                "must be name, -name, or relevance (with q)",
            );
            Sort::NameAsc
        }
    };
    let page = params
        .get("page")
        .map_or(Some(1), |v| int(v, "page", 1..=1_000_000, &mut fields));
    let per_page = params.get("per_page").map_or(Some(DEFAULT_PER_PAGE), |v| {
        int(v, "per_page", 1..=MAX_PER_PAGE, &mut fields)
    });
    match (page, per_page) {
        (Some(page), Some(per_page)) if fields.is_empty() => Ok(ListQuery {
            entry_type: entry_type.to_string(),
            scope,
            q,
            filters,
            sort,
            page,
            per_page,
        }),
        _ => Err(validation(fields)),
    }
}

/// Names every parameter outside `allowed` as a problem.
fn reject_unknown(params: &Params, allowed: &[&str], fields: &mut FieldErrors) {
    for key in params.keys().filter(|k| !allowed.contains(&k.as_str())) {
        add(
            fields,
            key,
            format!("is not a parameter here ({})", allowed.join(", ")),
        );
    }
}

/// For requests that take only `edition`, `packs` and the `extra` parameters: the scope, or
/// a 422 naming each bad parameter.
pub fn scope_only(params: &Params, extra: &[&str]) -> Result<Scope, ApiError> {
    let mut fields = FieldErrors::new();
    let allowed: Vec<&str> = ["edition", "packs"].iter().chain(extra).copied().collect();
    reject_unknown(params, &allowed, &mut fields);
    let scope = scope(params, &mut fields);
    if fields.is_empty() {
        Ok(scope)
    } else {
        Err(validation(fields))
    }
}

/// Parses a cross-type search request.
pub fn search_query(params: &Params) -> Result<SearchQuery, ApiError> {
    let mut fields = FieldErrors::new();
    reject_unknown(
        params,
        &["q", "type", "limit", "edition", "packs"],
        &mut fields,
    );
    let scope = scope(params, &mut fields);
    let q = params
        .get("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    if q.is_empty() || q.chars().count() > 200 {
        add(&mut fields, "q", "must be 1 to 200 characters");
    }
    let types: Vec<String> = params
        .get("type")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for t in &types {
        if !super::is_known_type(t) {
            add(
                &mut fields,
                "type",
                format!("{t:?} is not a compendium type"),
            );
        }
    }
    let limit = params
        .get("limit")
        .map_or(Some(20), |v| int(v, "limit", 1..=MAX_PER_PAGE, &mut fields));
    match limit {
        Some(limit) if fields.is_empty() => Ok(SearchQuery {
            q,
            scope,
            types,
            limit,
        }),
        _ => Err(validation(fields)),
    }
}

/// Words of a free-text query: letters and digits only, so nothing reaches the full-text
/// engine's own query syntax.
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| w.to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field_names(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation { fields, .. } => fields.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spell_filters_parse() {
        let q = list_query(
            "spells",
            &params(&[
                ("level", "3"),
                ("school", "Evocation"),
                ("ritual", "false"),
                ("casting_time", "1-action"),
            ]),
        )
        .unwrap();
        assert_eq!(
            q.filters,
            vec![
                Filter::CastingTime("1 action".into()),
                Filter::Level(3),
                Filter::Ritual(false),
                Filter::School("evocation".into())
            ]
        );
        assert_eq!((q.page, q.per_page, q.sort), (1, 20, Sort::NameAsc));
        assert_eq!(q.scope.sources, vec!["srd"]);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        assert_eq!(
            field_names(list_query("classes", &params(&[("level", "3")])).unwrap_err()),
            ["level"]
        );
        assert_eq!(
            field_names(list_query("spells", &params(&[("level", "ten")])).unwrap_err()),
            ["level"]
        );
        assert_eq!(
            field_names(list_query("spells", &params(&[("page", "0")])).unwrap_err()),
            ["page"]
        );
        assert_eq!(
            field_names(list_query("spells", &params(&[("per_page", "101")])).unwrap_err()),
            ["per_page"]
        );
        assert_eq!(
            field_names(list_query("monsters", &params(&[("cr_min", "1/0")])).unwrap_err()),
            ["cr_min"]
        );
        assert_eq!(
            field_names(list_query("spells", &params(&[("edition", "1999")])).unwrap_err()),
            ["edition"]
        );
        assert_eq!(
            field_names(list_query("spells", &params(&[("sort", "relevance")])).unwrap_err()),
            ["sort"]
        );
        assert_eq!(
            field_names(search_query(&params(&[("q", "")])).unwrap_err()),
            ["q"]
        );
    }

    #[test]
    fn challenge_ratings_accept_fractions() {
        let q = list_query("monsters", &params(&[("cr_min", "1/4"), ("cr_max", "2")])).unwrap();
        assert!(
            q.filters.contains(&Filter::CrMin(0.25)) && q.filters.contains(&Filter::CrMax(2.0))
        );
    }

    #[test]
    fn packs_widen_the_scope() {
        let q = list_query(
            "spells",
            &params(&[("packs", "homebrew-a, srd,homebrew-b")]),
        )
        .unwrap();
        assert_eq!(q.scope.sources, vec!["srd", "homebrew-a", "homebrew-b"]);
    }

    #[test]
    fn words_strip_query_syntax() {
        assert_eq!(
            words("fire* OR \"bolt\" -x:y"),
            ["fire", "or", "bolt", "x", "y"]
        );
    }
}
