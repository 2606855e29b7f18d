//! Participants (deltagare): the register, the personakt, search, and
//! "Mina deltagare". The record's parts live beside this file: `record`
//! (status, kontaktman, boendestöd, närstående, samtycken), `journal`, and
//! `access` (who may see whom, and the access log).

pub mod access_log;
pub mod access_review;
pub mod changes;
pub mod form;
pub mod identity;
pub mod journal;
pub mod model;
pub mod queries;
pub mod record;
pub mod relatives;
pub mod store;
pub mod versions;

use crate::access::{self, Action, Authorized};
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::Refused;
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UnitId, UserId};
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::Query;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::{Routes, get, post};
use crate::web::searches;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use form::ParticipantForm;
use model::{Gender, ParticipantStatus, ReferralSource};
use queries::{ListFilter, ListRow, PAGE_SIZE};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants", get(list).post(create))
        .route("/participants/search", post(search))
        .route("/participants/new", get(new_form))
        .route("/participants/mine", get(mine))
        .route("/participants/{id}", get(record::show))
        .route("/participants/{id}/edit", get(edit_form).post(update))
        .route("/participants/{id}/print", get(record::print))
        .merge(changes::routes())
        .merge(journal::routes())
        .merge(versions::routes())
        .merge(relatives::routes())
        .merge(access_log::routes())
        .merge(access_review::routes())
        .merge(access::reason::routes())
}

/// The units a participant may be registered in: the user's own.
pub struct UnitChoice {
    pub id: UnitId,
    pub name: String,
}

pub(crate) async fn unit_choices(db: &sqlx::PgPool, user_id: UserId) -> Result<Vec<UnitChoice>, sqlx::Error> {
    sqlx::query_as!(
        UnitChoice,
        "SELECT u.id, u.name FROM units u JOIN unit_memberships m ON m.unit_id = u.id WHERE m.user_id = $1 AND u.active ORDER BY u.name",
        user_id as _
    )
    .fetch_all(db)
    .await
}

#[derive(Template)]
#[template(path = "participants/list.html")]
struct ListPage {
    layout: Layout,
    heading: &'static str,
    /// Where the GET pages of this list live.
    base_path: &'static str,
    rows: Vec<ListRow>,
    /// Known for searches; the plain list is not counted.
    total: Option<i64>,
    has_next: bool,
    page: i64,
    pages: Option<i64>,
    filter: FilterForm,
    staff: Vec<StaffChoice>,
    statuses: &'static [ParticipantStatus],
    error: &'static str,
}

impl ListPage {
    fn masked(&self, row: &ListRow) -> String {
        identity::masked(&row.identity_kind, row.identity_number.as_deref())
    }

    fn status_label(&self, code: &str) -> &'static str {
        ParticipantStatus::parse(code).map(ParticipantStatus::label).unwrap_or("")
    }

    /// Query string for another page of the same (GET) listing.
    fn page_query(&self, page: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        // A kept search holds its own terms: only its id and the page.
        if !self.filter.search.is_empty() {
            q.append_pair("search", &self.filter.search);
            q.append_pair("page", &page.to_string());
            return q.finish();
        }
        for (k, v) in [
            ("status", &self.filter.status),
            ("key_worker", &self.filter.key_worker),
            ("home_support", &self.filter.home_support),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("page", &page.to_string());
        q.finish()
    }
}

/// Filters as typed; the search term (`q`) only ever arrives by POST, since
/// it may hold a personnummer, which must never be in a URL: the search is
/// kept for the session and its results are `/participants?search=<id>`.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct FilterForm {
    pub q: String,
    pub status: String,
    pub key_worker: String,
    pub home_support: String,
    pub page: String,
    /// The id of a kept search (`web::searches`), from the results' URL.
    pub search: String,
}

impl FilterForm {
    /// What a search keeps: every term but the page.
    fn terms(&self) -> [(&'static str, &str); 4] {
        [
            ("q", self.q.as_str()),
            ("status", self.status.as_str()),
            ("key_worker", self.key_worker.as_str()),
            ("home_support", self.home_support.as_str()),
        ]
    }

    fn from_terms(terms: &[(String, String)], page: String, search: String) -> FilterForm {
        FilterForm {
            q: searches::term(terms, "q").to_string(),
            status: searches::term(terms, "status").to_string(),
            key_worker: searches::term(terms, "key_worker").to_string(),
            home_support: searches::term(terms, "home_support").to_string(),
            page,
            search,
        }
    }

    fn to_filter(&self, units: Vec<UnitId>) -> Result<ListFilter, &'static str> {
        let mut filter = ListFilter {
            units,
            status: ParticipantStatus::parse(&self.status).map(|s| s.code().to_string()),
            key_worker: self.key_worker.parse().ok(),
            home_support: crate::web::form::yes_no(&self.home_support),
            ..ListFilter::default()
        };
        let q = self.q.trim();
        if q.is_empty() {
            return Ok(filter);
        }
        let looks_like_number = q.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c.is_whitespace());
        if looks_like_number {
            let digits: String = q.chars().filter(char::is_ascii_digit).collect();
            // Whole numbers, and birth-date parts; a ten- or six-digit number
            // may belong to either century.
            match digits.len() {
                12 => filter.numbers = vec![digits],
                10 => filter.numbers = vec![format!("19{digits}"), format!("20{digits}")],
                8 => filter.number_prefixes = vec![digits],
                6 => filter.number_prefixes = vec![format!("19{digits}"), format!("20{digits}")],
                _ => return Err("Sök på hela numret (10 eller 12 siffror) eller födelsedatum (6 eller 8 siffror)."),
            }
        } else {
            if q.chars().any(|c| c.is_ascii_digit()) && !q.contains(char::is_whitespace) {
                // Letters and digits in one word may be a reservnummer, as typed.
                filter.numbers = vec![q.to_string()];
            }
            if q.chars().count() < 2 {
                return Err("Skriv minst två bokstäver.");
            }
            // Every word somewhere in the name, in any order: "berg an" finds Anna Berg.
            filter.name_words = q
                .to_lowercase()
                .split_whitespace()
                .map(|w| w.replace(['\\', '%', '_'], ""))
                .filter(|w| !w.is_empty())
                .collect();
            if filter.name_words.is_empty() {
                return Err("Skriv minst två bokstäver.");
            }
        }
        Ok(filter)
    }

    fn page(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).clamp(1, 100_000)
    }
}

async fn render_list(
    state: &AppState,
    current: &CurrentUser,
    filter_form: FilterForm,
    heading: &'static str,
    section: &'static str,
    base_path: &'static str,
) -> AppResult<Response> {
    let units = current.user.unit_ids.clone();
    let staff = crate::users::queries::staff_of_units(&state.db, &units).await?;
    let mut page = filter_form.page();
    let (rows, total, has_next, error) = match filter_form.to_filter(units) {
        Ok(mut filter) => {
            // Protected people are in the lists of those named on them only.
            filter.viewer = Some(current.user.id);
            // Counting every participant of a unit is the costliest part of
            // the plain list, and tells little: only searches are counted.
            let total = if filter.is_search() {
                Some(queries::count(&state.db, &filter).await?)
            } else {
                None
            };
            if let Some(total) = total {
                // A page past the end shows the last page.
                page = page.min(((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1));
            }
            let (rows, has_next) = queries::list(&state.db, &filter, page).await?;
            // A list narrowed by a term or a filter is a search: the people it shows are logged.
            if filter.is_search() && !rows.is_empty() {
                let ids: Vec<ParticipantId> = rows.iter().map(|r| r.id).collect();
                access::log(&state.db, &current.user, &ids, Action::Search, state.clock.now()).await?;
            }
            (rows, total, has_next, "")
        }
        Err(message) => (Vec::new(), Some(0), false, message),
    };
    let page = ListPage {
        layout: Layout::new(&current.ctx, section),
        heading,
        base_path,
        pages: total.map(|t| (t + PAGE_SIZE - 1) / PAGE_SIZE),
        has_next,
        rows,
        total,
        page,
        filter: filter_form,
        staff,
        statuses: ParticipantStatus::ALL,
        error,
    };
    let refused = !error.is_empty();
    crate::web::page(&page, refused)
}

async fn list(State(state): State<AppState>, mut current: CurrentUser, Query(query): Query<FilterForm>) -> AppResult<Response> {
    if let (false, Some(session)) = (query.search.is_empty(), current.ctx.session_token_hash) {
        match searches::terms(&state.db, &session, searches::Kind::Participants, &query.search).await? {
            Some(terms) => {
                let filter = FilterForm::from_terms(&terms, query.page, query.search);
                return render_list(&state, &current, filter, "Deltagare", "participants", "/participants").await;
            }
            None => current.ctx.flash = Some("Sökningen finns inte längre (den hörde till en tidigare inloggning). Sök igen.".into()),
        }
    }
    // A search term never comes by GET.
    let filter = FilterForm {
        q: String::new(),
        search: String::new(),
        ..query
    };
    render_list(&state, &current, filter, "Deltagare", "participants", "/participants").await
}

/// The people a search for `q` (a name, or a number as the participants'
/// search reads it) finds in `units`; at most `limit`.
pub async fn matching_people(
    db: &sqlx::PgPool,
    q: &str,
    units: Vec<UnitId>,
    limit: i64,
) -> AppResult<Result<Vec<ParticipantId>, &'static str>> {
    let form = FilterForm {
        q: q.to_string(),
        ..FilterForm::default()
    };
    match form.to_filter(units) {
        Ok(filter) => Ok(Ok(queries::matching_ids(db, &filter, limit).await?)),
        Err(message) => Ok(Err(message)),
    }
}

/// A search is kept for the session and answered by a redirect to its
/// results: Back and reload work, and the URL holds no name or number.
async fn search(State(state): State<AppState>, current: CurrentUser, FormData(filter): FormData<FilterForm>) -> AppResult<Response> {
    let Some(session) = current.ctx.session_token_hash else {
        return Err(AppError::Forbidden);
    };
    let id = searches::keep(
        &state.db,
        &session,
        searches::Kind::Participants,
        &filter.terms(),
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/participants?search={id}")).into_response())
}

async fn mine(State(state): State<AppState>, current: CurrentUser, Query(filter): Query<FilterForm>) -> AppResult<Response> {
    let filter = FilterForm {
        key_worker: current.user.id.to_string(),
        q: String::new(),
        search: String::new(),
        ..filter
    };
    render_list(&state, &current, filter, "Mina deltagare", "mine", "/participants/mine").await
}

#[derive(Template)]
#[template(path = "participants/form.html")]
struct FormPage {
    layout: Layout,
    /// None when registering a new participant.
    participant_id: Option<ParticipantId>,
    heading: String,
    form: ParticipantForm,
    units: Vec<UnitChoice>,
    errors: FieldErrors,
    /// Set when a stale edit was refused: who saved in between, and what.
    conflict: Option<Conflict>,
    identity_kinds: [identity::IdentityKind; 4],
    genders: &'static [Gender],
    referral_sources: &'static [ReferralSource],
    /// A protected person's address and contact details are not on the form
    /// of someone not named on them; saving keeps them as they are.
    contact_hidden: bool,
}

pub struct Conflict {
    pub changed_by: String,
    pub changed_at: String,
    pub changes: Vec<form::Change>,
}

impl FormPage {
    fn refused(self) -> AppResult<Response> {
        let status = if self.conflict.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        crate::web::render(&self, status)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    /// Registering the person of an intresseanmälan.
    intake: String,
}

async fn new_form(State(state): State<AppState>, current: CurrentUser, Query(q): Query<NewQuery>) -> AppResult<Response> {
    let units = unit_choices(&state.db, current.user.id).await?;
    let mut form = ParticipantForm {
        unit_id: units.first().map(|u| u.id.to_string()).unwrap_or_default(),
        identity_kind: "personnummer".into(),
        resident: "yes".into(),
        has_coordinated_plan: "no".into(),
        ..ParticipantForm::default()
    };
    if let Ok(intake) = q.intake.parse::<crate::ids::IntakeId>() {
        // Only a waiting intake of one of the user's units fills the form.
        let row = sqlx::query!(
            r#"SELECT unit_id AS "unit_id: UnitId", first_name, last_name, phone, gender, source, received_on, first_visit_on
               FROM intakes WHERE id = $1 AND status = 'open' AND unit_id = ANY($2)"#,
            intake as _,
            &current.user.unit_ids as _
        )
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
        form = ParticipantForm {
            unit_id: row.unit_id.to_string(),
            first_name: row.first_name,
            last_name: row.last_name,
            phone: row.phone,
            gender: row.gender,
            referral_source: row.source,
            first_contact_on: row.received_on.to_string(),
            first_visit_on: row.first_visit_on.map(|d| d.to_string()).unwrap_or_default(),
            intake_id: intake.to_string(),
            ..form
        };
    }
    let page = FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        participant_id: None,
        heading: "Registrera deltagare".into(),
        form,
        units,
        errors: FieldErrors::default(),
        conflict: None,
        identity_kinds: identity::IdentityKind::ALL,
        genders: Gender::ALL,
        referral_sources: ReferralSource::ALL,
        contact_hidden: false,
    };
    Ok(Html(page.render()?).into_response())
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<ParticipantForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let units = unit_choices(&state.db, current.user.id).await?;
    let mut errors = FieldErrors::default();
    let unit_id = form.unit_id.parse::<UnitId>().ok().filter(|id| units.iter().any(|u| u.id == *id));
    if unit_id.is_none() {
        errors.add("unit_id", "Välj en av dina enheter.");
    }
    let fields = form.validate(state.clock.today(), &mut errors);
    let refuse = |form: ParticipantForm, errors: FieldErrors, units: Vec<UnitChoice>| {
        FormPage {
            layout: Layout::new(&current.ctx, "participants"),
            participant_id: None,
            heading: "Registrera deltagare".into(),
            form,
            units,
            errors,
            conflict: None,
            identity_kinds: identity::IdentityKind::ALL,
            genders: Gender::ALL,
            referral_sources: ReferralSource::ALL,
            contact_hidden: false,
        }
        .refused()
    };
    let (Some(unit_id), Some(fields)) = (unit_id, fields.filter(|_| errors.is_empty())) else {
        return refuse(form, errors, units);
    };

    let intake = match form.intake_id.trim() {
        "" => None,
        id => Some(id.parse::<crate::ids::IntakeId>().map_err(|_| AppError::BadRequest("intake_id"))?),
    };
    let id = match store::register(&state.db, unit_id, &fields, intake, state.clock.today(), current.stamp(now)).await? {
        Ok(id) => id,
        Err(Refused { field, message }) => {
            errors.add(field, message);
            return refuse(form, errors, units);
        }
    };
    current.flash(&format!("{} {} är registrerad.", fields.first_name, fields.last_name));
    Ok(Redirect::to(&format!("/participants/{id}")).into_response())
}

/// The edit form shows the whole record: it is a view like the personakt (logged by `Authorized`).
async fn edit_form(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let (current, id, unit_id) = (auth.current, auth.id, auth.unit_id);
    let summary = queries::summary(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut saved = queries::version(&state.db, id, summary.version).await?.ok_or(AppError::NotFound)?;
    let contact_hidden = queries::contact_hidden(&state.db, id, current.user.id).await?;
    if contact_hidden {
        saved.fields.hide_contact();
    }
    let page = FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        participant_id: Some(id),
        heading: format!("Ändra uppgifter för {} {}", saved.fields.first_name, saved.fields.last_name),
        form: ParticipantForm::from_fields(&saved.fields, unit_id, summary.version),
        units: unit_choices(&state.db, current.user.id).await?,
        errors: FieldErrors::default(),
        conflict: None,
        identity_kinds: identity::IdentityKind::ALL,
        genders: Gender::ALL,
        referral_sources: ReferralSource::ALL,
        contact_hidden,
    };
    Ok(Html(page.render()?).into_response())
}

async fn update(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<ParticipantForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (auth.current.clone(), auth.id);
    let summary = queries::summary(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let contact_hidden = queries::contact_hidden(&state.db, id, current.user.id).await?;
    let mut form = form;
    if contact_hidden {
        // Not on this viewer's form: kept as saved.
        let saved = queries::version(&state.db, id, summary.version).await?.ok_or(AppError::NotFound)?;
        form.phone = saved.fields.phone;
        form.email = saved.fields.email;
        form.address = saved.fields.address;
    }
    let mut errors = FieldErrors::default();
    let base_version = form.version.parse::<i32>().ok();
    let fields = form.validate(state.clock.today(), &mut errors);
    let units = unit_choices(&state.db, current.user.id).await?;
    let heading = format!("Ändra uppgifter för {}", form.first_name.trim());
    let page = |form: ParticipantForm, errors: FieldErrors, conflict: Option<Conflict>, units: Vec<UnitChoice>| FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        participant_id: Some(id),
        heading: heading.clone(),
        form,
        units,
        errors,
        conflict,
        identity_kinds: identity::IdentityKind::ALL,
        genders: Gender::ALL,
        referral_sources: ReferralSource::ALL,
        contact_hidden,
    };
    let Some(fields) = fields.filter(|_| errors.is_empty()) else {
        return page(form, errors, None, units).refused();
    };
    let base_version = base_version.unwrap_or(0);
    let saved = match store::update(&state.db, id, summary.unit_id, base_version, &fields, current.stamp(now)).await? {
        Ok(saved) => saved,
        Err(Refused { field, message }) => {
            errors.add(field, message);
            return page(form, errors, None, units).refused();
        }
    };
    if let crate::db::Updated::Conflict = saved {
        // Someone saved after this form was opened: show what they changed,
        // keep what this user typed, and let them save again knowingly.
        let conflict = match (
            queries::version(&state.db, id, base_version).await?,
            queries::version(&state.db, id, summary.version).await?,
        ) {
            (Some(mut before), Some(mut latest)) => Conflict {
                changed_by: latest.changed_by,
                changed_at: latest
                    .changed_at
                    .with_timezone(&chrono_tz::Europe::Stockholm)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                changes: {
                    if contact_hidden {
                        before.fields.hide_contact();
                        latest.fields.hide_contact();
                    }
                    form::changes(&before.fields, &latest.fields)
                },
            },
            _ => Conflict {
                changed_by: "någon annan".into(),
                changed_at: String::new(),
                changes: Vec::new(),
            },
        };
        let form = ParticipantForm {
            version: summary.version.to_string(),
            ..form
        };
        auth.log_shown_again(&state).await?;
        return page(form, errors, Some(conflict), units).refused();
    }
    current.flash("Uppgifterna är sparade.");
    Ok(Redirect::to(&format!("/participants/{id}")).into_response())
}

/// Only managers review the access log.
pub fn may_review_access(current: &CurrentUser) -> bool {
    current.user.role == Role::Manager
}
