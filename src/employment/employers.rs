//! Work with employers, per unit: forumträffar with the employers present,
//! and employer contacts per staff member, counted per week (IPS: at least
//! six a week per employment specialist).

use super::EmployerContactKind;
use super::store::{self, NewEmployerContact, NewForum};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::AppResult;
use crate::ids::{EmployerId, UnitId};
use crate::participants::UnitChoice;
use crate::plans::employers::{EmployerChoiceRow, choices};
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::{FieldErrors, FormData, Query, optional_text, required_date, required_text};
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/employers/forums", get(forums).post(add_forum))
        .route("/employers/contacts", get(contacts).post(add_contact))
}

/// IPS: employer contacts per employment specialist and week (`domain::ips`).
pub const CONTACTS_PER_WEEK: i64 = crate::domain::ips::EMPLOYER_CONTACTS_PER_WEEK as i64;

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    unit: String,
    week: String,
}

/// The Monday of the week a day falls in.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

// --- Forumträffar ------------------------------------------------------------

pub struct ForumRow {
    pub held_on: NaiveDate,
    pub topic: String,
    pub notes: String,
    pub employers: Vec<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ForumForm {
    pub unit_id: String,
    pub held_on: String,
    pub topic: String,
    pub notes: String,
    pub employers: Vec<String>,
}

impl ForumForm {
    pub fn has(&self, id: &EmployerId) -> bool {
        self.employers.iter().any(|e| *e == id.to_string())
    }
}

#[derive(Template)]
#[template(path = "employment/forums.html")]
struct ForumsPage {
    layout: Layout,
    unit_id: UnitId,
    units: Vec<UnitChoice>,
    rows: Vec<ForumRow>,
    employers: Vec<EmployerChoiceRow>,
    form: ForumForm,
    errors: FieldErrors,
}

async fn render_forums(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    form: ForumForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let rows = sqlx::query_as!(
        ForumRow,
        r#"SELECT f.held_on, f.topic, f.notes,
                  ARRAY(SELECT e.name FROM employer_forum_attendees a JOIN employers e ON e.id = a.employer_id
                        WHERE a.forum_id = f.id ORDER BY lower(e.name)) AS "employers!"
           FROM employer_forums f WHERE f.unit_id = $1 ORDER BY f.held_on DESC, f.id DESC LIMIT 100"#,
        unit_id as _
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ForumsPage {
        layout: Layout::new(&current.ctx, "employers"),
        unit_id,
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        rows,
        employers: choices(&state.db).await?,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn forums(State(state): State<AppState>, current: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&q.unit)?;
    let form = ForumForm {
        unit_id: unit_id.to_string(),
        held_on: state.clock.today().to_string(),
        ..ForumForm::default()
    };
    render_forums(&state, &current, unit_id, form, FieldErrors::default()).await
}

async fn add_forum(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ForumForm>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&form.unit_id)?;
    let mut errors = FieldErrors::default();
    let on = required_date(&form.held_on).map_err(|m| errors.add("held_on", m)).ok();
    if on.is_some_and(|d| d > state.clock.today()) {
        errors.add("held_on", "Datumet kan inte ligga i framtiden.");
    }
    let topic = required_text(&form.topic, "vad träffen handlade om", 200)
        .map_err(|m| errors.add("topic", m))
        .ok();
    let notes = optional_text(&form.notes, 4000).map_err(|m| errors.add("notes", m)).ok();
    let registered: Vec<EmployerId> = choices(&state.db).await?.into_iter().map(|e| e.id).collect();
    let employers: Vec<EmployerId> = form
        .employers
        .iter()
        .filter_map(|e| e.parse().ok())
        .filter(|e| registered.contains(e))
        .collect();
    if employers.is_empty() || employers.len() != form.employers.len() {
        errors.add("employers", "Kryssa i vilka arbetsgivare som var med (minst en, ur registret).");
    }
    let (Some(on), Some(topic), Some(notes), true) = (on, topic, notes, errors.is_empty()) else {
        return render_forums(&state, &current, unit_id, form, errors).await;
    };
    let new = NewForum {
        unit: unit_id,
        on,
        topic,
        notes,
        employers,
    };
    store::add_forum(&state.db, &new, current.stamp(state.clock.now())).await?;
    current.flash("Forumträffen är registrerad.");
    Ok(Redirect::to(&format!("/employers/forums?unit={unit_id}")).into_response())
}

// --- Employer contacts ---------------------------------------------------------

pub struct ContactRow {
    pub contact_on: NaiveDate,
    pub staff: String,
    pub employer: String,
    pub kind: String,
    pub note: String,
}

impl ContactRow {
    pub fn kind_label(&self) -> &'static str {
        EmployerContactKind::label_of(&self.kind)
    }
}

pub struct WeekCount {
    pub staff: String,
    pub contacts: i64,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ContactForm {
    pub unit_id: String,
    pub contact_on: String,
    pub staff_id: String,
    pub employer_id: String,
    pub kind: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "employment/contacts.html")]
struct ContactsPage {
    layout: Layout,
    unit_id: UnitId,
    units: Vec<UnitChoice>,
    monday: NaiveDate,
    week: Vec<WeekCount>,
    rows: Vec<ContactRow>,
    staff: Vec<StaffChoice>,
    employers: Vec<EmployerChoiceRow>,
    form: ContactForm,
    errors: FieldErrors,
}

impl ContactsPage {
    fn kinds(&self) -> &'static [EmployerContactKind] {
        EmployerContactKind::ALL
    }
    fn target(&self) -> i64 {
        CONTACTS_PER_WEEK
    }
    fn previous(&self) -> NaiveDate {
        self.monday - Duration::days(7)
    }
    fn next(&self) -> NaiveDate {
        self.monday + Duration::days(7)
    }
    fn sunday(&self) -> NaiveDate {
        self.monday + Duration::days(6)
    }
}

async fn render_contacts(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    monday: NaiveDate,
    form: ContactForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let sunday = monday + Duration::days(6);
    let week = sqlx::query_as!(
        WeekCount,
        r#"SELECT u.name AS staff, count(*) AS "contacts!" FROM employer_contacts c JOIN users u ON u.id = c.staff_id
           WHERE c.unit_id = $1 AND c.contact_on BETWEEN $2 AND $3 GROUP BY u.id, u.name ORDER BY u.name"#,
        unit_id as _,
        monday,
        sunday
    )
    .fetch_all(&state.db)
    .await?;
    let rows = sqlx::query_as!(
        ContactRow,
        r#"SELECT c.contact_on, u.name AS staff, e.name AS employer, c.kind, c.note
           FROM employer_contacts c JOIN users u ON u.id = c.staff_id JOIN employers e ON e.id = c.employer_id
           WHERE c.unit_id = $1 AND c.contact_on BETWEEN $2 AND $3 ORDER BY c.contact_on DESC, c.id DESC"#,
        unit_id as _,
        monday,
        sunday
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ContactsPage {
        layout: Layout::new(&current.ctx, "employers"),
        unit_id,
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        monday,
        week,
        rows,
        staff: crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?,
        employers: choices(&state.db).await?,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn contacts(State(state): State<AppState>, current: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&q.unit)?;
    let today = state.clock.today();
    let asked = q.week.parse::<NaiveDate>().ok().filter(|d| (2000..=2100).contains(&d.year()));
    let monday = monday_of(asked.unwrap_or(today));
    let form = ContactForm {
        unit_id: unit_id.to_string(),
        contact_on: today.to_string(),
        staff_id: current.user.id.to_string(),
        ..ContactForm::default()
    };
    render_contacts(&state, &current, unit_id, monday, form, FieldErrors::default()).await
}

async fn add_contact(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ContactForm>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&form.unit_id)?;
    let today = state.clock.today();
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let employers = choices(&state.db).await?;
    let mut errors = FieldErrors::default();
    let on = required_date(&form.contact_on).map_err(|m| errors.add("contact_on", m)).ok();
    if on.is_some_and(|d| d > today) {
        errors.add("contact_on", "Datumet kan inte ligga i framtiden.");
    }
    let by = crate::users::queries::chosen_staff(&staff, &form.staff_id);
    if by.is_none() {
        errors.add("staff_id", "Välj vem i personalen som hade kontakten.");
    }
    let employer: Option<EmployerId> = form.employer_id.parse().ok().filter(|id| employers.iter().any(|e| e.id == *id));
    if employer.is_none() {
        errors.add("employer_id", "Välj arbetsgivaren i registret.");
    }
    let kind = EmployerContactKind::parse(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Välj hur kontakten togs.");
    }
    let note = optional_text(&form.note, 1000).map_err(|m| errors.add("note", m)).ok();
    let (Some(on), Some(staff), Some(employer), Some(kind), Some(note), true) = (on, by, employer, kind, note, errors.is_empty()) else {
        return render_contacts(&state, &current, unit_id, monday_of(today), form, errors).await;
    };
    let new = NewEmployerContact {
        unit: unit_id,
        staff,
        employer,
        on,
        kind: kind.code(),
        note,
    };
    store::add_employer_contact(&state.db, &new, current.stamp(state.clock.now())).await?;
    current.flash("Arbetsgivarkontakten är registrerad.");
    Ok(Redirect::to(&format!("/employers/contacts?unit={unit_id}&week={}", monday_of(on))).into_response())
}
