//! Påminnelser and "Att göra". The background task (`sweep`) raises a
//! reminder for each plan whose follow-up is due within 14 days or overdue,
//! whose yearly renewal is due, or whose person nears the two-year limit.
//! Each kontaktman sees theirs on "Att göra"; managers also see the unit's.
//! Holding the follow-up, renewing or ending the plan clears them.

pub mod digest;
pub mod sweep;

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::domain::plans::Programme;
use crate::error::AppResult;
use crate::ids::PlanId;
use crate::plans::model::ReminderKind;
use crate::state::AppState;
use crate::web::routes::Routes;
use crate::web::routes::get;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;

pub fn routes() -> Routes {
    Routes::new().route("/todo", get(page))
}

pub struct TodoRow {
    pub plan_id: PlanId,
    pub kind: String,
    pub due_on: NaiveDate,
    pub programme: String,
    pub participant_name: String,
    pub key_worker: Option<String>,
    /// The day it reached the unit's managers (escalation), if it has.
    pub escalated_on: Option<NaiveDate>,
}

impl TodoRow {
    pub fn kind_label(&self) -> &'static str {
        ReminderKind::label_of(&self.kind)
    }
    pub fn programme_label(&self) -> &'static str {
        Programme::parse(&self.programme).map(Programme::label).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "reminders/todo.html")]
struct TodoPage {
    layout: Layout,
    mine: Vec<TodoRow>,
    /// The units' reminders, for managers.
    unit: Option<Vec<TodoRow>>,
    queue_length: i64,
    /// Records the indicators leave out until they are complete, for managers.
    incomplete: Vec<crate::plans::queries::IncompleteRow>,
    today: NaiveDate,
    /// Text this user typed and has not saved (ej sparad text).
    drafts: Vec<crate::drafts::store::Listed>,
    draft_days: u32,
    /// My trainees' plans far under plan last week, and that week.
    under_plan: Vec<crate::attendance::hours::WeekRow>,
    last_week: String,
    /// Loggkontroller of last month not yet signed off, for managers: (link, unit, month).
    access_reviews: Vec<(String, String, String)>,
    /// Registerutdrag not yet delivered, for managers.
    extracts: Vec<crate::privacy::register_extract::OpenRequest>,
    /// Partner contacts made without consent on an urgent reason and not yet checked, for managers.
    urgent_contacts: i64,
}

impl TodoPage {
    /// "Försenad 3 dagar", "I dag", "Om 5 dagar".
    fn when(&self, row: &TodoRow) -> String {
        let days = (row.due_on - self.today).num_days();
        match days {
            0 => "I dag".into(),
            1 => "I morgon".into(),
            d if d > 1 => format!("Om {d} dagar"),
            -1 => "Försenad 1 dag".into(),
            d => format!("Försenad {} dagar", -d),
        }
    }
    fn overdue(&self, row: &TodoRow) -> bool {
        row.due_on < self.today
    }
    /// The unit's reminders that have reached the managers.
    fn escalated(&self) -> Vec<&TodoRow> {
        self.unit.iter().flatten().filter(|r| r.escalated_on.is_some()).collect()
    }

    fn overdue_count(&self, rows: &[TodoRow]) -> usize {
        rows.iter().filter(|r| r.due_on < self.today).count()
    }
}

async fn page(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let mine = sqlx::query_as!(
        TodoRow,
        r#"SELECT r.plan_id, r.kind, r.due_on, p.programme, pa.first_name || ' ' || pa.last_name AS "participant_name!",
                  NULL::text AS key_worker, r.escalated_on
           FROM key_worker_assignments k
           JOIN reminders r ON r.participant_id = k.participant_id AND r.cleared_at IS NULL
           JOIN plans p ON p.id = r.plan_id
           JOIN participants pa ON pa.id = r.participant_id
           WHERE k.user_id = $1 AND k.to_on IS NULL AND r.unit_id = ANY($2)
           ORDER BY r.due_on, r.id"#,
        current.user.id as _,
        &current.user.unit_ids as _
    )
    .fetch_all(&state.db)
    .await?;
    let manages = matches!(current.user.role, Role::Manager | Role::Admin);
    let (unit, queue_length, incomplete) = if manages {
        let rows = sqlx::query_as!(
            TodoRow,
            r#"SELECT r.plan_id, r.kind, r.due_on, p.programme, pa.first_name || ' ' || pa.last_name AS "participant_name!",
                      kw.name AS "key_worker?", r.escalated_on
               FROM reminders r
               JOIN plans p ON p.id = r.plan_id
               JOIN participants pa ON pa.id = r.participant_id
               LEFT JOIN key_worker_assignments k ON k.participant_id = r.participant_id AND k.to_on IS NULL
               LEFT JOIN users kw ON kw.id = k.user_id
               WHERE r.unit_id = ANY($1) AND r.cleared_at IS NULL
               ORDER BY kw.name NULLS FIRST, r.due_on, r.id"#,
            &current.user.unit_ids as _
        )
        .fetch_all(&state.db)
        .await?;
        let queue = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM queue_entries WHERE closed_on IS NULL AND unit_id = ANY($1)"#,
            &current.user.unit_ids as _
        )
        .fetch_one(&state.db)
        .await?;
        let incomplete = crate::plans::queries::incomplete(&state.db, &current.user.unit_ids).await?;
        (Some(rows), queue, incomplete)
    } else {
        (None, 0, Vec::new())
    };
    let (monday, under_plan) =
        crate::attendance::hours::far_under_last_week(&state.db, current.user.id, &current.user.unit_ids, state.clock.today()).await?;
    let drafts = crate::drafts::store::list(&state.db, current.user.id, &current.user.unit_ids).await?;
    let extracts = if current.user.role == Role::Manager {
        crate::privacy::register_extract::open_for(&state, &current).await?
    } else {
        Vec::new()
    };
    let access_reviews = if current.user.role == Role::Manager {
        crate::participants::access_review::open_for(&state, &current)
            .await?
            .into_iter()
            .map(|(unit, name, month)| {
                let link = format!("/access-review/{unit}/{}", month.format("%Y-%m"));
                (link, name, crate::participants::access_review::month_name(month))
            })
            .collect()
    } else {
        Vec::new()
    };
    let urgent_contacts = if current.user.role == Role::Manager {
        crate::partners::unreviewed(&state.db, &current.user.unit_ids).await?
    } else {
        0
    };
    let page = TodoPage {
        urgent_contacts,
        access_reviews,
        extracts,
        layout: Layout::new(&current.ctx, "todo"),
        drafts,
        draft_days: state.config.draft_days,
        mine,
        unit,
        queue_length,
        incomplete,
        today: state.clock.today(),
        under_plan,
        last_week: crate::attendance::hours::week_code(monday),
    };
    Ok(Html(page.render()?).into_response())
}
