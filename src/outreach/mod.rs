//! The way in (issue 19, point 1): uppsökande verksamhet (outreach contacts
//! with people not registered, the priority group with boendestöd marked),
//! informationsträffar and studiebesök with counts of who came, and
//! intresseanmälningar with the waiting time to a first visit. A person is
//! registered from an intake on the registration form, which keeps the
//! intake's first contact (`participants::store::register`). All three belong
//! to a unit, not to a participant.

pub mod intakes;
pub mod model;
pub mod store;

use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::AppResult;
use crate::ids::UnitId;
use crate::participants::UnitChoice;
use crate::participants::model::Gender;
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::{FieldErrors, FormData, Query, optional_text, required_date, required_text, yes_no};
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use model::{MeetingKind, OutreachOutcome, OutreachPlace};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/outreach", get(contacts).post(add_contact))
        .route("/outreach/meetings", get(meetings).post(add_meeting))
        .merge(intakes::routes())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UnitQuery {
    pub unit: String,
}

/// What every page of the way in shows at its top: the unit, and the choice of another.
pub struct Unit {
    pub id: UnitId,
    pub choices: Vec<UnitChoice>,
}

impl Unit {
    pub async fn of(state: &AppState, current: &CurrentUser, asked: &str) -> AppResult<Unit> {
        let id = current.chosen_unit(asked)?;
        Ok(Unit {
            id,
            choices: crate::participants::unit_choices(&state.db, current.user.id).await?,
        })
    }
    pub fn name(&self) -> &str {
        self.choices.iter().find(|u| u.id == self.id).map_or("", |u| u.name.as_str())
    }
}

fn not_ahead(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    if day > today {
        Err("Datumet kan inte ligga i framtiden.")
    } else {
        Ok(day)
    }
}

// --- Uppsökande verksamhet -------------------------------------------------

pub struct ContactRow {
    pub contact_on: NaiveDate,
    pub person: String,
    pub gender: String,
    pub home_support: bool,
    pub place: String,
    pub place_note: String,
    pub staff: String,
    pub outcome: String,
    pub note: String,
}

/// This year's count by gender, and how many were in the priority group.
pub struct YearCount {
    pub women: i64,
    pub men: i64,
    pub other: i64,
    pub priority: i64,
}

impl YearCount {
    pub fn total(&self) -> i64 {
        self.women + self.men + self.other
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ContactForm {
    pub unit_id: String,
    pub contact_on: String,
    pub person: String,
    pub gender: String,
    pub home_support: String,
    pub place: String,
    pub place_note: String,
    pub staff_id: String,
    pub outcome: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "outreach/contacts.html")]
struct ContactsPage {
    layout: Layout,
    unit: Unit,
    year: i32,
    count: YearCount,
    rows: Vec<ContactRow>,
    staff: Vec<StaffChoice>,
    form: ContactForm,
    errors: FieldErrors,
}

impl ContactsPage {
    fn genders(&self) -> &'static [Gender] {
        Gender::ALL
    }
    fn places(&self) -> &'static [OutreachPlace] {
        OutreachPlace::ALL
    }
    fn outcomes(&self) -> &'static [OutreachOutcome] {
        OutreachOutcome::ALL
    }
}

async fn render_contacts(
    state: &AppState,
    current: &CurrentUser,
    unit: Unit,
    form: ContactForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    use chrono::Datelike;
    let year = state.clock.today().year();
    let (from, to) = year_span(year);
    let count = sqlx::query_as!(
        YearCount,
        r#"SELECT count(*) FILTER (WHERE gender = 'woman') AS "women!", count(*) FILTER (WHERE gender = 'man') AS "men!",
                  count(*) FILTER (WHERE gender = 'other_or_unstated') AS "other!", count(*) FILTER (WHERE home_support) AS "priority!"
           FROM outreach_contacts WHERE unit_id = $1 AND contact_on BETWEEN $2 AND $3"#,
        unit.id as _,
        from,
        to
    )
    .fetch_one(&state.db)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT o.contact_on, o.person, o.gender, o.home_support, o.place, o.place_note, u.name AS staff, o.outcome, o.note
           FROM outreach_contacts o JOIN users u ON u.id = o.staff_id
           WHERE o.unit_id = $1 ORDER BY o.contact_on DESC, o.id DESC LIMIT 100"#,
        unit.id as _
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| ContactRow {
        contact_on: r.contact_on,
        person: r.person,
        gender: Gender::label_of(&r.gender).into(),
        home_support: r.home_support,
        place: OutreachPlace::label_of(&r.place).into(),
        place_note: r.place_note,
        staff: r.staff,
        outcome: OutreachOutcome::label_of(&r.outcome).into(),
        note: r.note,
    })
    .collect();
    let refused = !errors.is_empty();
    let page = ContactsPage {
        layout: Layout::new(&current.ctx, "intakes"),
        staff: crate::users::queries::staff_of_units(&state.db, &[unit.id]).await?,
        unit,
        year,
        count,
        rows,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

/// The first and last day of a calendar year.
pub fn year_span(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    )
}

async fn contacts(State(state): State<AppState>, current: CurrentUser, Query(q): Query<UnitQuery>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &q.unit).await?;
    let form = ContactForm {
        unit_id: unit.id.to_string(),
        contact_on: state.clock.today().to_string(),
        staff_id: current.user.id.to_string(),
        ..ContactForm::default()
    };
    render_contacts(&state, &current, unit, form, FieldErrors::default()).await
}

async fn add_contact(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ContactForm>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &form.unit_id).await?;
    let today = state.clock.today();
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit.id]).await?;
    let mut errors = FieldErrors::default();
    let on = required_date(&form.contact_on)
        .and_then(|d| not_ahead(d, today))
        .map_err(|m| errors.add("contact_on", m))
        .ok();
    let person = required_text(&form.person, "vem kontakten var med (t.ex. initialer och ålder)", 200)
        .map_err(|m| errors.add("person", m))
        .ok();
    let gender = Gender::parse(&form.gender);
    if gender.is_none() {
        errors.add("gender", "Välj kön för statistiken (eller Annat eller ej angivet).");
    }
    let home_support = yes_no(&form.home_support);
    if home_support.is_none() {
        errors.add("home_support", "Svara ja eller nej: har personen boendestöd?");
    }
    let place = OutreachPlace::parse(&form.place);
    if place.is_none() {
        errors.add("place", "Välj var kontakten togs.");
    }
    let place_note = optional_text(&form.place_note, 200).map_err(|m| errors.add("place_note", m)).ok();
    let by = crate::users::queries::chosen_staff(&staff, &form.staff_id);
    if by.is_none() {
        errors.add("staff_id", "Välj vem i personalen som tog kontakten.");
    }
    let outcome = OutreachOutcome::parse(&form.outcome);
    if outcome.is_none() {
        errors.add("outcome", "Välj vad kontakten ledde till.");
    }
    let note = optional_text(&form.note, 2000).map_err(|m| errors.add("note", m)).ok();
    let (Some(on), Some(person), Some(gender), Some(home_support), Some(place), Some(place_note), Some(staff), Some(outcome), Some(note)) =
        (on, person, gender, home_support, place, place_note, by, outcome, note)
    else {
        return render_contacts(&state, &current, unit, form, errors).await;
    };
    let new = store::NewContact {
        unit: unit.id,
        on,
        person,
        gender,
        home_support,
        place,
        place_note,
        staff,
        outcome,
        note,
    };
    store::add_contact(&state.db, &new, current.stamp(state.clock.now())).await?;
    current.flash("Kontakten är registrerad.");
    Ok(Redirect::to(&format!("/outreach?unit={}", unit.id)).into_response())
}

// --- Informationsträffar och studiebesök -----------------------------------

pub struct MeetingRow {
    pub held_on: NaiveDate,
    pub kind: String,
    pub topic: String,
    pub women: i32,
    pub men: i32,
    pub other: i32,
    pub led_by: String,
}

impl MeetingRow {
    pub fn total(&self) -> i32 {
        self.women + self.men + self.other
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct MeetingForm {
    pub unit_id: String,
    pub held_on: String,
    pub kind: String,
    pub topic: String,
    pub women: String,
    pub men: String,
    pub other: String,
    pub led_by: String,
}

#[derive(Template)]
#[template(path = "outreach/meetings.html")]
struct MeetingsPage {
    layout: Layout,
    unit: Unit,
    rows: Vec<MeetingRow>,
    staff: Vec<StaffChoice>,
    form: MeetingForm,
    errors: FieldErrors,
}

impl MeetingsPage {
    fn kinds(&self) -> &'static [MeetingKind] {
        MeetingKind::ALL
    }
}

async fn render_meetings(
    state: &AppState,
    current: &CurrentUser,
    unit: Unit,
    form: MeetingForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let rows = sqlx::query!(
        r#"SELECT m.held_on, m.kind, m.topic, m.attendees_women, m.attendees_men, m.attendees_other, u.name AS led_by
           FROM information_meetings m JOIN users u ON u.id = m.led_by
           WHERE m.unit_id = $1 ORDER BY m.held_on DESC, m.id DESC LIMIT 100"#,
        unit.id as _
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| MeetingRow {
        held_on: r.held_on,
        kind: MeetingKind::label_of(&r.kind).into(),
        topic: r.topic,
        women: r.attendees_women,
        men: r.attendees_men,
        other: r.attendees_other,
        led_by: r.led_by,
    })
    .collect();
    let refused = !errors.is_empty();
    let page = MeetingsPage {
        layout: Layout::new(&current.ctx, "intakes"),
        staff: crate::users::queries::staff_of_units(&state.db, &[unit.id]).await?,
        unit,
        rows,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn meetings(State(state): State<AppState>, current: CurrentUser, Query(q): Query<UnitQuery>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &q.unit).await?;
    let form = MeetingForm {
        unit_id: unit.id.to_string(),
        held_on: state.clock.today().to_string(),
        led_by: current.user.id.to_string(),
        women: "0".into(),
        men: "0".into(),
        other: "0".into(),
        ..MeetingForm::default()
    };
    render_meetings(&state, &current, unit, form, FieldErrors::default()).await
}

/// A count of people typed in a form: a whole number from 0.
fn head_count(value: &str) -> Result<i32, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse::<i32>()
        .ok()
        .filter(|n| (0..=10000).contains(n))
        .ok_or("Skriv antalet som ett heltal, 0 eller mer.")
}

async fn add_meeting(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<MeetingForm>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &form.unit_id).await?;
    let today = state.clock.today();
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit.id]).await?;
    let mut errors = FieldErrors::default();
    let on = required_date(&form.held_on)
        .and_then(|d| not_ahead(d, today))
        .map_err(|m| errors.add("held_on", m))
        .ok();
    let kind = MeetingKind::parse(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Välj informationsträff eller studiebesök.");
    }
    let topic = required_text(&form.topic, "vad träffen handlade om eller vilka som kom", 200)
        .map_err(|m| errors.add("topic", m))
        .ok();
    let women = head_count(&form.women).map_err(|m| errors.add("women", m)).ok();
    let men = head_count(&form.men).map_err(|m| errors.add("men", m)).ok();
    let other = head_count(&form.other).map_err(|m| errors.add("other", m)).ok();
    if let (Some(0), Some(0), Some(0)) = (women, men, other) {
        errors.add("women", "Skriv hur många som kom (minst en).");
    }
    let led_by = crate::users::queries::chosen_staff(&staff, &form.led_by);
    if led_by.is_none() {
        errors.add("led_by", "Välj vem i personalen som höll i träffen.");
    }
    let (Some(on), Some(kind), Some(topic), Some(women), Some(men), Some(other), Some(led_by), true) =
        (on, kind, topic, women, men, other, led_by, errors.is_empty())
    else {
        return render_meetings(&state, &current, unit, form, errors).await;
    };
    let new = store::NewMeeting {
        unit: unit.id,
        on,
        kind,
        topic,
        women,
        men,
        other,
        led_by,
    };
    store::add_meeting(&state.db, &new, current.stamp(state.clock.now())).await?;
    current.flash(&format!("{} är registrerad.", kind.label()));
    Ok(Redirect::to(&format!("/outreach/meetings?unit={}", unit.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_counts_are_whole_numbers_from_nought() {
        assert_eq!(head_count(""), Ok(0));
        assert_eq!(head_count(" 12 "), Ok(12));
        assert!(head_count("-1").is_err());
        assert!(head_count("2,5").is_err());
        assert!(head_count("10001").is_err());
    }
}
