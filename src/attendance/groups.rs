//! Gruppaktiviteter: social activities, Yngre Lotsen (ages 18–35 only), the
//! courses of the work-approaching programme, information meetings and study
//! visits — scheduled with leaders, time and place, and who took part. A
//! scheduled activity can be changed (a version number keeps two people's
//! changes from overwriting each other) or called off, kept and audited.

use super::store;
use super::{chosen_unit, stockholm, time_of_day};
use crate::access::{self, Action, Authorized};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::db::{Refused, Updated};
use crate::domain::ages::is_young_adult;
use crate::error::{AppError, AppResult};
use crate::ids::{GroupActivityId, ParticipantId, UnitId, UserId};
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::format::clock_time;
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
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

stored_as_code!(ActivityKind);

pub fn routes() -> Routes {
    Routes::new()
        .route("/activities", get(list).post(create))
        .route("/activities/{id}", get(show))
        .route("/activities/{id}/edit", get(edit_form).post(update))
        .route("/activities/{id}/cancel", post(cancel))
        .route("/activities/{id}/attendance", post(add_attendance))
        .route("/activities/{id}/attendance/remove", post(remove_attendance))
}

pub struct ActivityRow {
    pub id: GroupActivityId,
    pub kind: ActivityKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub leaders: Vec<String>,
    pub attendees: i64,
    pub version: i32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: String,
}

impl ActivityRow {
    pub fn kind_label(&self) -> &'static str {
        self.kind.label()
    }
    pub fn when(&self) -> String {
        crate::web::format::time_span(self.starts_at, self.ends_at)
    }
    pub fn day(&self) -> NaiveDate {
        self.starts_at.with_timezone(&chrono_tz::Europe::Stockholm).date_naive()
    }
    pub fn cancelled_on(&self) -> Option<NaiveDate> {
        self.cancelled_at
            .map(|at| at.with_timezone(&chrono_tz::Europe::Stockholm).date_naive())
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
    /// The activity's version when the form was opened (change and call-off).
    pub version: String,
    /// Why the activity is called off.
    pub reason: String,
}

impl ActivityForm {
    pub fn leader_checked(&self, id: &UserId) -> bool {
        self.leaders.iter().any(|l| l == &id.to_string())
    }
}

#[derive(Template)]
#[template(path = "attendance/activities.html")]
struct ListPage {
    layout: Layout,
    unit_id: UnitId,
    activities: Vec<ActivityRow>,
    staff: Vec<crate::users::queries::StaffChoice>,
    kinds: &'static [ActivityKind],
    form: ActivityForm,
    errors: FieldErrors,
}

async fn activities(db: &sqlx::PgPool, unit_id: UnitId, since: DateTime<Utc>) -> Result<Vec<ActivityRow>, sqlx::Error> {
    sqlx::query_as!(
        ActivityRow,
        r#"SELECT a.id, a.kind AS "kind: ActivityKind", a.title, a.starts_at, a.ends_at, a.place,
                  coalesce(array(SELECT u.name FROM group_activity_leaders l JOIN users u ON u.id = l.user_id
                                 WHERE l.activity_id = a.id ORDER BY u.name), '{}') AS "leaders!",
                  (SELECT count(*) FROM group_activity_attendance t WHERE t.activity_id = a.id) AS "attendees!",
                  a.version, a.cancelled_at, (SELECT u.name FROM users u WHERE u.id = a.cancelled_by) AS "cancelled_by?",
                  a.cancel_reason
           FROM group_activities a WHERE a.unit_id = $1 AND a.ends_at >= $2
           ORDER BY a.starts_at LIMIT 200"#,
        unit_id as _,
        since
    )
    .fetch_all(db)
    .await
}

async fn render_list(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    form: ActivityForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let refused = !errors.is_empty();
    let page = ListPage {
        layout: Layout::new(&current.ctx, "activities"),
        unit_id,
        activities: activities(&state.db, unit_id, state.clock.now() - chrono::Duration::days(30)).await?,
        staff: crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?,
        kinds: ActivityKind::ALL,
        form,
        errors,
    };
    crate::web::page(&page, refused)
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

/// A scheduling form that passed the checks.
pub struct Schedule {
    pub kind: ActivityKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub leaders: Vec<UserId>,
}

/// Checks a form for scheduling or changing an activity in `unit_id`.
async fn checked(state: &AppState, unit_id: UnitId, form: &ActivityForm) -> AppResult<Result<Schedule, FieldErrors>> {
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
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let leaders: Vec<UserId> = form.leaders.iter().filter_map(|l| l.parse::<UserId>().ok()).collect();
    if leaders.is_empty() || leaders.iter().any(|l| !staff.iter().any(|s| s.id == *l)) {
        errors.add("leaders", "Välj minst en ledare bland enhetens medarbetare.");
    }
    let times = match (day, from, to) {
        (Some(d), Some(f), Some(t)) => {
            let times = stockholm(d, f).zip(stockholm(d, t));
            if times.is_none() {
                // The hour the clocks skip when summer time begins.
                errors.add("from", "Den tiden finns inte den dagen (klockan ställs fram). Välj en annan tid.");
            }
            times
        }
        _ => None,
    };
    Ok(match (kind, title, times, place, errors.is_empty()) {
        (Some(kind), Some(title), Some((starts_at, ends_at)), Some(place), true) => Ok(Schedule {
            kind,
            title,
            starts_at,
            ends_at,
            place,
            leaders,
        }),
        _ => Err(errors),
    })
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ActivityForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let s = match checked(&state, unit_id, &form).await? {
        Ok(s) => s,
        Err(errors) => return render_list(&state, &current, unit_id, form, errors).await,
    };
    let id = store::schedule_activity(&state.db, unit_id, &s, current.stamp(now)).await?;
    current.flash("Aktiviteten är schemalagd.");
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "attendance/activity_edit.html")]
struct EditPage {
    layout: Layout,
    a: ActivityRow,
    staff: Vec<crate::users::queries::StaffChoice>,
    kinds: &'static [ActivityKind],
    form: ActivityForm,
    errors: FieldErrors,
    /// Someone else changed the activity after this form was opened.
    conflict: Option<String>,
}

async fn render_edit(
    state: &AppState,
    current: &CurrentUser,
    (a, unit_id): (ActivityRow, UnitId),
    form: ActivityForm,
    errors: FieldErrors,
    conflict: Option<String>,
) -> AppResult<Response> {
    let status = if errors.is_empty() && conflict.is_none() {
        StatusCode::OK
    } else if conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        layout: Layout::new(&current.ctx, "activities"),
        a,
        staff: crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?,
        kinds: ActivityKind::ALL,
        form,
        errors,
        conflict,
    };
    crate::web::render(&page, status)
}

async fn edit_form(State(state): State<AppState>, auth: Authorized<GroupActivityId>) -> AppResult<Response> {
    let (current, id) = (&auth.current, auth.id);
    let (a, unit_id) = load(&state, &auth).await?;
    if a.cancelled_at.is_some() {
        return Ok(Redirect::to(&format!("/activities/{id}")).into_response());
    }
    let leaders = sqlx::query_scalar!(
        r#"SELECT user_id AS "user_id: UserId" FROM group_activity_leaders WHERE activity_id = $1"#,
        id as _
    )
    .fetch_all(&state.db)
    .await?;
    let form = ActivityForm {
        unit_id: unit_id.to_string(),
        kind: a.kind.code().into(),
        title: a.title.clone(),
        day: a.day().to_string(),
        from: clock_time(a.starts_at),
        to: clock_time(a.ends_at),
        place: a.place.clone(),
        leaders: leaders.iter().map(UserId::to_string).collect(),
        version: a.version.to_string(),
        ..ActivityForm::default()
    };
    render_edit(&state, current, (a, unit_id), form, FieldErrors::default(), None).await
}

async fn update(
    State(state): State<AppState>,
    auth: Authorized<GroupActivityId>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let (a, unit_id) = load(&state, &auth).await?;
    if a.cancelled_at.is_some() {
        current.flash("Aktiviteten är inställd och kan inte ändras.");
        return Ok(Redirect::to(&format!("/activities/{id}")).into_response());
    }
    let s = match checked(&state, unit_id, &form).await? {
        Ok(s) => s,
        Err(errors) => return render_edit(&state, current, (a, unit_id), form, errors, None).await,
    };
    let version = form.version.trim().parse::<i32>().unwrap_or(0);
    match store::change_activity(&state.db, auth.id, version, &s, current.stamp(now)).await? {
        Ok(Updated::Saved) => {}
        Ok(Updated::Conflict) => {
            let (a, unit_id) = load(&state, &auth).await?;
            let conflict = format!("{} Dina ändringar är inte sparade.", changed_since(&state.db, id).await?);
            return render_edit(&state, current, (a, unit_id), form, FieldErrors::default(), Some(conflict)).await;
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            return render_edit(&state, current, (a, unit_id), form, errors, None).await;
        }
    }
    current.flash("Ändringarna är sparade.");
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

/// Who changed the activity last, and when, for the conflict message.
async fn changed_since(db: &sqlx::PgPool, id: GroupActivityId) -> Result<String, sqlx::Error> {
    let last = sqlx::query!(
        r#"SELECT (SELECT u.name FROM users u WHERE u.id = coalesce(a.cancelled_by, a.updated_by)) AS "name?",
                  coalesce(a.cancelled_at, a.updated_at) AS "at?", a.cancelled_at IS NOT NULL AS "cancelled!"
           FROM group_activities a WHERE a.id = $1"#,
        id as _
    )
    .fetch_one(db)
    .await?;
    let who = last.name.unwrap_or_else(|| "Någon annan".into());
    let when = last.at.map(|at| format!(" kl. {}", clock_time(at))).unwrap_or_default();
    let what = if last.cancelled { "ställde in" } else { "ändrade" };
    Ok(format!("{who} {what} aktiviteten{when}, efter att du öppnade sidan."))
}

async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<GroupActivityId>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let (a, _) = load(&state, &auth).await?;
    if a.cancelled_at.is_some() {
        current.flash("Aktiviteten är redan inställd.");
        return Ok(Redirect::to(&format!("/activities/{id}")).into_response());
    }
    let reason = match optional_text(&form.reason, 500) {
        Ok(reason) => reason,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("reason", message);
            return render_show(&state, current, a, form, None, errors).await;
        }
    };
    let version = form.version.trim().parse::<i32>().unwrap_or(0);
    if !store::call_off(&state.db, auth.id, version, &reason, current.stamp(now)).await? {
        // Changed since the page was shown: show it as it is now before it is called off.
        let message = changed_since(&state.db, id).await?;
        current.flash(&format!("{message} Aktiviteten är inte inställd: se hur den ser ut nu."));
        return Ok(Redirect::to(&format!("/activities/{id}")).into_response());
    }
    current.flash("Aktiviteten är inställd.");
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

pub struct Attendee {
    pub participant_id: ParticipantId,
    pub name: String,
}

pub struct Candidate {
    pub id: ParticipantId,
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
    /// The version the call-off is for: the one the user saw first.
    fn version(&self) -> String {
        if self.form.version.is_empty() {
            self.a.version.to_string()
        } else {
            self.form.version.clone()
        }
    }
}

/// The activity the user may reach (proven by `Authorized`), and its unit.
async fn load(state: &AppState, auth: &Authorized<GroupActivityId>) -> AppResult<(ActivityRow, UnitId)> {
    let (id, unit_id) = (auth.id, auth.unit_id);
    let row = sqlx::query_as!(
        ActivityRow,
        r#"SELECT a.id, a.kind AS "kind: ActivityKind", a.title, a.starts_at, a.ends_at, a.place,
                  coalesce(array(SELECT u.name FROM group_activity_leaders l JOIN users u ON u.id = l.user_id
                                 WHERE l.activity_id = a.id ORDER BY u.name), '{}') AS "leaders!",
                  (SELECT count(*) FROM group_activity_attendance t WHERE t.activity_id = a.id) AS "attendees!",
                  a.version, a.cancelled_at, (SELECT u.name FROM users u WHERE u.id = a.cancelled_by) AS "cancelled_by?",
                  a.cancel_reason
           FROM group_activities a WHERE a.id = $1"#,
        id as _
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
        a.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "activities"),
        a,
        attendees,
        candidates,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, auth: Authorized<GroupActivityId>) -> AppResult<Response> {
    let (current, (a, _)) = (&auth.current, load(&state, &auth).await?);
    render_show(&state, current, a, ActivityForm::default(), None, FieldErrors::default()).await
}

/// Adds a participant to the attendance: by `participant_id`, or by a name
/// search (`q`) that lists the matches with a button each.
async fn add_attendance(
    State(state): State<AppState>,
    auth: Authorized<GroupActivityId>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let (a, unit_id) = load(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    if a.cancelled_at.is_some() {
        errors.add("q", store::CALLED_OFF);
        return render_show(&state, current, a, form, None, errors).await;
    }
    let Ok(participant_id) = form.participant_id.parse::<ParticipantId>() else {
        // A search: list the unit's people whose first or last name starts so.
        let q = form.q.trim().to_lowercase().replace(['\\', '%', '_'], "");
        if q.chars().count() < 2 {
            errors.add("q", "Skriv minst två bokstäver av namnet.");
            return render_show(&state, current, a, form, None, errors).await;
        }
        let pattern = format!("{q}%");
        let candidates = sqlx::query_as!(
            Candidate,
            r#"SELECT id, first_name || ' ' || last_name AS "name!", birth_date FROM participants
               WHERE unit_id = $1 AND status <> 'ended' AND (lower(first_name) LIKE $2 OR lower(last_name) LIKE $2)
                 -- Skyddade personuppgifter: found only by those named on the person.
                 AND (NOT protected_identity OR in_caseload($3, id))
               ORDER BY first_name, last_name LIMIT 12"#,
            unit_id as _,
            pattern,
            current.user.id as _
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
        return render_show(&state, current, a, form, Some(candidates), errors).await;
    };
    let participant_unit = Authorized::<ParticipantId>::check(&state, current, participant_id).await?.unit_id;
    if participant_unit != unit_id {
        return Err(AppError::Forbidden);
    }
    let person = sqlx::query!(
        r#"SELECT first_name || ' ' || last_name AS "name!", birth_date FROM participants WHERE id = $1"#,
        participant_id as _
    )
    .fetch_one(&state.db)
    .await?;
    if a.kind == ActivityKind::YoungAdults && !is_young_adult(person.birth_date, a.day()) {
        let age = crate::participants::identity::age_on(person.birth_date, a.day());
        errors.add("q", format!("Yngre Lotsen är för personer 18–35 år. {} är {age} år.", person.name));
        return render_show(&state, current, a, form, None, errors).await;
    }
    if let Err(Refused { field, message }) = store::add_attendance(&state.db, auth.id, participant_id, current.stamp(now)).await? {
        // Called off after the page was shown.
        errors.add(field, message);
        let (a, _) = load(&state, &auth).await?;
        return render_show(&state, current, a, form, None, errors).await;
    }
    current.flash(&format!("{} är med på aktiviteten.", person.name));
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}

async fn remove_attendance(
    State(state): State<AppState>,
    auth: Authorized<GroupActivityId>,
    FormData(form): FormData<ActivityForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    load(&state, &auth).await?;
    let participant_id = form
        .participant_id
        .parse::<ParticipantId>()
        .map_err(|_| AppError::BadRequest("no participant"))?;
    store::remove_attendance(&state.db, auth.id, participant_id, current.stamp(now)).await?;
    current.flash("Deltagaren är borttagen från närvaron.");
    Ok(Redirect::to(&format!("/activities/{id}")).into_response())
}
