//! The `grimoire` binary itself: help, configuration errors, migrate, user create, and a clean
//! stop on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_grimoire");

fn grimoire(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GRIMOIRE_DATA_DIR", dir)
        .env("GRIMOIRE_LOG", "warn")
        .current_dir(dir);
    cmd
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = grimoire(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "user"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = grimoire(dir.path())
        .args(["user", "create", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--password-stdin"));
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = grimoire(dir.path())
        .env("GRIMOIRE_BIND", "not-an-address")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("GRIMOIRE_BIND") && err.contains("expected a socket address"),
        "{err}"
    );
}

#[tokio::test]
async fn migrate_then_create_the_first_admin_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = grimoire(dir.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let mut child = grimoire(dir.path())
        .args([
            "user",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.org",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created administrator root"));

    let store = grimoire_host::store::Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("grimoire.db").display()
    ))
    .await
    .unwrap();
    let user = store
        .find_user_by_login("root")
        .await
        .unwrap()
        .expect("the account exists");
    assert!(user.is_admin);
    assert!(user.password_hash.starts_with("$argon2id$"));

    // A short password is refused before anything is written.
    let mut child = grimoire(dir.path())
        .args([
            "user",
            "create",
            "--username",
            "shorty",
            "--email",
            "s@example.org",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    assert!(store.find_user_by_login("shorty").await.unwrap().is_none());
}

#[cfg(unix)]
#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = grimoire(dir.path())
        .env("GRIMOIRE_BIND", format!("127.0.0.1:{port}"))
        .env("GRIMOIRE_LOG", "info")
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health");
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::blocking_get(&url) {
            healthy = r;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(healthy, "the server answered /health with 200");
    assert!(
        dir.path().join("jwt_secret").exists(),
        "a JWT key was generated"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "exit after SIGTERM: {code:?}");
    let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert!(
        out.contains("shutting down") && out.contains("stopped"),
        "{out}"
    );
}

/// A blocking GET without pulling in reqwest's blocking client: true when /health said 200.
mod reqwest {
    pub fn blocking_get(url: &str) -> std::io::Result<bool> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut stream = std::net::TcpStream::connect(host)?;
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response.starts_with("HTTP/1.1 200"))
    }
}
