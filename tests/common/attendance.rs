//! A reception desk for the attendance tests: a unit with a signed-in staff member.

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
