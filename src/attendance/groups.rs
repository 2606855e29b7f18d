//! Gruppaktiviteter: social activities, Yngre Lotsen (ages 18–35 only), the
//! courses of the work-approaching programme, information meetings and study
//! visits — scheduled with leaders, time and place, and who took part.

use super::{chosen_unit, is_young_adult, stockholm, time_of_day};
use crate::audit;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::participants::access::{self, Action};
use crate::state::AppState;
use crate::web::context::Layout;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

coded!(
    ActivityKind {
        Social = "social" => "Social aktivitet",
        YoungAdults = "young_adults" => "Yngre Lotsen (18–35 år)",
        CourseLabourMarket = "course_labour_market" => "Kurs: arbetsmarknadskunskap",
        CourseLifeSkills = "course_life_skills" => "Kurs: livskunskap",
        CourseSelfStrengthening = "course_self_strengthening" => "Kurs: självstärkande",
        InformationMeeting = "information_meeting" => "Informationsträff",
        StudyVisit = "study_visit" => "Studiebesök",
    }
);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/activities", get(list).post(create))
        .route("/activities/{id}", get(show))
        .route("/activities/{id}/attendance", post(add_attendance))
        .route("/activities/{id}/attendance/remove", post(remove_attendance))
}

pub struct ActivityRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub leaders: Vec<String>,
    pub attendees: i64,
}

impl ActivityRow {
    pub fn kind_label(&self) -> &'static str {
        ActivityKind::label_of(&self.kind)
    }
    pub fn when(&self) -> String {
        crate::web::format::time_span(self.starts_at, self.ends_at)
    }
    pub fn day(&self) -> NaiveDate {
        self.starts_at.with_timezone(&chrono_tz::Europe::Stockholm).date_naive()
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ActivityForm {
    pub unit_id: String,
    pub kind: String,
    pub title: String,
    pub day: String,
    pub from: String,
    pub to: String,
    pub place: String,
    pub leaders: Vec<String>,
    /// Attendance: a name to search for, or the person to add.
    pub q: String,
    pub participant_id: String,
}

impl ActivityForm {
    pub fn leader_checked(&self, id: &i64) -> bool {
        self.leaders.iter().any(|l| l == &id.to_string())
    }
}

#[derive(Template)]
#[template(path = "attendance/activities.html")]
struct ListPage {
    layout: Layout,
    unit_id: i64,
    activities: Vec<ActivityRow>,
    staff: Vec<crate::participants::queries::StaffChoice>,
    kinds: &'static [ActivityKind],
    form: ActivityForm,
    errors: FieldErrors,
}

async fn activities(db: &sqlx::PgPool, unit_id: i64, since: DateTime<Utc>) -> Result<Vec<ActivityRow>, sqlx::Error> {
    sqlx::query_as!(
        ActivityRow,
        r#"SELECT a.id, a.kind, a.title, a.starts_at, a.ends_at, a.place,
                  coalesce(array(SELECT u.name FROM group_activity_leaders l JOIN users u ON u.id = l.user_id
                                 WHERE l.activity_id = a.id ORDER BY u.name), '{}') AS "leaders!",
                  (SELECT count(*) FROM group_activity_attendance t WHERE t.activity_id = a.id) AS "attendees!"
           FROM group_activities a WHERE a.unit_id = $1 AND a.ends_at >= $2
           ORDER BY a.starts_at LIMIT 200"#,
        unit_id,
        since
    )
    .fetch_all(db)
    .await
}

async fn render_list(
    state: &AppState,
    current: &CurrentUser,
    unit_id: i64,
    form: ActivityForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ListPage {
        layout: Layout::new(&current.ctx, "activities"),
        unit_id,
        activities: activities(&state.db, unit_id, state.clock.now() - chrono::Duration::days(30)).await?,
        staff: crate::participants::queries::staff_of_units(&state.db, &[unit_id]).await?,
        kinds: ActivityKind::ALL,
        form,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UnitQuery {
    unit: String,
}

async fn list(State(state): State<AppState>, current: CurrentUser, Query(query): Query<UnitQuery>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &query.unit)?;
    let form = ActivityForm {
        unit_id: unit_id.to_string(),
        day: state.clock.today().to_string(),
        from: "13:00".into(),
        to: "15:00".into(),
        leaders: vec![current.user.id.to_string()],
        ..ActivityForm::default()
    };
    render_list(&state, &current, unit_id, form, FieldErrors::default()).await
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ActivityForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let mut errors = FieldErrors::default();
    let kind = ActivityKind::parse(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Välj typ av aktivitet.");
    }
    let title = required_text(&form.title, "en rubrik", 200)
        .map_err(|m| errors.add("title", m))
        .ok();
    let day = required_date(&form.day).map_err(|m| errors.add("day", m)).ok();
    let from = time_of_day(&form.from).map_err(|m| errors.add("from", m)).ok();
    let to = time_of_day(&form.to).map_err(|m| errors.add("to", m)).ok();
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        errors.add("to", "Sluttiden måste vara efter starttiden.");
    }
    let place = optional_text(&form.place, 200).map_err(|m| errors.add("place", m)).ok();
    let staff = crate::participants::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let leaders: Vec<i64> = form.leaders.iter().filter_map(|l| l.parse::<i64>().ok()).collect();
    if leaders.is_empty() || leaders.iter().any(|l| !staff.iter().any(|s| s.id == *l)) {
        errors.add("leaders", "Välj minst en ledare bland enhetens medarbetare.");
    }
    let times = match (day, from, to) {
        (Some(d), Some(f), Some(t)) => stockholm(d, f).zip(stockholm(d, t)),
        _ => None,
    };
    let (Some(kind), Some(title), Some((starts_at, ends_at)), Some(place), true) = (kind, title, times, place, errors.is_empty()) else {
        return render_list(&state, &current, unit_id, form, errors).await;
    };
    let mut tx = state.db.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO group_activities (unit_id, kind, title, starts_at, ends_at, place, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        unit_id,
        kind.code(),
        title,
        starts_at,
        ends_at,
        place,
        current.user.id,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO group_activity_leaders (activity_id, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
        id,
        &leaders
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "group_activity_created")
        .record("group_activity", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    current.flash(&state.db, "Aktiviteten är schemalagd.").await?;
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

pub struct Attendee {
    pub participant_id: i64,
    pub name: String,
}

pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub birth_date: NaiveDate,
}

#[derive(Template)]
#[template(path = "attendance/activity.html")]
struct ShowPage {
    layout: Layout,
    a: ActivityRow,
    attendees: Vec<Attendee>,
    candidates: Option<Vec<Candidate>>,
    form: ActivityForm,
    errors: FieldErrors,
}

impl ShowPage {
    fn age(&self, c: &Candidate) -> i32 {
        crate::participants::identity::age_on(c.birth_date, self.a.day())
    }
}

/// The activity, if it belongs to one of the user's units; and its unit.
async fn load(state: &AppState, current: &CurrentUser, id: i64) -> AppResult<(ActivityRow, i64)> {
    let unit_id = sqlx::query_scalar!("SELECT unit_id FROM group_activities WHERE id = $1", id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !current.user.unit_ids.contains(&unit_id) {
        return Err(AppError::Forbidden);
    }
    let row = sqlx::query_as!(
        ActivityRow,
        r#"SELECT a.id, a.kind, a.title, a.starts_at, a.ends_at, a.place,
                  coalesce(array(SELECT u.name FROM group_activity_leaders l JOIN users u ON u.id = l.user_id
                                 WHERE l.activity_id = a.id ORDER BY u.name), '{}') AS "leaders!",
                  (SELECT count(*) FROM group_activity_attendance t WHERE t.activity_id = a.id) AS "attendees!"
           FROM group_activities a WHERE a.id = $1"#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    Ok((row, unit_id))
}

async fn render_show(
    state: &AppState,
    current: &CurrentUser,
    a: ActivityRow,
    form: ActivityForm,
    candidates: Option<Vec<Candidate>>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let attendees = sqlx::query_as!(
        Attendee,
        r#"SELECT t.participant_id, p.first_name || ' ' || p.last_name AS "name!"
           FROM group_activity_attendance t JOIN participants p ON p.id = t.participant_id
           WHERE t.activity_id = $1 ORDER BY p.first_name, p.last_name"#,
        a.id
    )
    .fetch_all(&state.db)
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "activities"),
        a,
        attendees,
        candidates,
        form,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn show(State(state): State<AppState>, current: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let (a, _) = load(&state, &current, id).await?;
    render_show(&state, &current, a, ActivityForm::default(), None, FieldErrors::default()).await
}

/// Adds a participant to the attendance: by `participant_id`, or by a name
/// search (`q`) that lists the matches with a button each.
async fn add_attendance(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (a, unit_id) = load(&state, &current, id).await?;
    let mut errors = FieldErrors::default();
    let Ok(participant_id) = form.participant_id.parse::<i64>() else {
        // A search: list the unit's people whose first or last name starts so.
        let q = form.q.trim().to_lowercase().replace(['\\', '%', '_'], "");
        if q.chars().count() < 2 {
            errors.add("q", "Skriv minst två bokstäver av namnet.");
            return render_show(&state, &current, a, form, None, errors).await;
        }
        let pattern = format!("{q}%");
        let candidates = sqlx::query_as!(
            Candidate,
            r#"SELECT id, first_name || ' ' || last_name AS "name!", birth_date FROM participants
               WHERE unit_id = $1 AND status <> 'ended' AND (lower(first_name) LIKE $2 OR lower(last_name) LIKE $2)
               ORDER BY first_name, last_name LIMIT 12"#,
            unit_id,
            pattern
        )
        .fetch_all(&state.db)
        .await?;
        access::log(
            &state.db,
            &current.user,
            &candidates.iter().map(|c| c.id).collect::<Vec<_>>(),
            Action::Search,
            now,
        )
        .await?;
        if candidates.is_empty() {
            errors.add("q", "Ingen deltagare på enheten matchar.");
        }
        return render_show(&state, &current, a, form, Some(candidates), errors).await;
    };
    let participant_unit = access::authorize(&state.db, &current.user, participant_id, now).await?;
    if participant_unit != unit_id {
        return Err(AppError::Forbidden);
    }
    let person = sqlx::query!(
        r#"SELECT first_name || ' ' || last_name AS "name!", birth_date FROM participants WHERE id = $1"#,
        participant_id
    )
    .fetch_one(&state.db)
    .await?;
    if a.kind == ActivityKind::YoungAdults.code() && !is_young_adult(person.birth_date, a.day()) {
        let age = crate::participants::identity::age_on(person.birth_date, a.day());
        errors.add("q", format!("Yngre Lotsen är för personer 18–35 år. {} är {age} år.", person.name));
        return render_show(&state, &current, a, form, None, errors).await;
    }
    sqlx::query!(
        "INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        id,
        participant_id,
        current.user.id,
        now
    )
    .execute(&state.db)
    .await?;
    current.flash(&state.db, &format!("{} är med på aktiviteten.", person.name)).await?;
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

async fn remove_attendance(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    load(&state, &current, id).await?;
    let participant_id = form
        .participant_id
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("no participant"))?;
    let mut tx = state.db.begin().await?;
    let removed = sqlx::query!(
        "DELETE FROM group_activity_attendance WHERE activity_id = $1 AND participant_id = $2",
        id,
        participant_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed > 0 {
        audit::Entry::new(Some(current.user.id), "group_attendance_removed")
            .record("group_activity", id)
            .write(&mut *tx, now)
            .await?;
    }
    tx.commit().await?;
    current.flash(&state.db, "Deltagaren är borttagen från närvaron.").await?;
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}
