//! grimoire-host: the `grimoire` binary's library half — configuration, storage, auth, the
//! HTTP API and the command line. The rules engine (`grimoire-engine`) knows none of this; the
//! host owns every byte of I/O and maps engine results onto the API.

pub mod auth;
pub mod characters;
pub mod cli;
pub mod compendium;
pub mod config;
pub mod error;
pub mod http;
pub mod realtime;
pub mod rules;
pub mod server;
pub mod state;
pub mod store;
