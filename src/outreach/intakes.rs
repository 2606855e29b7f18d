//! Intresseanmälningar: who wants to come, from whom the word came, and how
//! long they have waited for a first visit (within ten days,
//! `domain::intake`). A waiting intake is registered as a participant from
//! the registration form (`/participants/new?intake=…`), or closed with a
//! reason.

use super::model::IntakeStatus;
use super::{Unit, UnitQuery, not_ahead, store};
use crate::access::Authorized;
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::domain::intake::{FIRST_VISIT_TARGET_DAYS, Wait};
use crate::error::AppResult;
use crate::ids::{IntakeId, ParticipantId, UnitId};
use crate::participants::model::{Gender, ReferralSource};
use crate::state::AppState;
use crate::web::form::yes_no;
use crate::web::form::{FieldErrors, FormData, Query, optional_phone, optional_text, required_date, required_text};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/intakes", get(list).post(create))
        .route("/intakes/{id}", get(show))
        .route("/intakes/{id}/first-visit", post(first_visit))
        .route("/intakes/{id}/close", post(close))
}

/// One intake as the list and its page show it.
pub struct IntakeRow {
    pub id: IntakeId,
    pub unit_id: UnitId,
    pub received_on: NaiveDate,
    pub source: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub gender: String,
    pub home_support: bool,
    pub note: String,
    pub status: IntakeStatus,
    pub participant_id: Option<ParticipantId>,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: String,
    /// The intake's own first visit, or else the registered participant's.
    pub first_visit_on: Option<NaiveDate>,
    pub wait: Wait,
}

impl IntakeRow {
    pub fn source_label(&self) -> &'static str {
        ReferralSource::label_of(&self.source)
    }
    pub fn gender_label(&self) -> &'static str {
        Gender::label_of(&self.gender)
    }
    pub fn is_open(&self) -> bool {
        self.status == IntakeStatus::Open
    }
    /// "12 dagar", with whether it is still running.
    pub fn wait_text(&self) -> String {
        match self.wait {
            Wait::Visited(days) => format!("{days} dagar"),
            Wait::Waiting(days) if self.status == IntakeStatus::Closed => format!("– ({days} dagar utan besök)"),
            Wait::Waiting(days) => format!("{days} dagar hittills"),
        }
    }
}

/// The intakes of a unit (`None`: every one, newest first) or one intake.
async fn load(state: &AppState, unit: UnitId, one: Option<IntakeId>) -> Result<Vec<IntakeRow>, sqlx::Error> {
    let today = state.clock.today();
    let rows = sqlx::query!(
        r#"SELECT i.id AS "id: IntakeId", i.unit_id AS "unit_id: UnitId", i.received_on, i.source, i.first_name, i.last_name, i.phone,
                  i.gender, i.home_support, i.note, i.status AS "status: IntakeStatus", i.participant_id AS "participant_id: ParticipantId",
                  i.closed_on, i.close_reason,
                  least(i.first_visit_on, p.first_visit_on,
                        (SELECT min(v.visit_on) FROM visits v WHERE v.participant_id = i.participant_id AND v.cancelled_at IS NULL)) AS first_visit_on
           FROM intakes i LEFT JOIN participants p ON p.id = i.participant_id
           WHERE i.unit_id = $1 AND ($2::bigint IS NULL OR i.id = $2)
             -- Registered: listed while the person is in this unit and not protected (their record says the rest).
             AND (i.participant_id IS NULL OR (p.unit_id = i.unit_id AND NOT p.protected_identity) OR $2::bigint IS NOT NULL)
           ORDER BY (i.status = 'open') DESC, i.received_on DESC, i.id DESC
           LIMIT 300"#,
        unit as _,
        one as _
    )
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IntakeRow {
            wait: Wait::of(r.received_on, r.first_visit_on, r.closed_on.unwrap_or(today)),
            id: r.id,
            unit_id: r.unit_id,
            received_on: r.received_on,
            source: r.source,
            first_name: r.first_name,
            last_name: r.last_name,
            phone: r.phone,
            gender: r.gender,
            home_support: r.home_support,
            note: r.note,
            status: r.status,
            participant_id: r.participant_id,
            closed_on: r.closed_on,
            close_reason: r.close_reason,
            first_visit_on: r.first_visit_on,
        })
        .collect())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct IntakeForm {
    pub unit_id: String,
    pub received_on: String,
    pub source: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub gender: String,
    pub home_support: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "outreach/intakes.html")]
struct ListPage {
    layout: Layout,
    unit: Unit,
    rows: Vec<IntakeRow>,
    form: IntakeForm,
    errors: FieldErrors,
}

impl ListPage {
    fn sources(&self) -> &'static [ReferralSource] {
        ReferralSource::ALL
    }
    fn genders(&self) -> &'static [Gender] {
        Gender::ALL
    }
    fn target(&self) -> i64 {
        FIRST_VISIT_TARGET_DAYS
    }
    fn waiting(&self) -> usize {
        self.rows.iter().filter(|r| r.is_open()).count()
    }
}

async fn render_list(state: &AppState, current: &CurrentUser, unit: Unit, form: IntakeForm, errors: FieldErrors) -> AppResult<Response> {
    let rows = load(state, unit.id, None).await?;
    let refused = !errors.is_empty();
    let page = ListPage {
        layout: Layout::new(&current.ctx, "intakes"),
        unit,
        rows,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn list(State(state): State<AppState>, current: CurrentUser, Query(q): Query<UnitQuery>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &q.unit).await?;
    let form = IntakeForm {
        unit_id: unit.id.to_string(),
        received_on: state.clock.today().to_string(),
        ..IntakeForm::default()
    };
    render_list(&state, &current, unit, form, FieldErrors::default()).await
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<IntakeForm>) -> AppResult<Response> {
    let unit = Unit::of(&state, &current, &form.unit_id).await?;
    let today = state.clock.today();
    let mut errors = FieldErrors::default();
    let received_on = required_date(&form.received_on)
        .and_then(|d| not_ahead(d, today))
        .map_err(|m| errors.add("received_on", m))
        .ok();
    let source = ReferralSource::parse(&form.source);
    if source.is_none() {
        errors.add("source", "Välj vem anmälan kom från.");
    }
    let first_name = required_text(&form.first_name, "förnamn", 100)
        .map_err(|m| errors.add("first_name", m))
        .ok();
    let last_name = required_text(&form.last_name, "efternamn", 100)
        .map_err(|m| errors.add("last_name", m))
        .ok();
    let phone = optional_phone(&form.phone).map_err(|m| errors.add("phone", m)).ok();
    let gender = Gender::parse(&form.gender);
    if gender.is_none() {
        errors.add("gender", "Välj kön för statistiken (eller Annat eller ej angivet).");
    }
    let home_support = yes_no(&form.home_support);
    if home_support.is_none() {
        errors.add("home_support", "Svara ja eller nej: har personen boendestöd?");
    }
    let note = optional_text(&form.note, 2000).map_err(|m| errors.add("note", m)).ok();
    let (Some(received_on), Some(source), Some(first_name), Some(last_name), Some(phone), Some(gender), Some(home_support), Some(note)) =
        (received_on, source, first_name, last_name, phone, gender, home_support, note)
    else {
        return render_list(&state, &current, unit, form, errors).await;
    };
    let new = store::NewIntake {
        unit: unit.id,
        received_on,
        source,
        first_name,
        last_name,
        phone,
        gender,
        home_support,
        note,
    };
    let id = store::add_intake(&state.db, &new, current.stamp(state.clock.now())).await?;
    current.flash("Intresseanmälan är registrerad.");
    Ok(Redirect::to(&format!("/intakes/{id}")).into_response())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct IntakeChange {
    pub first_visit_on: String,
    pub closed_on: String,
    pub close_reason: String,
}

#[derive(Template)]
#[template(path = "outreach/intake.html")]
struct ShowPage {
    layout: Layout,
    i: IntakeRow,
    form: IntakeChange,
    errors: FieldErrors,
}

impl ShowPage {
    fn target(&self) -> i64 {
        FIRST_VISIT_TARGET_DAYS
    }
}

async fn render_show(state: &AppState, auth: &Authorized<IntakeId>, form: IntakeChange, errors: FieldErrors) -> AppResult<Response> {
    let unit = sqlx::query_scalar!(r#"SELECT unit_id AS "unit_id: UnitId" FROM intakes WHERE id = $1"#, auth.id as _)
        .fetch_one(&state.db)
        .await?;
    let Some(i) = load(state, unit, Some(auth.id)).await?.into_iter().next() else {
        return Err(crate::error::AppError::NotFound);
    };
    let refused = !errors.is_empty();
    let page = ShowPage {
        layout: Layout::new(&auth.current.ctx, "intakes"),
        i,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, auth: Authorized<IntakeId>) -> AppResult<Response> {
    let form = IntakeChange {
        closed_on: state.clock.today().to_string(),
        ..IntakeChange::default()
    };
    render_show(&state, &auth, form, FieldErrors::default()).await
}

async fn answer(
    state: &AppState,
    auth: &Authorized<IntakeId>,
    result: Result<(), Refused>,
    done: &str,
    form: IntakeChange,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            auth.current.flash(done);
            Ok(Redirect::to(&format!("/intakes/{}", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render_show(state, auth, form, errors).await
        }
    }
}

async fn first_visit(
    State(state): State<AppState>,
    auth: Authorized<IntakeId>,
    FormData(form): FormData<IntakeChange>,
) -> AppResult<Response> {
    let today = state.clock.today();
    let result = match required_date(&form.first_visit_on) {
        Ok(on) => store::set_first_visit(&state.db, auth.id, on, today, auth.current.stamp(state.clock.now())).await?,
        Err(message) => Err(Refused {
            field: "first_visit_on",
            message: message.into(),
        }),
    };
    answer(&state, &auth, result, "Första besöket är registrerat.", form).await
}

async fn close(State(state): State<AppState>, auth: Authorized<IntakeId>, FormData(form): FormData<IntakeChange>) -> AppResult<Response> {
    let today = state.clock.today();
    let mut errors = FieldErrors::default();
    let on = required_date(&form.closed_on).map_err(|m| errors.add("closed_on", m)).ok();
    let reason = required_text(&form.close_reason, "varför anmälan avslutas", 500)
        .map_err(|m| errors.add("close_reason", m))
        .ok();
    let (Some(on), Some(reason)) = (on, reason) else {
        return render_show(&state, &auth, form, errors).await;
    };
    let result = store::close_intake(&state.db, auth.id, on, &reason, today, auth.current.stamp(state.clock.now())).await?;
    answer(&state, &auth, result, "Intresseanmälan är avslutad.", form).await
}
