//! Samverkanspartner (issue 19, point 2): the register of partner
//! organisations — Försäkringskassan, Arbetsförmedlingen, psykiatrin,
//! boendestöd, socialtjänsten, employers — and their contact persons, shared
//! by every unit like the employer register. `gate` is the consent gate of
//! every contact with them, and `/partners/urgent` lists the contacts made
//! without consent on an urgent reason for the unit's manager.

pub mod gate;
pub mod model;
pub mod store;

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::Refused;
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, PartnerContactId, PartnerId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_email, optional_phone, optional_text, required_text};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use model::{ContactVia, PartnerKind};
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new()
        .route("/partners", get(list).post(create))
        .route("/partners/urgent", get(urgent))
        .route("/partners/urgent/{contact_id}/review", post(review))
        .route("/partners/{partner_id}", get(show))
        .route("/partners/{partner_id}/people", post(add_person))
        .route("/partners/{partner_id}/people/{person_id}/end", post(end_person))
}

/// A partner as a choice in a form, with whether the person's consent covers it.
#[derive(Clone)]
pub struct PartnerChoice {
    pub id: PartnerId,
    pub kind: PartnerKind,
    pub name: String,
    /// A consent covers contact with this partner on the form's day.
    pub consented: bool,
}

impl PartnerChoice {
    pub fn label(&self) -> String {
        if self.kind == PartnerKind::Employer || self.name == self.kind.label() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.kind.label())
        }
    }
}

/// The partners a form about `participant` offers: every organisation but
/// employers, and the employers of the person's own plans and placements
/// (`every_employer`: all of them, for a consent that names one); each
/// marked with whether a consent covers contact with it on `on`.
pub async fn choices_for(
    db: &PgPool,
    participant: ParticipantId,
    on: NaiveDate,
    every_employer: bool,
) -> Result<Vec<PartnerChoice>, sqlx::Error> {
    sqlx::query_as!(
        PartnerChoice,
        r#"SELECT pa.id AS "id: PartnerId", pa.kind AS "kind: PartnerKind", pa.name,
                  consent_covering($1, pa.id, $2) IS NOT NULL AS "consented!"
           FROM partners pa
           WHERE pa.kind <> 'employer' OR $3
              OR pa.employer_id IN (SELECT employer_id FROM plans WHERE participant_id = $1 AND employer_id IS NOT NULL)
              OR pa.employer_id IN (SELECT employer_id FROM placements WHERE participant_id = $1)
           ORDER BY pa.kind = 'employer', pa.kind, lower(pa.name), pa.id"#,
        participant as _,
        on,
        every_employer
    )
    .fetch_all(db)
    .await
}

// --- The register ----------------------------------------------------------

pub struct PartnerRow {
    pub id: PartnerId,
    pub kind: PartnerKind,
    pub name: String,
    pub note: String,
    pub people: i64,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PartnerForm {
    pub kind: String,
    pub name: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "partners/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<PartnerRow>,
    form: PartnerForm,
    errors: FieldErrors,
}

impl ListPage {
    fn kinds(&self) -> Vec<PartnerKind> {
        PartnerKind::ALL.iter().copied().filter(|k| *k != PartnerKind::Employer).collect()
    }
}

async fn render_list(state: &AppState, current: &CurrentUser, form: PartnerForm, errors: FieldErrors) -> AppResult<Response> {
    let rows = sqlx::query_as!(
        PartnerRow,
        r#"SELECT pa.id AS "id: PartnerId", pa.kind AS "kind: PartnerKind", pa.name, pa.note,
                  (SELECT count(*) FROM partner_people pp WHERE pp.partner_id = pa.id AND pp.active) AS "people!"
           FROM partners pa WHERE pa.kind <> 'employer' ORDER BY pa.kind, lower(pa.name), pa.id"#
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ListPage {
        layout: Layout::new(&current.ctx, "partners"),
        rows,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    render_list(&state, &current, PartnerForm::default(), FieldErrors::default()).await
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<PartnerForm>) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let kind = PartnerKind::parse(&form.kind).filter(|k| *k != PartnerKind::Employer);
    if kind.is_none() {
        errors.add(
            "kind",
            "Välj vilket slags organisation (arbetsgivare läggs till under Arbetsgivare).",
        );
    }
    let name = required_text(&form.name, "organisationens namn (t.ex. Försäkringskassan Linköping)", 200)
        .map_err(|m| errors.add("name", m))
        .ok();
    let note = optional_text(&form.note, 500).map_err(|m| errors.add("note", m)).ok();
    let (Some(kind), Some(name), Some(note)) = (kind, name, note) else {
        return render_list(&state, &current, form, errors).await;
    };
    let new = store::NewPartner { kind, name, note };
    match store::add(&state.db, &new, current.stamp(state.clock.now())).await? {
        Ok(id) => {
            current.flash(&format!("{} är tillagd bland samverkanspartnerna.", new.name));
            Ok(Redirect::to(&format!("/partners/{id}")).into_response())
        }
        Err(Refused { field, message }) => {
            errors.add(field, message);
            render_list(&state, &current, form, errors).await
        }
    }
}

// --- One partner and its contact persons -----------------------------------

pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub phone: String,
    pub email: String,
    pub active: bool,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PersonForm {
    pub name: String,
    pub role: String,
    pub phone: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "partners/show.html")]
struct ShowPage {
    layout: Layout,
    p: PartnerRow,
    people: Vec<PersonRow>,
    form: PersonForm,
    errors: FieldErrors,
}

async fn render_show(state: &AppState, current: &CurrentUser, id: PartnerId, form: PersonForm, errors: FieldErrors) -> AppResult<Response> {
    let p = sqlx::query_as!(
        PartnerRow,
        r#"SELECT id AS "id: PartnerId", kind AS "kind: PartnerKind", name, note, 0::bigint AS "people!" FROM partners WHERE id = $1"#,
        id as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)?;
    let people = sqlx::query_as!(
        PersonRow,
        "SELECT id, name, role, phone, email, active FROM partner_people WHERE partner_id = $1 ORDER BY active DESC, lower(name), id",
        id as _
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "partners"),
        p,
        people,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, current: CurrentUser, Path(id): Path<PartnerId>) -> AppResult<Response> {
    render_show(&state, &current, id, PersonForm::default(), FieldErrors::default()).await
}

async fn add_person(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<PartnerId>,
    FormData(form): FormData<PersonForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let name = required_text(&form.name, "kontaktpersonens namn", 200)
        .map_err(|m| errors.add("name", m))
        .ok();
    let role = optional_text(&form.role, 200).map_err(|m| errors.add("role", m)).ok();
    let phone = optional_phone(&form.phone).map_err(|m| errors.add("phone", m)).ok();
    let email = optional_email(&form.email).map_err(|m| errors.add("email", m)).ok();
    let (Some(name), Some(role), Some(phone), Some(email)) = (name, role, phone, email) else {
        return render_show(&state, &current, id, form, errors).await;
    };
    let exists = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM partners WHERE id = $1) AS "e!""#, id as _)
        .fetch_one(&state.db)
        .await?;
    if !exists {
        return Err(AppError::NotFound);
    }
    let person = store::NewPerson { name, role, phone, email };
    store::add_person(&state.db, id, &person, current.stamp(state.clock.now())).await?;
    current.flash(&format!("{} är tillagd som kontaktperson.", person.name));
    Ok(Redirect::to(&format!("/partners/{id}")).into_response())
}

async fn end_person(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, person)): Path<(PartnerId, i64)>,
) -> AppResult<Response> {
    store::end_person(&state.db, id, person, current.stamp(state.clock.now())).await?;
    current.flash("Kontaktpersonen är markerad som inte längre aktuell.");
    Ok(Redirect::to(&format!("/partners/{id}")).into_response())
}

// --- Urgent exceptions, for the manager ------------------------------------

pub struct UrgentRow {
    pub id: PartnerContactId,
    pub participant_id: ParticipantId,
    pub participant: String,
    pub partner: String,
    pub contact_on: NaiveDate,
    pub via: ContactVia,
    pub reason: String,
    pub recorded_by: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
}

impl UrgentRow {
    pub fn reviewed_when(&self) -> String {
        self.reviewed_at.map(crate::web::format::local_time).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "partners/urgent.html")]
struct UrgentPage {
    layout: Layout,
    rows: Vec<UrgentRow>,
}

impl UrgentPage {
    fn unreviewed(&self) -> usize {
        self.rows.iter().filter(|r| r.reviewed_by.is_none()).count()
    }
}

/// Contacts made without consent on an urgent reason, in the manager's units:
/// the unchecked first, then the last year's checked ones.
async fn urgent(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Manager])?;
    let since = state.clock.today() - chrono::Days::new(366);
    let rows = sqlx::query_as!(
        UrgentRow,
        r#"SELECT pc.id AS "id: PartnerContactId", p.id AS "participant_id: ParticipantId",
                  CASE WHEN p.protected_identity AND NOT in_caseload($3, p.id) THEN 'Skyddad person'
                       ELSE p.first_name || ' ' || p.last_name END AS "participant!",
                  pa.name AS partner, pc.contact_on, pc.via AS "via: ContactVia", pc.urgent_reason AS "reason!", u.name AS recorded_by,
                  ru.name AS "reviewed_by?", r.reviewed_at AS "reviewed_at?", r.note AS "review_note?"
           FROM partner_contacts pc
           JOIN participants p ON p.id = pc.participant_id
           JOIN partners pa ON pa.id = pc.partner_id
           JOIN users u ON u.id = pc.recorded_by
           LEFT JOIN urgent_contact_reviews r ON r.contact_id = pc.id
           LEFT JOIN users ru ON ru.id = r.reviewed_by
           WHERE pc.urgent_reason IS NOT NULL AND p.unit_id = ANY($1) AND (r.contact_id IS NULL OR pc.contact_on >= $2)
           ORDER BY r.contact_id IS NOT NULL, pc.contact_on DESC, pc.id DESC
           LIMIT 500"#,
        &current.user.unit_ids as _,
        since,
        current.user.id as _
    )
    .fetch_all(&state.db)
    .await?;
    // The people listed are read: one access-log row each.
    let mut people: Vec<ParticipantId> = rows.iter().map(|r| r.participant_id).collect();
    people.sort_unstable();
    people.dedup();
    crate::access::log(
        &state.db,
        &current.user,
        &people,
        crate::access::Action::ReportList,
        state.clock.now(),
    )
    .await?;
    let page = UrgentPage {
        layout: Layout::new(&current.ctx, "urgent"),
        rows,
    };
    crate::web::page(&page, false)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    pub note: String,
}

async fn review(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(contact): Path<PartnerContactId>,
    FormData(form): FormData<ReviewForm>,
) -> AppResult<Response> {
    let unit = sqlx::query_scalar!(
        r#"SELECT p.unit_id AS "unit_id: crate::ids::UnitId" FROM partner_contacts pc JOIN participants p ON p.id = pc.participant_id
           WHERE pc.id = $1 AND pc.urgent_reason IS NOT NULL"#,
        contact as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)?;
    current.require_manager_of(unit)?;
    let note = optional_text(&form.note, 1000).map_err(|_| AppError::BadRequest("note"))?;
    store::review_urgent(&state.db, contact, &note, current.stamp(state.clock.now())).await?;
    current.flash("Undantaget är markerat som granskat.");
    Ok(Redirect::to("/partners/urgent").into_response())
}

/// How many urgent exceptions in the manager's units wait for a check (Att göra).
pub async fn unreviewed(db: &PgPool, units: &[crate::ids::UnitId]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM partner_contacts pc JOIN participants p ON p.id = pc.participant_id
           WHERE pc.urgent_reason IS NOT NULL AND p.unit_id = ANY($1)
             AND NOT EXISTS (SELECT 1 FROM urgent_contact_reviews r WHERE r.contact_id = pc.id)"#,
        units as _
    )
    .fetch_one(db)
    .await
}
