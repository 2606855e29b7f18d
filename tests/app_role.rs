//! Least privilege in the database (issue 18, point 6): the server's role,
//! `lotsen_app`, reads and writes rows but owns nothing. Even with raw SQL it
//! cannot change or remove a journal note, an access-log row or an audit
//! entry, cannot switch the append-only triggers off, and cannot change the
//! schema. Every table a trigger keeps append-only is closed to it.

mod common;

use common::TestApp;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// A connection to the test's database as the server's role.
async fn as_app_role(db: &PgPool) -> PgPool {
    let options = (*db.connect_options()).clone().username("lotsen_app").password("lotsen_app");
    PgPoolOptions::new().max_connections(1).connect_with(options).await.unwrap()
}

async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_app_role_cannot_change_the_logs_even_with_raw_sql(db: PgPool) {
    // A journal note written through the app, with its access-log and audit rows.
    let app = TestApp::spawn(db.clone()).await;
    let (staff, _, form) = common::participants::journal_note(&app).await;
    assert!(form.submit(&staff).await.status().is_redirection());
    let before: Vec<i64> = log_counts(&db).await;
    assert!(
        before.iter().all(|&n| n > 0),
        "a note, reads and audit entries to protect: {before:?}"
    );

    let role = as_app_role(&db).await;
    let refused = [
        "UPDATE journal_notes SET body = 'ändrad'",
        "DELETE FROM journal_notes",
        "TRUNCATE journal_notes",
        "UPDATE access_log SET action = 'view'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "UPDATE audit_log SET details = ''",
        "DELETE FROM audit_log",
        "ALTER TABLE journal_notes DISABLE TRIGGER ALL",
        "ALTER TABLE access_log DISABLE TRIGGER access_log_no_update_or_delete",
        "DROP TRIGGER journal_notes_no_update_or_delete ON journal_notes",
        "DROP FUNCTION journal_notes_are_permanent() CASCADE",
        "SET session_replication_role = replica",
        "DELETE FROM _sqlx_migrations",
        "CREATE TABLE smuggled (x int)",
    ];
    for sql in refused {
        let err = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&role).await.expect_err(sql);
        let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    assert_eq!(log_counts(&db).await, before, "nothing changed");

    // What the server needs still works: reading, and adding a row to a log.
    assert!(count(&role, "journal_notes").await > 0);
    sqlx::query("INSERT INTO audit_log (occurred_at, action) VALUES (now(), 'test')")
        .execute(&role)
        .await
        .unwrap();
    role.close().await;
}

async fn log_counts(db: &PgPool) -> Vec<i64> {
    vec![
        count(db, "journal_notes").await,
        count(db, "access_log").await,
        count(db, "audit_log").await,
    ]
}

#[sqlx::test]
async fn every_append_only_table_is_closed_to_the_app_role(db: PgPool) {
    // Append-only tables: a trigger before UPDATE and DELETE (tgtype bits: 2
    // before, 8 delete, 16 update) that refuses them all, named so by
    // convention (`…_no_update_or_delete`, `…_are_history`).
    let guarded: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.relname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND (t.tgtype & 2) <> 0 AND (t.tgtype & 8) <> 0 AND (t.tgtype & 16) <> 0
           AND (t.tgname LIKE '%no\\_update\\_or\\_delete' OR t.tgname LIKE '%are\\_history')
         ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        guarded,
        [
            "access_log",
            "audit_log",
            "journal_notes",
            "partner_contacts",
            "relative_versions",
            "report_freezes"
        ],
        "a new append-only table: revoke UPDATE and DELETE from lotsen_app in its migration, and add it here"
    );
    for table in &guarded {
        let (insert, update, delete, truncate): (bool, bool, bool, bool) = sqlx::query_as(
            "SELECT has_table_privilege('lotsen_app', 'public.' || $1, 'INSERT'), has_table_privilege('lotsen_app', 'public.' || $1, 'UPDATE'),
                    has_table_privilege('lotsen_app', 'public.' || $1, 'DELETE'), has_table_privilege('lotsen_app', 'public.' || $1, 'TRUNCATE')",
        )
        .bind(table)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!((insert, update, delete, truncate), (true, false, false, false), "{table}");
    }
    // Every other table is the app's to read and write; it owns none.
    let owned: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'lotsen_app'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(owned, 0);
    let closed: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_sqlx_migrations'
           AND NOT has_table_privilege('lotsen_app', c.oid, 'SELECT, INSERT')
         ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(closed, Vec::<String>::new(), "tables the server could not use");
}

#[sqlx::test]
async fn the_server_runs_as_the_app_role(db: PgPool) {
    // The whole app over the app role's connection: sign in, register, write a note.
    let role = as_app_role(&db).await;
    let app = TestApp::spawn(role.clone()).await;
    let (staff, _, form) = common::participants::journal_note(&app).await;
    let note = form.submit(&staff).await;
    assert!(note.status().is_redirection(), "{}", note.status());
    assert_eq!(count(&db, "journal_notes").await, 1);
    drop(app);
    role.close().await;
}
