//! Compendium entries: transactional replacement of a source's entries, listing with filters,
//! lookup, and full-text search. Search is the one place the two backends need different SQL:
//! FTS5 on SQLite, tsvector/GIN on PostgreSQL.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreResult, now};
use crate::compendium::Entry;
use crate::compendium::entry::Filters;
use crate::compendium::query::{Filter, ListQuery, Scope, SearchQuery, Sort, words};

/// What a replacement changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplaceStats {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
}

/// An entry as listed: enough to show a row and link to it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EntrySummary {
    #[serde(rename = "type")]
    pub entry_type: String,
    pub slug: String,
    pub name: String,
    pub source: String,
    pub edition: String,
    /// The type's filterable facts (level, school, challenge_rating, rarity, …).
    pub summary: Filters,
}

/// A stored entry, whole.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEntry {
    pub entry_type: String,
    pub slug: String,
    pub name: String,
    pub source: String,
    pub edition: String,
    pub content: Value,
    pub content_hash: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    #[serde(rename = "type")]
    pub entry_type: String,
    pub slug: String,
    pub name: String,
    pub source: String,
    /// A fragment of the text with matches between `<mark>` and `</mark>`; everything else
    /// is HTML-escaped.
    pub snippet: String,
}

/// Highlight markers the database puts around matches, replaced after escaping.
const MARK_OPEN: &str = "\u{2}";
const MARK_CLOSE: &str = "\u{3}";

/// A SQL text with `$n` placeholders and the values bound to them, built up piece by piece.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, b: Bind) -> &mut Self {
        // sqlx's Any driver garbles doubles bound for PostgreSQL: they travel as text and are
        // cast by the database, which both backends accept.
        let cast = matches!(b, Bind::Float(_));
        self.binds.push(b);
        let n = self.binds.len();
        self.text.push_str(&if cast {
            format!("CAST(${n} AS DOUBLE PRECISION)")
        } else {
            format!("${n}")
        });
        self
    }

    fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(s.into()))
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(n) => q.bind(*n),
                Bind::Float(f) => q.bind(f.to_string()),
            };
        }
        q
    }

    /// `AND e.edition = … AND e.source IN (…)`, and not hidden in the campaign when asked.
    fn scope(&mut self, scope: &Scope) -> &mut Self {
        self.push(" AND e.edition = ")
            .text(scope.edition.clone())
            .push(" AND e.source IN (");
        for (i, s) in scope.sources.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(s.clone());
        }
        self.push(")");
        if let Some(campaign) = scope.hidden_in {
            self.push(
                " AND NOT EXISTS (SELECT 1 FROM campaign_hidden_entries h WHERE h.campaign_id = ",
            )
            .bind(Bind::Int(campaign))
            .push(" AND h.entry_type = e.entry_type AND h.slug = e.slug)");
        }
        self
    }
}

const SUMMARY_COLUMNS: &str = "e.entry_type, e.slug, e.name, e.source, e.edition, e.level, e.school, \
    e.classes, e.concentration, e.ritual, e.casting_time, e.challenge_rating, e.creature_type, e.size, \
    e.category, e.rarity";

fn summary(row: &AnyRow) -> Result<EntrySummary, sqlx::Error> {
    let flag = |name: &str| -> Result<Option<bool>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(|v| v != 0))
    };
    let classes: Option<String> = row.try_get("classes")?;
    Ok(EntrySummary {
        entry_type: row.try_get("entry_type")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        source: row.try_get("source")?,
        edition: row.try_get("edition")?,
        summary: Filters {
            level: row.try_get("level")?,
            school: row.try_get("school")?,
            classes: classes.map(|c| {
                c.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
            concentration: flag("concentration")?,
            ritual: flag("ritual")?,
            casting_time: row.try_get("casting_time")?,
            challenge_rating: row.try_get("challenge_rating")?,
            creature_type: row.try_get("creature_type")?,
            size: row.try_get("size")?,
            category: row.try_get("category")?,
            rarity: row.try_get("rarity")?,
        },
    })
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn highlight(raw: &str) -> String {
    escape_html(raw)
        .replace(MARK_OPEN, "<mark>")
        .replace(MARK_CLOSE, "</mark>")
}

impl Store {
    /// `$n` for a JSON parameter: PostgreSQL needs the text cast to JSONB, SQLite stores text.
    pub(super) fn json_param(&self, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("${n}"),
            Backend::Postgres => format!("CAST(${n} AS JSONB)"),
        }
    }

    /// Replaces every entry of `source` + `edition` (limited to `types`) with `entries`, in one
    /// transaction: unchanged entries are not touched, so replacing twice changes nothing.
    pub async fn replace_entries(
        &self,
        source: &str,
        edition: &str,
        types: &[&str],
        entries: &[Entry],
        mut progress: impl FnMut(u64),
    ) -> StoreResult<ReplaceStats> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT entry_type, slug, content_hash FROM compendium_entries WHERE source = $1 AND edition = $2",
        )
        .bind(source)
        .bind(edition)
        .fetch_all(&mut *tx)
        .await?;
        let mut existing: HashMap<(String, String), String> = HashMap::new();
        for row in rows {
            existing.insert(
                (row.try_get("entry_type")?, row.try_get("slug")?),
                row.try_get("content_hash")?,
            );
        }
        let insert = format!(
            "INSERT INTO compendium_entries (entry_type, slug, name, source, edition, content, content_hash, \
             search_text, updated_at, level, school, classes, concentration, ritual, casting_time, \
             challenge_rating, creature_type, size, category, rarity) \
             VALUES ($1, $2, $3, $4, $5, {}, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             CAST($16 AS DOUBLE PRECISION), $17, $18, $19, $20)",
            self.json_param(6)
        );
        let update = format!(
            "UPDATE compendium_entries SET name = $3, content = {}, content_hash = $7, search_text = $8, \
             updated_at = $9, level = $10, school = $11, classes = $12, concentration = $13, ritual = $14, \
             casting_time = $15, challenge_rating = CAST($16 AS DOUBLE PRECISION), creature_type = $17, size = $18, category = $19, \
             rarity = $20 WHERE entry_type = $1 AND slug = $2 AND source = $4 AND edition = $5",
            self.json_param(6)
        );
        let mut stats = ReplaceStats::default();
        let at = now();
        for e in entries {
            let key = (e.entry_type.clone(), e.slug.clone());
            let sql = match existing.remove(&key) {
                Some(hash) if hash == e.content_hash => {
                    stats.unchanged += 1;
                    progress(1);
                    continue;
                }
                Some(_) => {
                    stats.updated += 1;
                    &update
                }
                None => {
                    stats.inserted += 1;
                    &insert
                }
            };
            let f = &e.filters;
            sqlx::query(sql)
                .bind(&e.entry_type)
                .bind(&e.slug)
                .bind(&e.name)
                .bind(&e.source)
                .bind(&e.edition)
                .bind(&e.content_json)
                .bind(&e.content_hash)
                .bind(&e.search_text)
                .bind(at)
                .bind(f.level)
                .bind(f.school.clone())
                .bind(f.classes.as_ref().map(|c| format!(",{},", c.join(","))))
                .bind(f.concentration.map(i64::from))
                .bind(f.ritual.map(i64::from))
                .bind(f.casting_time.clone())
                .bind(f.challenge_rating.map(|cr| cr.to_string()))
                .bind(f.creature_type.clone())
                .bind(f.size.clone())
                .bind(f.category.clone())
                .bind(f.rarity.clone())
                .execute(&mut *tx)
                .await?;
            progress(1);
        }
        for (entry_type, slug) in existing
            .into_keys()
            .filter(|(t, _)| types.contains(&t.as_str()))
        {
            sqlx::query(
                "DELETE FROM compendium_entries WHERE entry_type = $1 AND slug = $2 AND source = $3 AND edition = $4",
            )
            .bind(&entry_type)
            .bind(&slug)
            .bind(source)
            .bind(edition)
            .execute(&mut *tx)
            .await?;
            stats.removed += 1;
        }
        tx.commit().await?;
        Ok(stats)
    }

    /// How many entries of each type the scope can see.
    pub async fn compendium_counts(&self, scope: &Scope) -> StoreResult<Vec<(String, i64)>> {
        let mut sql = Sql::default();
        sql.push("SELECT e.entry_type, COUNT(*) AS n FROM compendium_entries e WHERE 1 = 1")
            .scope(scope)
            .push(" GROUP BY e.entry_type ORDER BY e.entry_type");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("entry_type")?, r.try_get("n")?)))
            .collect()
    }

    /// Every SRD record of an edition, as `(type, slug, content)`, for the rules engine.
    pub async fn srd_records(&self, edition: &str) -> StoreResult<Vec<(String, String, Value)>> {
        let rows = sqlx::query(
            "SELECT entry_type, slug, CAST(content AS TEXT) AS content FROM compendium_entries \
             WHERE source = 'srd' AND edition = $1",
        )
        .bind(edition)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("content")?;
                let value = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("stored content: {e}"))?;
                Ok((r.try_get("entry_type")?, r.try_get("slug")?, value))
            })
            .collect()
    }

    /// Sources of stored entries other than the SRD (rule packs).
    pub async fn homebrew_sources(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT source FROM compendium_entries WHERE source <> 'srd' ORDER BY source",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// All entries, of every source and edition.
    pub async fn count_entries(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM compendium_entries")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// One page of a type's entries and the total that match.
    pub async fn list_entries(&self, q: &ListQuery) -> StoreResult<(Vec<EntrySummary>, i64)> {
        let mut filter = Sql::default();
        let words = q.q.as_deref().map(words).unwrap_or_default();
        let searching = !words.is_empty();
        match (self.backend, searching) {
            (_, false) => filter.push(" FROM compendium_entries e WHERE e.entry_type = "),
            (Backend::Sqlite, true) => filter
                .push(" FROM compendium_fts JOIN compendium_entries e ON e.id = compendium_fts.rowid WHERE compendium_fts MATCH ")
                .text(fts5_query(&words))
                .push(" AND e.entry_type = "),
            (Backend::Postgres, true) => filter
                .push(" FROM compendium_entries e WHERE e.search @@ to_tsquery('english', ")
                .text(tsquery(&words))
                .push(") AND e.entry_type = "),
        };
        filter.text(q.entry_type.clone()).scope(&q.scope);
        for f in &q.filters {
            match f {
                Filter::Level(n) => filter.push(" AND e.level = ").bind(Bind::Int(*n)),
                Filter::School(s) => filter.push(" AND e.school = ").text(s.clone()),
                Filter::Class(c) if q.entry_type == "levels" => filter
                    .push(" AND e.slug LIKE ")
                    .text(format!("{}-%", c.replace(['%', '_'], ""))),
                Filter::Class(c) => filter
                    .push(" AND e.classes LIKE ")
                    .text(format!("%,{},%", c.replace(['%', '_'], ""))),
                Filter::Concentration(b) => filter
                    .push(" AND e.concentration = ")
                    .bind(Bind::Int(i64::from(*b))),
                Filter::Ritual(b) => filter
                    .push(" AND e.ritual = ")
                    .bind(Bind::Int(i64::from(*b))),
                Filter::CastingTime(t) => filter.push(" AND e.casting_time = ").text(t.clone()),
                Filter::CrMin(cr) => filter
                    .push(" AND e.challenge_rating >= ")
                    .bind(Bind::Float(*cr)),
                Filter::CrMax(cr) => filter
                    .push(" AND e.challenge_rating <= ")
                    .bind(Bind::Float(*cr)),
                Filter::CreatureType(t) => filter.push(" AND e.creature_type = ").text(t.clone()),
                Filter::Size(s) => filter.push(" AND e.size = ").text(s.clone()),
                Filter::Category(c) => filter.push(" AND e.category = ").text(c.clone()),
                Filter::Rarity(r) => filter.push(" AND e.rarity = ").text(r.clone()),
            };
        }

        let mut count = Sql {
            text: format!("SELECT COUNT(*) AS n{}", filter.text),
            binds: Vec::new(),
        };
        count.binds = filter.binds.clone();
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get("n")?;

        let mut page = filter;
        page.text = format!("SELECT {SUMMARY_COLUMNS}{}", page.text);
        page.push(" ORDER BY ");
        match q.sort {
            Sort::NameAsc => page.push("e.name ASC, e.source ASC"),
            Sort::NameDesc => page.push("e.name DESC, e.source ASC"),
            Sort::Relevance => {
                let phrase = words.join(" ");
                page.push("(lower(e.name) = ")
                    .text(phrase.clone())
                    .push(") DESC, (lower(e.name) LIKE ");
                page.text(format!("{}%", phrase.replace(['%', '_'], "")))
                    .push(") DESC, ");
                match self.backend {
                    Backend::Sqlite => page.push("bm25(compendium_fts, 10.0, 1.0) ASC, e.name ASC"),
                    Backend::Postgres => page
                        .push("ts_rank(e.search, to_tsquery('english', ")
                        .text(tsquery(&words))
                        .push(")) DESC, e.name ASC"),
                }
            }
        };
        page.push(" LIMIT ")
            .bind(Bind::Int(q.per_page))
            .push(" OFFSET ")
            .bind(Bind::Int((q.page - 1) * q.per_page));
        let rows = page.query().fetch_all(&self.pool).await?;
        let items = rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }

    /// Every visible variant of one entry: the SRD's first, then packs' by id.
    pub async fn get_entry_variants(
        &self,
        entry_type: &str,
        slug: &str,
        scope: &Scope,
    ) -> StoreResult<Vec<StoredEntry>> {
        let mut sql = Sql::default();
        sql.push(
            "SELECT e.entry_type, e.slug, e.name, e.source, e.edition, CAST(e.content AS TEXT) AS content, \
             e.content_hash FROM compendium_entries e WHERE e.entry_type = ",
        )
        .text(entry_type)
        .push(" AND e.slug = ")
        .text(slug)
        .scope(scope)
        .push(" ORDER BY (e.source = 'srd') DESC, e.source ASC");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("content")?;
                Ok(StoredEntry {
                    entry_type: r.try_get("entry_type")?,
                    slug: r.try_get("slug")?,
                    name: r.try_get("name")?,
                    source: r.try_get("source")?,
                    edition: r.try_get("edition")?,
                    content: serde_json::from_str(&text)
                        .map_err(|e| anyhow::anyhow!("stored content: {e}"))?,
                    content_hash: r.try_get("content_hash")?,
                })
            })
            .collect()
    }

    /// Ranked hits across types: exact name matches first, then names that start with the
    /// query, then by full-text rank.
    pub async fn search_entries(&self, q: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
        let words = words(&q.q);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let phrase = words.join(" ");
        let mut sql = Sql::default();
        match self.backend {
            Backend::Sqlite => {
                sql.push(&format!(
                    "SELECT e.entry_type, e.slug, e.name, e.source, \
                     snippet(compendium_fts, -1, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 16) AS snippet \
                     FROM compendium_fts JOIN compendium_entries e ON e.id = compendium_fts.rowid \
                     WHERE compendium_fts MATCH "
                ))
                .text(fts5_query(&words));
            }
            Backend::Postgres => {
                sql.push("SELECT e.entry_type, e.slug, e.name, e.source, ts_headline('english', e.name || '. ' || e.search_text, query, ")
                    .text(format!("StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=24, MinWords=8, MaxFragments=1"))
                    .push(") AS snippet FROM compendium_entries e, to_tsquery('english', ")
                    .text(tsquery(&words))
                    .push(") query WHERE e.search @@ query");
            }
        }
        sql.scope(&q.scope);
        if !q.types.is_empty() {
            sql.push(" AND e.entry_type IN (");
            for (i, t) in q.types.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.text(t.clone());
            }
            sql.push(")");
        }
        sql.push(" ORDER BY (lower(e.name) = ")
            .text(phrase.clone())
            .push(") DESC, (lower(e.name) LIKE ");
        sql.text(format!("{}%", phrase.replace(['%', '_'], "")))
            .push(") DESC, ");
        match self.backend {
            Backend::Sqlite => sql.push("bm25(compendium_fts, 10.0, 1.0) ASC"),
            Backend::Postgres => sql.push("ts_rank(e.search, query) DESC"),
        };
        sql.push(", e.name ASC LIMIT ").bind(Bind::Int(q.limit));
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let snippet: String = r.try_get("snippet")?;
                Ok(SearchHit {
                    entry_type: r.try_get("entry_type")?,
                    slug: r.try_get("slug")?,
                    name: r.try_get("name")?,
                    source: r.try_get("source")?,
                    snippet: highlight(&snippet),
                })
            })
            .collect()
    }
}

/// FTS5: every word as a quoted prefix term, all required.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// PostgreSQL: every word as a prefix term, all required.
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn highlights_are_escaped_except_marks() {
        assert_eq!(
            super::highlight("a <b> \u{2}fire\u{3} & c"),
            "a &lt;b&gt; <mark>fire</mark> &amp; c"
        );
        assert_eq!(
            super::fts5_query(&["fire".into(), "bolt".into()]),
            "\"fire\"* \"bolt\"*"
        );
        assert_eq!(
            super::tsquery(&["fire".into(), "bolt".into()]),
            "fire:* & bolt:*"
        );
    }
}
