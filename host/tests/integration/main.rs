//! HTTP journeys and repository tests against real parts: the real server on an ephemeral port,
//! a real SQLite file, and PostgreSQL / Redis from `GRIMOIRE_TEST_DATABASE_URL` /
//! `GRIMOIRE_TEST_REDIS_URL`. Tests whose names end in `_postgres` or `_redis` need those
//! services and fail (never pass silently) without them; `scripts/test.sh` leaves them out,
//! and says so, on a machine that lacks the services.

mod common;

mod auth;
mod campaigns;
mod character_preview;
mod characters;
mod cli;
mod compendium;
mod dice;
mod errors;
mod frontend;
mod health;
mod live;
mod openapi;
mod rules;
mod store;
mod triggers;
