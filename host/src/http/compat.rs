//! `/api/2014/…` and `/api/2024/…`: the compendium in the dnd5eapi.co shape, so clients written
//! for that public API work against a Grimoire server unchanged. Records keep their relative
//! `url` fields (`/api/2014/spells/fireball`), which resolve against this server. Only SRD
//! entries appear here; failures still use Grimoire's error envelope.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::compendium::query::{ListQuery, Scope, Sort};
use crate::compendium::{SRD_SOURCE, types_for};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(root_2014))
        .routes(routes!(root_2024))
        .routes(routes!(list_2014))
        .routes(routes!(list_2024))
        .routes(routes!(record_2014))
        .routes(routes!(record_2024))
}

#[derive(Serialize, ToSchema)]
pub struct Reference {
    pub index: String,
    pub name: String,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ListResponse {
    pub count: i64,
    pub results: Vec<Reference>,
}

type Params = BTreeMap<String, String>;

fn scope(edition: &str) -> Scope {
    Scope {
        edition: edition.to_string(),
        sources: vec![SRD_SOURCE.to_string()],
        hidden_in: None,
    }
}

fn root(edition: &str) -> Json<Value> {
    let map: serde_json::Map<String, Value> = types_for(edition)
        .iter()
        .map(|t| (t.to_string(), Value::String(format!("/api/{edition}/{t}"))))
        .collect();
    Json(Value::Object(map))
}

/// Collections of the 2014 SRD and their URLs.
#[utoipa::path(get, path = "/api/2014", tag = "dnd5eapi",
    responses((status = 200, description = "collection → URL", body = Object)))]
async fn root_2014() -> Json<Value> {
    root("2014")
}

/// Collections of the 2024 SRD and their URLs.
#[utoipa::path(get, path = "/api/2024", tag = "dnd5eapi",
    responses((status = 200, description = "collection → URL", body = Object)))]
async fn root_2024() -> Json<Value> {
    root("2024")
}

async fn list(
    state: &AppState,
    edition: &str,
    collection: &str,
    params: &Params,
) -> Result<Json<ListResponse>, ApiError> {
    if !types_for(edition).contains(&collection) {
        return Err(ApiError::not_found(
            "COMPENDIUM_TYPE_NOT_FOUND",
            format!("there is no collection {collection:?}"),
        ));
    }
    // dnd5eapi.co's list filters: name (partial), and level / school for spells.
    let mut filters = Vec::new();
    let mut q = None;
    for (key, value) in params {
        use crate::compendium::query::Filter;
        match (key.as_str(), collection) {
            ("name", _) => q = Some(value.clone()),
            ("level", "spells") => {
                for l in value.split(',') {
                    let level = l
                        .trim()
                        .parse()
                        .map_err(|_| ApiError::invalid_field("level", "must be a whole number"))?;
                    filters.push(Filter::Level(level));
                }
            }
            ("school", "spells") => filters.push(Filter::School(value.to_lowercase())),
            _ => {
                return Err(ApiError::invalid_field(
                    key,
                    format!("is not a filter for {collection}"),
                ));
            }
        }
    }
    if filters
        .iter()
        .filter(|f| matches!(f, crate::compendium::query::Filter::Level(_)))
        .count()
        > 1
    {
        return Err(ApiError::invalid_field("level", "give one level"));
    }
    let mut results = Vec::new();
    let mut page = 1;
    let total = loop {
        let query = ListQuery {
            entry_type: collection.to_string(),
            scope: scope(edition),
            q: q.clone(),
            filters: filters.clone(),
            sort: Sort::NameAsc,
            page,
            per_page: crate::compendium::query::MAX_PER_PAGE,
        };
        let (items, total) = state.store().list_entries(&query).await?;
        let done = items.len() < query.per_page as usize;
        results.extend(items.into_iter().map(|e| Reference {
            url: format!("/api/{edition}/{collection}/{}", e.slug),
            index: e.slug,
            name: e.name,
        }));
        if done {
            break total;
        }
        page += 1;
    };
    Ok(Json(ListResponse {
        count: total,
        results,
    }))
}

async fn record(
    state: &AppState,
    edition: &str,
    collection: &str,
    index: &str,
) -> Result<Json<Value>, ApiError> {
    if !types_for(edition).contains(&collection) {
        return Err(ApiError::not_found(
            "COMPENDIUM_TYPE_NOT_FOUND",
            format!("there is no collection {collection:?}"),
        ));
    }
    let variants = state
        .store()
        .get_entry_variants(collection, index, &scope(edition))
        .await?;
    let entry = variants.into_iter().next().ok_or_else(|| {
        ApiError::not_found(
            "ENTRY_NOT_FOUND",
            format!("there is no {collection} entry {index:?}"),
        )
    })?;
    Ok(Json(entry.content))
}

/// A 2014 collection: `{count, results: [{index, name, url}]}`; `?name=` matches names.
#[utoipa::path(get, path = "/api/2014/{collection}", tag = "dnd5eapi",
    params(("collection" = String, Path, description = "e.g. spells"),
           ("name" = Option<String>, Query, description = "words the name contains"),
           ("level" = Option<String>, Query, description = "spells only"),
           ("school" = Option<String>, Query, description = "spells only")),
    responses((status = 200, description = "The collection", body = ListResponse),
              (status = 404, description = "Unknown collection", body = super::envelope::Failure)))]
async fn list_2014(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Query(params): Query<Params>,
) -> Result<Json<ListResponse>, ApiError> {
    list(&state, "2014", &collection, &params).await
}

/// A 2024 collection, as for 2014.
#[utoipa::path(get, path = "/api/2024/{collection}", tag = "dnd5eapi",
    params(("collection" = String, Path, description = "e.g. species"),
           ("name" = Option<String>, Query, description = "words the name contains")),
    responses((status = 200, description = "The collection", body = ListResponse),
              (status = 404, description = "Unknown collection", body = super::envelope::Failure)))]
async fn list_2024(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    Query(params): Query<Params>,
) -> Result<Json<ListResponse>, ApiError> {
    list(&state, "2024", &collection, &params).await
}

/// One 2014 record, exactly as the SRD data holds it.
#[utoipa::path(get, path = "/api/2014/{collection}/{index}", tag = "dnd5eapi",
    params(("collection" = String, Path), ("index" = String, Path)),
    responses((status = 200, description = "The record", body = Object),
              (status = 404, description = "Unknown collection or index", body = super::envelope::Failure)))]
async fn record_2014(
    State(state): State<AppState>,
    Path((collection, index)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    record(&state, "2014", &collection, &index).await
}

/// One 2024 record.
#[utoipa::path(get, path = "/api/2024/{collection}/{index}", tag = "dnd5eapi",
    params(("collection" = String, Path), ("index" = String, Path)),
    responses((status = 200, description = "The record", body = Object),
              (status = 404, description = "Unknown collection or index", body = super::envelope::Failure)))]
async fn record_2024(
    State(state): State<AppState>,
    Path((collection, index)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    record(&state, "2024", &collection, &index).await
}
