//! Every repository function, against SQLite and PostgreSQL.

use grimoire_host::store::{NewUser, Store, StoreError};

use crate::common::{Db, fresh_postgres};

async fn open(db: Db) -> (Store, Option<tempfile::TempDir>) {
    let (url, dir) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("nested/g.db").display()
                ),
                Some(dir),
            )
        }
        Db::Postgres => (fresh_postgres().await, None),
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.expect("migrating twice is a no-op");
    (store, dir)
}

fn new_user<'a>(name: &'a str, email: &'a str) -> NewUser<'a> {
    NewUser {
        username: name,
        email,
        password_hash: "$argon2id$fake",
        is_admin: false,
    }
}

async fn users(db: Db) {
    let (store, _dir) = open(db).await;
    store.ping().await.unwrap();
    let u = store
        .create_user(new_user("Alice", "alice@example.org"))
        .await
        .unwrap();
    assert!(u.id > 0);
    assert!(!u.is_admin);
    assert!(u.created_at > 1_700_000_000);
    let admin = store
        .create_user(NewUser {
            is_admin: true,
            ..new_user("root", "root@example.org")
        })
        .await
        .unwrap();
    assert!(admin.is_admin);
    assert_eq!(store.count_admins().await.unwrap(), 1);

    assert_eq!(
        store.find_user(u.id).await.unwrap().unwrap().username,
        "Alice"
    );
    assert!(store.find_user(9999).await.unwrap().is_none());
    assert_eq!(
        store.find_user_by_login("alice").await.unwrap().unwrap().id,
        u.id
    );
    assert_eq!(
        store
            .find_user_by_login("ALICE@EXAMPLE.ORG")
            .await
            .unwrap()
            .unwrap()
            .id,
        u.id
    );
    assert!(store.find_user_by_login("nobody").await.unwrap().is_none());

    for dup in [
        new_user("ALICE", "x@example.org"),
        new_user("alice2", "Alice@Example.org"),
    ] {
        match store.create_user(dup).await {
            Err(StoreError::Conflict { .. }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    let before = store.counts().await.unwrap();
    assert_eq!(
        (
            before.users,
            before.active_users,
            before.characters,
            before.campaigns
        ),
        (2, 0, 0, 0)
    );
    store.touch_user(u.id).await.unwrap();
    assert_eq!(store.counts().await.unwrap().active_users, 1);
}

#[tokio::test]
async fn users_sqlite() {
    users(Db::Sqlite).await;
}

#[tokio::test]
async fn users_postgres() {
    users(Db::Postgres).await;
}

async fn revocations(db: Db) {
    let (store, _dir) = open(db).await;
    let u = store
        .create_user(new_user("bob", "bob@example.org"))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    store.revoke_token("live", u.id, now + 3600).await.unwrap();
    store
        .revoke_token("live", u.id, now + 3600)
        .await
        .expect("revoking twice is harmless");
    store.revoke_token("old", u.id, now - 10).await.unwrap();
    assert!(store.is_token_revoked("live").await.unwrap());
    assert!(store.is_token_revoked("old").await.unwrap());
    assert!(!store.is_token_revoked("never").await.unwrap());
    assert_eq!(store.purge_expired_revocations().await.unwrap(), 1);
    assert!(!store.is_token_revoked("old").await.unwrap());
    assert!(store.is_token_revoked("live").await.unwrap());
}

#[tokio::test]
async fn revocations_sqlite() {
    revocations(Db::Sqlite).await;
}

#[tokio::test]
async fn revocations_postgres() {
    revocations(Db::Postgres).await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_a_busy_timeout() {
    let (store, dir) = open(Db::Sqlite).await;
    drop(store);
    let path = dir.as_ref().unwrap().path().join("nested/g.db");
    let conn = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // The busy timeout is per connection: check it on one of the store's own connections.
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.sqlite_busy_timeout_ms().await.unwrap(), Some(5000));
}
