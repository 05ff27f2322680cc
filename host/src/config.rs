//! Server configuration: defaults, then an optional `grimoire.toml`, then environment variables.
//!
//! Nothing needs setting to start. Every setting has one environment variable and one TOML key;
//! a bad value stops startup with a single line that names the variable (or the TOML key) and
//! what was expected, so an operator never has to read a stack trace to fix a typo.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use rand::RngCore;

/// A configuration problem, reported as one line.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {source_name} = {value:?}: expected {expected}")]
pub struct ConfigError {
    /// The environment variable or `grimoire.toml` key that held the bad value.
    pub source_name: String,
    pub value: String,
    pub expected: String,
}

/// Everything the host needs to know at startup, resolved and validated.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub data_dir: PathBuf,
    pub rules_dir: PathBuf,
    pub srd_dir: PathBuf,
    pub frontend_dir: PathBuf,
    pub bind: SocketAddr,
    pub jwt_secret: JwtSecret,
    pub token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub login_max_failures: u32,
    pub login_window: Duration,
    pub trust_forwarded_for: bool,
}

/// Where the JWT signing key came from, so startup can say so.
#[derive(Clone)]
pub enum JwtSecret {
    /// Set explicitly (`JWT_SECRET` or `jwt_secret`).
    Configured(Vec<u8>),
    /// Not set: read from or generated into this file in the data directory.
    FromFile(PathBuf),
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtSecret::Configured(_) => f.write_str("Configured(<redacted>)"),
            JwtSecret::FromFile(p) => write!(f, "FromFile({})", p.display()),
        }
    }
}

/// One setting: its environment variable, its key in `grimoire.toml`, its default and meaning.
pub struct Setting {
    pub env: &'static str,
    pub key: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

macro_rules! settings {
    ($($name:ident = $env:literal, $key:literal, $default:literal, $meaning:literal;)*) => {
        $(const $name: Setting = Setting { env: $env, key: $key, default: $default, meaning: $meaning };)*
        /// Every setting, for `--help`, the README table and checking `grimoire.toml` keys.
        pub const SETTINGS: &[Setting] = &[$($name),*];
    };
}

settings! {
    DATABASE_URL = "DATABASE_URL", "database_url", "sqlite://<data dir>/grimoire.db", "sqlite:// or postgres:// URL";
    REDIS_URL = "REDIS_URL", "redis_url", "(unset)", "redis:// URL: cross-process events, token revocation, caching";
    DATA_DIR = "GRIMOIRE_DATA_DIR", "data_dir", "./data", "SQLite file, campaign message files, generated JWT key";
    RULES_DIR = "GRIMOIRE_RULES_DIR", "rules_dir", "./rules", "rule packs";
    SRD_DIR = "GRIMOIRE_SRD_DIR", "srd_dir", "./.srd", "where the SRD data files are looked for (scripts/fetch-srd.sh puts them there)";
    FRONTEND_DIR = "GRIMOIRE_FRONTEND_DIR", "frontend_dir", "./frontend/build", "the built web app";
    BIND = "GRIMOIRE_BIND", "bind", "127.0.0.1:8080", "address and port to listen on";
    JWT_SECRET = "JWT_SECRET", "jwt_secret", "(generated into the data dir)", "HS256 signing key, at least 32 bytes";
    TOKEN_TTL = "GRIMOIRE_TOKEN_TTL", "token_ttl", "7d", "token lifetime (e.g. 12h, 7d)";
    CORS_ORIGINS = "GRIMOIRE_CORS_ORIGINS", "cors_origins", "(none)", "comma-separated origins allowed cross-origin";
    BODY_LIMIT = "GRIMOIRE_BODY_LIMIT", "body_limit", "1048576", "largest request body in bytes";
    REQUEST_TIMEOUT = "GRIMOIRE_REQUEST_TIMEOUT", "request_timeout", "30s", "longest a request may take";
    LOGIN_MAX_FAILURES = "GRIMOIRE_LOGIN_MAX_FAILURES", "login_max_failures", "5", "failed logins per account per window (4x per address)";
    LOGIN_WINDOW = "GRIMOIRE_LOGIN_WINDOW", "login_window", "15m", "throttling window for failed logins";
    TRUST_FORWARDED_FOR = "GRIMOIRE_TRUST_FORWARDED_FOR", "trust_forwarded_for", "false", "take the client address from X-Forwarded-For (behind a reverse proxy)";
}

/// Raw values gathered from the TOML file and the environment, before parsing.
struct Sources {
    file: BTreeMap<String, String>,
    file_name: String,
    env: BTreeMap<String, String>,
}

impl Sources {
    /// The raw value of a setting and the name to blame if it is bad: env wins over the file.
    fn get(&self, s: &Setting) -> Option<(String, String)> {
        if let Some(v) = self.env.get(s.env) {
            return Some((s.env.to_string(), v.clone()));
        }
        self.file
            .get(s.key)
            .map(|v| (format!("{} key {}", self.file_name, s.key), v.clone()))
    }

    fn parse<T>(
        &self,
        s: &Setting,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(s) {
            None => Ok(None),
            Some((name, raw)) => parse(raw.trim()).map(Some).ok_or(ConfigError {
                source_name: name,
                value: raw,
                expected: expected.to_string(),
            }),
        }
    }
}

impl Config {
    /// Loads from `config_file` (or `./grimoire.toml` when it exists) and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(config_file, std::env::vars().collect())
    }

    /// Loads with an explicit environment (tests use this instead of mutating the process's).
    pub fn load_from(
        config_file: Option<&Path>,
        env: BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let env = env.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let (file, file_name) = read_toml(config_file)?;
        let src = Sources {
            file,
            file_name,
            env,
        };

        let data_dir = src
            .parse(&DATA_DIR, "a directory path", path)?
            .unwrap_or("./data".into());
        let database_url = match src.get(&DATABASE_URL) {
            Some((name, url)) => {
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(ConfigError {
                        source_name: name,
                        value: url,
                        expected: "a sqlite:// or postgres:// URL".into(),
                    });
                }
                url
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("grimoire.db").display()
            ),
        };
        let redis_url = match src.get(&REDIS_URL) {
            Some((name, url)) if !(url.starts_with("redis://") || url.starts_with("rediss://")) => {
                return Err(ConfigError {
                    source_name: name,
                    value: url,
                    expected: "a redis:// or rediss:// URL".into(),
                });
            }
            other => other.map(|(_, v)| v),
        };
        let jwt_secret = match src.get(&JWT_SECRET) {
            Some((name, v)) if v.len() < 32 => {
                return Err(ConfigError {
                    source_name: name,
                    value: "<redacted>".into(),
                    expected: "a secret of at least 32 bytes".into(),
                });
            }
            Some((_, v)) => JwtSecret::Configured(v.into_bytes()),
            None => JwtSecret::FromFile(data_dir.join("jwt_secret")),
        };
        let duration = "a duration such as 30s, 15m, 12h or 7d";
        Ok(Config {
            database_url,
            redis_url,
            rules_dir: src
                .parse(&RULES_DIR, "a directory path", path)?
                .unwrap_or("./rules".into()),
            srd_dir: src
                .parse(&SRD_DIR, "a directory path", path)?
                .unwrap_or("./.srd".into()),
            frontend_dir: src
                .parse(&FRONTEND_DIR, "a directory path", path)?
                .unwrap_or("./frontend/build".into()),
            data_dir,
            bind: src
                .parse(&BIND, "a socket address such as 127.0.0.1:8080", |s| {
                    s.parse().ok()
                })?
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            jwt_secret,
            token_ttl: src
                .parse(&TOKEN_TTL, duration, positive_duration)?
                .unwrap_or(Duration::from_secs(7 * 24 * 3600)),
            cors_origins: src
                .parse(
                    &CORS_ORIGINS,
                    "comma-separated origins such as https://dnd.example.org",
                    origins,
                )?
                .unwrap_or_default(),
            body_limit: src
                .parse(
                    &BODY_LIMIT,
                    "a size in bytes between 1024 and 1073741824",
                    |s| {
                        s.parse::<usize>()
                            .ok()
                            .filter(|n| (1024..=1 << 30).contains(n))
                    },
                )?
                .unwrap_or(1 << 20),
            request_timeout: src
                .parse(&REQUEST_TIMEOUT, duration, positive_duration)?
                .unwrap_or(Duration::from_secs(30)),
            login_max_failures: src
                .parse(&LOGIN_MAX_FAILURES, "a whole number from 1 to 1000", |s| {
                    s.parse::<u32>().ok().filter(|n| (1..=1000).contains(n))
                })?
                .unwrap_or(5),
            login_window: src
                .parse(&LOGIN_WINDOW, duration, positive_duration)?
                .unwrap_or(Duration::from_secs(15 * 60)),
            trust_forwarded_for: src
                .parse(&TRUST_FORWARDED_FOR, "true or false", |s| s.parse().ok())?
                .unwrap_or(false),
        })
    }

    /// Whether the database is SQLite (the embedded default).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Creates the data directory and resolves the JWT key, generating and storing one (0600)
    /// when none is configured. Returns the key and whether it was newly generated.
    pub fn prepare_data_dir(&self) -> std::io::Result<(Vec<u8>, bool)> {
        std::fs::create_dir_all(&self.data_dir)?;
        match &self.jwt_secret {
            JwtSecret::Configured(key) => Ok((key.clone(), false)),
            JwtSecret::FromFile(file) => match std::fs::read_to_string(file) {
                Ok(text) if text.trim().len() >= 32 => Ok((text.trim().as_bytes().to_vec(), false)),
                Ok(_) | Err(_) if file.exists() => Err(std::io::Error::other(format!(
                    "{} exists but does not hold a key of at least 32 bytes; remove it to generate a new one",
                    file.display()
                ))),
                _ => {
                    let mut raw = [0u8; 48];
                    rand::rngs::OsRng.fill_bytes(&mut raw);
                    let key = base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw);
                    write_private(file, key.as_bytes())?;
                    Ok((key.into_bytes(), true))
                }
            },
        }
    }
}

#[cfg(unix)]
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(file, bytes)
}

fn read_toml(explicit: Option<&Path>) -> Result<(BTreeMap<String, String>, String), ConfigError> {
    let default = Path::new("grimoire.toml");
    let file = match explicit {
        Some(p) => p,
        None if default.exists() => default,
        None => return Ok((BTreeMap::new(), "grimoire.toml".into())),
    };
    let name = file.display().to_string();
    let bad = |expected: String| ConfigError {
        source_name: "--config".into(),
        value: name.clone(),
        expected,
    };
    let text = std::fs::read_to_string(file).map_err(|e| bad(format!("a readable file ({e})")))?;
    let table: toml::Table = text.parse().map_err(|e| bad(format!("valid TOML ({e})")))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let raw = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        if !SETTINGS.iter().any(|s| s.key == key) {
            return Err(ConfigError {
                source_name: format!("{name} key {key}"),
                value: raw,
                expected: format!(
                    "one of the known keys: {}",
                    SETTINGS
                        .iter()
                        .map(|s| s.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        out.insert(key, raw);
    }
    Ok((out, name))
}

fn path(s: &str) -> Option<PathBuf> {
    (!s.is_empty()).then(|| PathBuf::from(s))
}

fn positive_duration(s: &str) -> Option<Duration> {
    let d = match s.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(s).ok()?,
    };
    (!d.is_zero()).then_some(d)
}

fn origins(s: &str) -> Option<Vec<String>> {
    s.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/')
                && http::HeaderValue::from_str(o).is_ok();
            ok.then(|| o.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite://./data/grimoire.db"));
        assert_eq!(c.token_ttl, Duration::from_secs(7 * 24 * 3600));
        assert!(c.redis_url.is_none());
        assert!(matches!(c.jwt_secret, JwtSecret::FromFile(ref p) if p.ends_with("jwt_secret")));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Config::load_from(None, env(&[("GRIMOIRE_BIND", "nope")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration error: GRIMOIRE_BIND = \"nope\": expected a socket address such as 127.0.0.1:8080"
        );
        let err = Config::load_from(None, env(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
        let err = Config::load_from(None, env(&[("JWT_SECRET", "short")])).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
        assert!(
            !err.to_string().contains("short"),
            "secrets are never echoed: {err}"
        );
        let err = Config::load_from(None, env(&[("GRIMOIRE_TOKEN_TTL", "0s")])).unwrap_err();
        assert!(err.to_string().contains("GRIMOIRE_TOKEN_TTL"), "{err}");
    }

    #[test]
    fn toml_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("grimoire.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\ntoken_ttl = \"12h\"\ncors_origins = [\"https://a.example\", \"http://localhost:5173\"]\n").unwrap();
        let c =
            Config::load_from(Some(&file), env(&[("GRIMOIRE_BIND", "127.0.0.1:9001")])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:9001");
        assert_eq!(c.token_ttl, Duration::from_secs(12 * 3600));
        assert_eq!(
            c.cors_origins,
            vec!["https://a.example", "http://localhost:5173"]
        );

        std::fs::write(&file, "bnd = \"x\"\n").unwrap();
        let err = Config::load_from(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("key bnd"), "{err}");
    }

    #[test]
    fn generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let c = Config::load_from(None, env(&[("GRIMOIRE_DATA_DIR", d)])).unwrap();
        let (k1, new1) = c.prepare_data_dir().unwrap();
        let (k2, new2) = c.prepare_data_dir().unwrap();
        assert!(new1 && !new2);
        assert_eq!(k1, k2);
        assert!(k1.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn readme_documents_every_setting() {
        let readme = include_str!("../../README.md");
        for s in SETTINGS {
            let row = format!("| `{}` | `{}` |", s.env, s.key);
            assert!(
                readme.contains(&row),
                "README's configuration table lacks {row}"
            );
        }
    }
}
