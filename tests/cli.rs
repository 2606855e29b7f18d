//! The binary's commands, run as a newcomer would run them.

mod common;

use reqwest::StatusCode;
use sqlx::PgPool;
use std::io::Write;
use std::process::{Command, Stdio};

/// The URL of this test's own database, for the binary.
fn database_url(db: &PgPool) -> String {
    let master = std::env::var("DATABASE_URL").unwrap();
    let name = db.connect_options().get_database().unwrap().to_string();
    format!("{}/{}", master.rsplit_once('/').unwrap().0, name)
}

fn lotsen(db: &PgPool, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .args(args)
        .env("DATABASE_URL", database_url(db))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[sqlx::test]
async fn create_user_reads_the_password_from_stdin_and_the_user_can_sign_in(db: PgPool) {
    common::create_unit(&db, "Lotsen Centrum").await;
    let out = lotsen(
        &db,
        &[
            "create-user",
            "--email",
            "Ny@Lotsen.test",
            "--name",
            "Nina Ny",
            "--role",
            "manager",
            "--title",
            "enhetschef",
            "--unit",
            "lotsen centrum",
        ],
        "ett långt nytt lösenord\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (role, units): (String, i64) = sqlx::query_as(
        "SELECT u.role, (SELECT count(*) FROM unit_memberships m WHERE m.user_id = u.id) FROM users u WHERE email = 'ny@lotsen.test'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((role.as_str(), units), ("manager", 1));
    let app = common::TestApp::spawn(db.clone()).await;
    assert_eq!(
        app.browser().login("ny@lotsen.test", "ett långt nytt lösenord").await.status(),
        StatusCode::SEE_OTHER
    );

    // A short password is refused, and the same e-mail twice too.
    let short = lotsen(
        &db,
        &["create-user", "--email", "kort@lotsen.test", "--name", "K", "--role", "staff"],
        "kort\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("minst 12 tecken"));
    let again = lotsen(
        &db,
        &["create-user", "--email", "ny@lotsen.test", "--name", "N", "--role", "staff"],
        "ett långt nytt lösenord\n",
    );
    assert!(!again.status.success());
}

#[sqlx::test]
async fn a_bad_setting_stops_start_up_with_one_line_naming_it(db: PgPool) {
    let out = Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .arg("serve")
        .env("DATABASE_URL", database_url(&db))
        .env("LOTSEN_ADDR", "inte-en-adress")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("LOTSEN_ADDR"), "{stderr}");
}

#[sqlx::test]
async fn demo_data_prints_the_logins(db: PgPool) {
    let out = lotsen(&db, &["demo-data"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("admin@lotsen.example") && stdout.contains(lotsen::demo::DEMO_PASSWORD),
        "{stdout}"
    );
    let participants: i64 = sqlx::query_scalar("SELECT count(*) FROM participants")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(participants, 400, "two hundred people in each demo unit");
}
