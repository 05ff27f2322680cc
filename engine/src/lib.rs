//! # Grimoire's rules engine
//!
//! Everything that decides what happens at the table — dice, character derivation, effects,
//! rule packs of Rhai scripts and WebAssembly plugins — lives here as a pure library: data in,
//! data out. It performs no I/O of its own (no files, network, database or clock), so that
//!
//! * every rule can be tested and benchmarked alone, deterministically (randomness comes in as
//!   an injected RNG or a seed);
//! * the same engine can be embedded in the server, a CLI or a bot without dragging their
//!   runtimes along;
//! * nothing a player or a content author types can make the engine block on the outside
//!   world: every limit is a computation limit, checked here.
//!
//! The host (`grimoire-host`) owns all I/O and maps engine results and errors to its API.

pub mod dice;

// The rules engine: stored character → derived sheet, driven by rule packs.
pub mod actions;
pub mod character;
pub mod check;
pub mod choices;
pub mod compendium;
pub mod creation;
pub mod derive;
pub mod diagnostic;
pub mod effects;
pub mod formula;
pub mod hooks;
pub mod pack;
pub mod plugin;
pub mod records;
pub mod registry;
pub mod rules;
pub mod script;
pub mod sheet;
pub mod triggers;
pub mod view;
