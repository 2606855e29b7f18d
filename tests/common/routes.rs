//! The routes with a record in their path, and one record of each kind from
//! the demo data to fill them with: what the route walks of
//! `tests/access.rs` and `tests/hostile_input.rs` share.

use super::TestApp;
use lotsen::auth::Role;
use sqlx::PgPool;
use std::collections::HashMap;

pub async fn scalar(db: &PgPool, sql: &str) -> i64 {
    // Test-made SQL from constants and ids, never from input.
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_optional(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the demo data has no row for: {sql}"))
}

/// One record of each kind, from the demo data, with sub-records that belong
/// to their parent: keyed by the path prefix and parameter that name it.
pub async fn records(db: &PgPool) -> HashMap<&'static str, i64> {
    let participant = scalar(db, "SELECT participant_id FROM journal_notes ORDER BY id LIMIT 1").await;
    let consent: i64 = sqlx::query_scalar(
        "INSERT INTO consents (participant_id, scope, scope_note, given_on, recorded_by, recorded_at)
         SELECT $1, 'psychiatry', '', DATE '2026-01-05', min(id), now() FROM users RETURNING id",
    )
    .bind(participant)
    .fetch_one(db)
    .await
    .unwrap();
    let relative: i64 = sqlx::query_scalar(
        "WITH r AS (INSERT INTO relatives (participant_id, kind, name, created_by, created_at)
                    SELECT $1, 'relative', 'Bo Berg', min(id), now() FROM users RETURNING *)
         INSERT INTO relative_versions (relative_id, version, kind, name, relation, phone, email, note, changed_by, changed_at)
         SELECT id, 1, kind, name, relation, phone, email, note, created_by, created_at FROM r RETURNING relative_id",
    )
    .bind(participant)
    .fetch_one(db)
    .await
    .unwrap();
    let plan = scalar(
        db,
        "SELECT a.plan_id FROM plan_activities a JOIN capacity_assessments c ON c.plan_id = a.plan_id ORDER BY a.plan_id LIMIT 1",
    )
    .await;
    let sql = |table: &str, parent: &str, id: i64| format!("SELECT min(id) FROM {table} WHERE {parent} = {id}");
    // A follow-up of the plan (the demo's plan may have none yet).
    let follow_up: i64 = sqlx::query_scalar(
        "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, notes, weekly_hours_before, weekly_hours_after,
                                 next_due_on, recorded_by, recorded_at)
         SELECT $1, DATE '2026-01-05', DATE '2026-01-05', true, 'Genomgång.', 10, 10, DATE '2026-04-05', min(id), now() FROM users
         RETURNING id",
    )
    .bind(plan)
    .fetch_one(db)
    .await
    .unwrap();
    let unit = scalar(db, &format!("SELECT unit_id FROM participants WHERE id = {participant}")).await;
    let request = scalar(
        db,
        &format!(
            "INSERT INTO register_extract_requests (participant_id, received_on, identity_check, registered_by, registered_at)
             SELECT {participant}, DATE '2026-02-20', 'Id-kort', min(id), now() FROM users RETURNING id"
        ),
    )
    .await;
    HashMap::from([
        ("/participants/{id}", participant),
        ("{request}", request),
        ("/access-review/{unit}", unit),
        // February 2026, a month that has ended on the tests' day (written 2026-02 by `fill`).
        ("{month}", 202602),
        ("/disposal/{unit}", unit),
        ("{year}", 2026),
        // A version number, not an id: every record has a first version.
        ("{version}", 1),
        ("{note_id}", scalar(db, &sql("journal_notes", "participant_id", participant)).await),
        ("{consent_id}", consent),
        ("{relative_id}", relative),
        ("/plans/{id}", plan),
        ("{activity_id}", scalar(db, &sql("plan_activities", "plan_id", plan)).await),
        ("{assessment_id}", scalar(db, &sql("capacity_assessments", "plan_id", plan)).await),
        ("{follow_up_id}", follow_up),
        (
            "/visits/{id}",
            scalar(db, "SELECT min(id) FROM visits WHERE cancelled_at IS NULL").await,
        ),
        (
            "/activities/{id}",
            scalar(db, "SELECT min(id) FROM group_activities WHERE cancelled_at IS NULL").await,
        ),
        (
            "{entry_id}",
            scalar(db, "SELECT min(id) FROM queue_entries WHERE closed_on IS NULL").await,
        ),
        ("/admin/units/{id}", scalar(db, "SELECT min(id) FROM units").await),
        ("/surveys/{id}", scalar(db, "SELECT min(id) FROM surveys").await),
        (
            "/intakes/{id}",
            scalar(db, "SELECT min(id) FROM intakes WHERE status = 'open'").await,
        ),
        ("{partner_id}", scalar(db, "SELECT min(partner_id) FROM partner_people").await),
        ("{person_id}", scalar(db, "SELECT min(id) FROM partner_people").await),
        (
            "{contact_id}",
            scalar(db, "SELECT min(id) FROM partner_contacts WHERE urgent_reason IS NOT NULL").await,
        ),
        ("/admin/users/{id}", scalar(db, "SELECT min(id) FROM users").await),
        (
            "/account/sessions/{id}",
            scalar(
                db,
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at)
                 SELECT sha256('routes'::bytea), min(id), 'x', now(), now() FROM users RETURNING id",
            )
            .await,
        ),
        (
            "/drafts/{id}",
            scalar(
                db,
                "INSERT INTO drafts (user_id, action, page, fields, saved_at)
                 SELECT min(id), '/activities', '/activities', '[]', now() FROM users RETURNING id",
            )
            .await,
        ),
    ])
}

/// The app with the demo data, and one record of each kind from it.
pub async fn demo(db: &PgPool) -> (TestApp, HashMap<&'static str, i64>) {
    let app = TestApp::spawn(db.clone()).await;
    lotsen::demo::load(db, super::start_time()).await.unwrap();
    let records = records(db).await;
    (app, records)
}

/// A signed-in user of `role` who works at every unit there is.
pub async fn member_of_every_unit(app: &TestApp, role: Role) -> (super::Browser, i64) {
    let (browser, user) = app.signed_in(role).await;
    sqlx::query("INSERT INTO unit_memberships (user_id, unit_id) SELECT $1, id FROM units")
        .bind(user)
        .execute(&app.db)
        .await
        .unwrap();
    (browser, user)
}

/// The route's path with every parameter replaced by a record's id. A new
/// kind of id in a route must be added to `records`, or this fails.
pub fn fill(path: &str, records: &HashMap<&'static str, i64>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').unwrap() + 1;
        let param = &rest[open..close];
        let prefix = format!("{}{}", &path[..path.len() - rest.len() + open], param);
        let id = records
            .get(param)
            .or_else(|| records.iter().find(|(key, _)| prefix.ends_with(*key)).map(|(_, id)| id))
            .unwrap_or_else(|| panic!("{path}: no record for {param}; add one to `records` in tests/common/routes.rs"));
        out.push_str(&rest[..open]);
        if param == "{month}" {
            out.push_str(&format!("{}-{:02}", id / 100, id % 100));
        } else {
            out.push_str(&id.to_string());
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}
