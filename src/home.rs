//! The start page: who you are, your units, and where to go from here.

use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::AppResult;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    name: String,
    job_title: String,
    role_label: &'static str,
    units: Vec<String>,
    /// Open reminders for the user's participants, and how many are overdue.
    reminders: i64,
    overdue: i64,
    /// The user's trainees who worked far under plan last week.
    under_plan: usize,
}

pub async fn show(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let units = sqlx::query_scalar!(
        "SELECT u.name FROM units u JOIN unit_memberships m ON m.unit_id = u.id WHERE m.user_id = $1 AND u.active ORDER BY u.name",
        current.user.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let counts = sqlx::query!(
        r#"SELECT count(*) AS "open!", count(*) FILTER (WHERE r.due_on < $2) AS "overdue!"
           FROM key_worker_assignments k JOIN reminders r ON r.participant_id = k.participant_id AND r.cleared_at IS NULL
           WHERE k.user_id = $1 AND k.to_on IS NULL"#,
        current.user.id as _,
        state.clock.today()
    )
    .fetch_one(&state.db)
    .await?;
    let (_, under_plan) =
        crate::attendance::hours::far_under_last_week(&state.db, current.user.id, &current.user.unit_ids, state.clock.today()).await?;
    let page = HomePage {
        layout: Layout::new(&current.ctx, "home"),
        name: current.user.name.clone(),
        job_title: current.user.job_title.clone(),
        role_label: current.user.role.label(),
        units,
        reminders: counts.open,
        overdue: counts.overdue,
        under_plan: under_plan.len(),
    };
    Ok(Html(page.render()?).into_response())
}
