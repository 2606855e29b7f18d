//! Attendance for the tests: a reception desk (a unit with a signed-in staff
//! member), and visits written straight to the table.

use super::{Browser, TestApp};
use lotsen::auth::Role;
use sqlx::PgPool;

pub struct Desk {
    pub app: TestApp,
    pub unit: i64,
    pub staff: Browser,
}

pub async fn desk(db: &PgPool) -> Desk {
    // A reception desk stays signed in through the day in these tests.
    let app = TestApp::spawn_with(db.clone(), |c| c.session_idle_timeout = std::time::Duration::from_secs(8 * 3600)).await;
    let unit = super::create_unit(db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    Desk { app, unit, staff }
}

/// A visit of `participant` at their unit on `on` (a date), written straight
/// to the table: for tests of what is read from visits, not of the desk.
pub async fn visit(db: &PgPool, participant: i64, on: &str) {
    sqlx::query(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by)
         SELECT id, unit_id, $2::date, $2::date + time '10:00', (SELECT min(id) FROM users) FROM participants WHERE id = $1",
    )
    .bind(participant)
    .bind(on)
    .execute(db)
    .await
    .unwrap();
}
