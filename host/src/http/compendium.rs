//! `/api/v1/compendium`: types and counts, paged lists with search and filters, one entry
//! whole (with homebrew variants), and ranked search across types. Responses are cached until
//! the compendium changes; entries carry an ETag.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::success;
use crate::auth::AuthUser;
use crate::compendium::query::{self, Scope};
use crate::compendium::{is_known_type, types_for};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{EntrySummary, Role, SearchHit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types))
        .routes(routes!(search))
        .routes(routes!(list))
        .routes(routes!(entry))
}

type Params = BTreeMap<String, String>;

#[derive(Serialize, ToSchema)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub entry_type: String,
    pub count: i64,
    /// Filters `GET /api/v1/compendium/{type}` accepts for this type.
    pub filters: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct Types {
    pub edition: String,
    pub types: Vec<TypeCount>,
}

#[derive(Serialize, ToSchema)]
pub struct Page {
    pub items: Vec<EntrySummary>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub total_pages: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Variant {
    pub source: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct EntryDetail {
    #[serde(rename = "type")]
    pub entry_type: String,
    pub slug: String,
    pub name: String,
    /// `srd` or the rule pack the entry comes from.
    pub source: String,
    pub edition: String,
    /// The record, whole, in the dnd5eapi.co shape.
    #[schema(value_type = Object)]
    pub content: Value,
    /// Other visible entries with the same type and slug (e.g. a homebrew variant of an SRD
    /// spell); fetch one with `?source=`.
    pub variants: Vec<Variant>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub q: String,
    pub hits: Vec<SearchHit>,
}

fn unknown_type(t: &str) -> ApiError {
    ApiError::not_found(
        "COMPENDIUM_TYPE_NOT_FOUND",
        format!("there is no compendium type {t:?}"),
    )
}

/// The response data as JSON text, from the cache or computed and cached. Cached text goes
/// into the envelope as it is, never parsed again.
async fn cached<T: Serialize>(
    state: &AppState,
    key: String,
    compute: impl Future<Output = Result<T, ApiError>>,
) -> Result<Box<RawValue>, ApiError> {
    let text = match state.compendium_cache().get(&key).await {
        Some(hit) => hit,
        None => {
            let fresh = serde_json::to_string(&compute.await?).map_err(anyhow::Error::from)?;
            state.compendium_cache().put(&key, fresh.clone()).await;
            fresh
        }
    };
    Ok(RawValue::from_string(text).map_err(anyhow::Error::from)?)
}

fn answer(data: Box<RawValue>) -> Response {
    success(data).into_response()
}

fn cache_key(path: &str, params: &Params) -> String {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

/// `?campaign=ID`: the campaign's view of the compendium — the SRD plus the homebrew packs its DM
/// enabled — for its members. Rewrites the parameters into the `packs` they stand for, so the
/// rest (validation, caching) is the same as for an explicit `packs` list.
///
/// Returns the campaign whose hidden entries the caller must not see (members who are not its
/// DM), for [`Scope::hidden_in`].
async fn campaign_scope(
    state: &AppState,
    auth: Option<&AuthUser>,
    params: &mut Params,
) -> Result<Option<i64>, ApiError> {
    let Some(raw) = params.remove("campaign") else {
        return Ok(None);
    };
    let auth = auth.ok_or_else(|| {
        ApiError::unauthorized(
            "AUTH_REQUIRED",
            "a campaign's compendium is for its members: sign in first",
        )
    })?;
    if params.contains_key("packs") {
        return Err(ApiError::invalid_field(
            "packs",
            "give either campaign (its packs) or packs, not both",
        ));
    }
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::invalid_field("campaign", "must be a campaign id"))?;
    let (_, role) = super::campaigns::membership(state, auth.user.id, id).await?;
    let packs: Vec<String> = state
        .store()
        .campaign_packs(id)
        .await?
        .into_iter()
        .filter(|p| state.is_homebrew_pack(p))
        .collect();
    params.insert("packs".into(), packs.join(","));
    Ok((role != Role::Dm).then_some(id))
}

/// The cache key of a response, told apart for views that leave out a campaign's hidden entries.
fn scoped_key(path: &str, params: &Params, hidden_in: Option<i64>) -> String {
    let key = cache_key(path, params);
    match hidden_in {
        Some(c) => format!("{key}#hidden-in-{c}"),
        None => key,
    }
}

/// The compendium's types with how many entries each holds.
#[utoipa::path(get, path = "/api/v1/compendium", tag = "compendium",
    params(("edition" = Option<String>, Query, description = "2014 (default) or 2024"),
           ("packs" = Option<String>, Query, description = "comma-separated rule packs whose entries to include"),
           ("campaign" = Option<i64>, Query, description = "a campaign's view: the SRD plus the packs its DM enabled (members only; sign in)")),
    responses(
        (status = 200, description = "Types and counts", body = inline(super::envelope::Envelope<Types>)),
        (status = 422, description = "Bad edition or pack id", body = super::envelope::Failure),
    ))]
async fn types(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let hidden_in = campaign_scope(&state, auth.as_ref(), &mut params).await?;
    let mut scope = query::scope_only(&params, &[])?;
    scope.hidden_in = hidden_in;
    let key = scoped_key("types", &params, hidden_in);
    cached(&state, key, async {
        let counts: BTreeMap<String, i64> = state
            .store()
            .compendium_counts(&scope)
            .await?
            .into_iter()
            .collect();
        let types = types_for(&scope.edition)
            .iter()
            .map(|t| TypeCount {
                entry_type: t.to_string(),
                count: counts.get(*t).copied().unwrap_or(0),
                filters: query::filters_for(t).to_vec(),
            })
            .collect();
        Ok(Types {
            edition: scope.edition.clone(),
            types,
        })
    })
    .await
    .map(answer)
}

/// A page of one type's entries: search with `q`, filter by the type's filters.
#[utoipa::path(get, path = "/api/v1/compendium/{type}", tag = "compendium",
    params(
        ("type" = String, Path, description = "e.g. spells, monsters, equipment, magic-items, classes"),
        ("q" = Option<String>, Query, description = "full-text search, prefix-matching, ranked"),
        ("page" = Option<i64>, Query, description = "from 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("sort" = Option<String>, Query, description = "name (default), -name, or relevance (default with q)"),
        ("edition" = Option<String>, Query, description = "2014 (default) or 2024"),
        ("packs" = Option<String>, Query, description = "comma-separated rule packs whose entries to include"),
           ("campaign" = Option<i64>, Query, description = "a campaign's view: the SRD plus the packs its DM enabled (members only; sign in)"),
        ("level" = Option<i64>, Query, description = "spells, levels"),
        ("school" = Option<String>, Query, description = "spells: a magic school slug"),
        ("class" = Option<String>, Query, description = "spells, levels: a class slug"),
        ("concentration" = Option<bool>, Query, description = "spells"),
        ("ritual" = Option<bool>, Query, description = "spells"),
        ("casting_time" = Option<String>, Query, description = "spells: e.g. 1 action, 1 bonus action"),
        ("cr_min" = Option<String>, Query, description = "monsters: e.g. 1/4, 5"),
        ("cr_max" = Option<String>, Query, description = "monsters"),
        ("type" = Option<String>, Query, description = "monsters: creature type, e.g. dragon"),
        ("size" = Option<String>, Query, description = "monsters: e.g. large"),
        ("category" = Option<String>, Query, description = "equipment, magic-items: an equipment category slug"),
        ("rarity" = Option<String>, Query, description = "magic-items: e.g. rare, very-rare"),
    ),
    responses(
        (status = 200, description = "One page", body = inline(super::envelope::Envelope<Page>)),
        (status = 404, description = "Unknown type (`COMPENDIUM_TYPE_NOT_FOUND`)", body = super::envelope::Failure),
        (status = 422, description = "Unknown filter or bad value, named in details.fields", body = super::envelope::Failure),
    ))]
async fn list(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Path(entry_type): Path<String>,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let hidden_in = campaign_scope(&state, auth.as_ref(), &mut params).await?;
    if !is_known_type(&entry_type) {
        return Err(unknown_type(&entry_type));
    }
    let mut q = query::list_query(&entry_type, &params)?;
    q.scope.hidden_in = hidden_in;
    let key = scoped_key(&format!("list/{entry_type}"), &params, hidden_in);
    cached(&state, key, async {
        let (items, total) = state.store().list_entries(&q).await?;
        Ok(Page {
            items,
            page: q.page,
            per_page: q.per_page,
            total,
            total_pages: (total + q.per_page - 1) / q.per_page,
        })
    })
    .await
    .map(answer)
}

/// One entry, whole. Carries an ETag; `If-None-Match` answers 304 when unchanged.
#[utoipa::path(get, path = "/api/v1/compendium/{type}/{slug}", tag = "compendium",
    params(
        ("type" = String, Path, description = "e.g. spells"),
        ("slug" = String, Path, description = "the entry's index, e.g. fireball"),
        ("source" = Option<String>, Query, description = "which variant: srd (default) or a pack id"),
        ("edition" = Option<String>, Query, description = "2014 (default) or 2024"),
        ("packs" = Option<String>, Query, description = "comma-separated rule packs whose entries to include"),
           ("campaign" = Option<i64>, Query, description = "a campaign's view: the SRD plus the packs its DM enabled (members only; sign in)"),
    ),
    responses(
        (status = 200, description = "The entry", body = inline(super::envelope::Envelope<EntryDetail>)),
        (status = 304, description = "Not modified since the ETag given in If-None-Match"),
        (status = 404, description = "Unknown type or slug (`COMPENDIUM_TYPE_NOT_FOUND`, `ENTRY_NOT_FOUND`)", body = super::envelope::Failure),
    ))]
async fn entry(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Path((entry_type, slug)): Path<(String, String)>,
    Query(mut params): Query<Params>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let hidden_in = campaign_scope(&state, auth.as_ref(), &mut params).await?;
    if !is_known_type(&entry_type) {
        return Err(unknown_type(&entry_type));
    }
    let mut scope = query::scope_only(&params, &["source"])?;
    scope.hidden_in = hidden_in;
    let wanted = params.get("source").cloned();
    // Asking for a pack's variant by name makes that pack visible for this request.
    if let Some(source) = &wanted
        && !scope.sources.contains(source)
    {
        scope.sources.push(source.clone());
    }
    let key = scoped_key(&format!("entry/{entry_type}/{slug}"), &params, hidden_in);
    let data = cached(
        &state,
        key,
        detail(&state, &entry_type, &slug, &scope, wanted.as_deref()),
    )
    .await?;
    with_etag(data, &headers)
}

async fn detail(
    state: &AppState,
    entry_type: &str,
    slug: &str,
    scope: &Scope,
    wanted: Option<&str>,
) -> Result<EntryDetail, ApiError> {
    let variants = state
        .store()
        .get_entry_variants(entry_type, slug, scope)
        .await?;
    let not_found = || {
        ApiError::not_found(
            "ENTRY_NOT_FOUND",
            format!("there is no {entry_type} entry {slug:?}"),
        )
    };
    let chosen = match wanted {
        Some(source) => variants.iter().find(|v| v.source == source),
        None => variants.first(),
    }
    .ok_or_else(not_found)?;
    Ok(EntryDetail {
        entry_type: chosen.entry_type.clone(),
        slug: chosen.slug.clone(),
        name: chosen.name.clone(),
        source: chosen.source.clone(),
        edition: chosen.edition.clone(),
        content: chosen.content.clone(),
        variants: variants
            .iter()
            .filter(|v| v.source != chosen.source)
            .map(|v| Variant {
                source: v.source.clone(),
                name: v.name.clone(),
            })
            .collect(),
    })
}

/// Answers with an ETag (a hash of the data), or 304 to a matching If-None-Match.
fn with_etag(data: Box<RawValue>, headers: &HeaderMap) -> Result<Response, ApiError> {
    use sha2::{Digest, Sha256};
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(data.get().as_bytes())[..16])
    );
    let etag_value = HeaderValue::from_str(&etag).map_err(anyhow::Error::from)?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        answer(data)
    };
    response.headers_mut().insert(header::ETAG, etag_value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Ranked hits across all types, with a highlighted snippet.
#[utoipa::path(get, path = "/api/v1/compendium/search", tag = "compendium",
    params(
        ("q" = String, Query, description = "words to find; each matches as a prefix"),
        ("type" = Option<String>, Query, description = "comma-separated types to search in"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("edition" = Option<String>, Query, description = "2014 (default) or 2024"),
        ("packs" = Option<String>, Query, description = "comma-separated rule packs whose entries to include"),
           ("campaign" = Option<i64>, Query, description = "a campaign's view: the SRD plus the packs its DM enabled (members only; sign in)"),
    ),
    responses(
        (status = 200, description = "Hits, best first", body = inline(super::envelope::Envelope<SearchResults>)),
        (status = 422, description = "Missing q or bad parameters", body = super::envelope::Failure),
    ))]
async fn search(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let hidden_in = campaign_scope(&state, auth.as_ref(), &mut params).await?;
    let mut q = query::search_query(&params)?;
    q.scope.hidden_in = hidden_in;
    let key = scoped_key("search", &params, hidden_in);
    cached(&state, key, async {
        let hits = state.store().search_entries(&q).await?;
        Ok(SearchResults {
            q: q.q.clone(),
            hits,
        })
    })
    .await
    .map(answer)
}
