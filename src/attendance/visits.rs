//! "Dagens besök": the reception check-in. Two or three letters of a name
//! and Enter log the visit when they match one person; otherwise the matches
//! are listed with a button each. Names and numbers travel by POST only.
//! One visit per person and day (a partial unique index that ignores
//! cancelled visits); undoing a check-in marks it cancelled and audits it.

use super::store::{self, CheckIn, Person};
use super::{chosen_unit, closed_because, exception_on};
use crate::access::{self, Action, Authorized};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UnitId, VisitId};
use crate::participants::model::{Gender, ParticipantStatus};
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::form::{FormData, optional_date};
use crate::web::format::clock_time;
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use crate::web::searches;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/visits", get(page).post(check_in))
        .route("/visits/search", post(search))
        .route("/visits/{id}/cancel", post(cancel))
        .route("/visits/{id}/check-out", post(check_out))
        .route("/visits/drop-in", post(drop_in))
}

/// How many matches the search shows.
const MAX_HITS: i64 = 12;

/// How many of the day's visits the page lists, the latest first, unless all are asked for.
const VISITS_SHOWN: i64 = 50;

pub struct VisitRow {
    pub id: VisitId,
    pub participant_id: ParticipantId,
    pub name: String,
    pub checked_in_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub backfilled: bool,
    pub outside_young_adults_time: bool,
}

impl VisitRow {
    pub fn time_in(&self) -> String {
        clock_time(self.checked_in_at)
    }
    pub fn time_out(&self) -> Option<String> {
        self.checked_out_at.map(clock_time)
    }
}

pub struct Hit {
    pub id: ParticipantId,
    pub name: String,
    pub birth_date: NaiveDate,
    pub status: ParticipantStatus,
    /// Already checked in on the day searched for.
    pub visited: bool,
}

pub struct DropInCount {
    pub gender: Gender,
    pub visitors: i32,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct VisitForm {
    pub unit_id: String,
    pub q: String,
    pub participant_id: String,
    /// Empty for today; a past date logs a visit afterwards.
    pub visit_on: String,
    pub confirm: String,
    /// The page lists all of today's visits, not only the latest (`?all=1`; never from a form).
    #[serde(skip)]
    pub all: bool,
}

#[derive(Template)]
#[template(path = "attendance/visits.html")]
struct VisitsPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    unit_id: UnitId,
    unit_name: String,
    today: NaiveDate,
    weekday: &'static str,
    closed: Option<String>,
    young_adults_until: Option<String>,
    visits: Vec<VisitRow>,
    /// All of today's visits, of which `visits` lists the latest.
    visits_today: i64,
    drop_ins: Vec<DropInCount>,
    form: VisitForm,
    hits: Option<Vec<Hit>>,
    /// The search's or check-in's message beside the field.
    error: String,
    /// A visitor outside 18–35 during Yngre Lotsen time, waiting for a yes.
    confirm: Option<Hit>,
    /// For the hits partial, shared with the live search.
    csrf_token: String,
    visit_on: String,
    /// The hit whose *Checka in* takes focus when the page opens after a
    /// search with several hits; otherwise the name field has it.
    focus_on: Option<ParticipantId>,
}

/// Only the hits, for the search as you type (`app.js`).
#[derive(Template)]
#[template(path = "attendance/_hits.html")]
struct HitsFragment {
    hits: Option<Vec<Hit>>,
    csrf_token: String,
    unit_id: UnitId,
    visit_on: String,
    today: NaiveDate,
    /// None: typed hits never take focus from the name field.
    focus_on: Option<ParticipantId>,
}

impl HitsFragment {
    fn age(&self, hit: &Hit) -> i32 {
        crate::participants::identity::age_on(hit.birth_date, self.today)
    }
}

impl VisitsPage {
    fn age(&self, hit: &Hit) -> i32 {
        crate::participants::identity::age_on(hit.birth_date, self.today)
    }
    fn backfill(&self) -> bool {
        !self.form.visit_on.trim().is_empty()
    }
}

const WEEKDAYS: [&str; 7] = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"];

async fn render(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    form: VisitForm,
    hits: Option<Vec<Hit>>,
    error: String,
    confirm: Option<Hit>,
) -> AppResult<Response> {
    use chrono::Datelike;
    let today = state.clock.today();
    let now = state.clock.now();
    let units = crate::participants::unit_choices(&state.db, current.user.id).await?;
    let unit_name = units.iter().find(|u| u.id == unit_id).map(|u| u.name.clone()).unwrap_or_default();
    let visits = sqlx::query_as!(
        VisitRow,
        r#"SELECT v.id, v.participant_id, p.first_name || ' ' || p.last_name AS "name!", v.checked_in_at, v.checked_out_at,
                  v.backfilled, v.outside_young_adults_time
           FROM visits v JOIN participants p ON p.id = v.participant_id
           WHERE v.unit_id = $1 AND v.visit_on = $2 AND v.cancelled_at IS NULL
           ORDER BY v.checked_in_at DESC, v.id DESC
           LIMIT $3"#,
        unit_id as _,
        today,
        if form.all { i64::MAX } else { VISITS_SHOWN }
    )
    .fetch_all(&state.db)
    .await?;
    let visits_today = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(visits), 0)::bigint AS "n!" FROM visit_day_counts WHERE unit_id = $1 AND visit_on = $2"#,
        unit_id as _,
        today
    )
    .fetch_one(&state.db)
    .await?;
    let counts = sqlx::query!(
        "SELECT gender, visitors FROM drop_in_visits WHERE unit_id = $1 AND visit_on = $2",
        unit_id as _,
        today
    )
    .fetch_all(&state.db)
    .await?;
    let drop_ins = Gender::ALL
        .iter()
        .map(|g| DropInCount {
            gender: *g,
            visitors: counts.iter().find(|c| c.gender == g.code()).map(|c| c.visitors).unwrap_or(0),
        })
        .collect();
    let young_adults_until = sqlx::query_scalar!(
        "SELECT max(ends_at) FROM young_adult_periods WHERE unit_id = $1 AND starts_at <= $2 AND ends_at > $2",
        unit_id as _,
        now
    )
    .fetch_one(&state.db)
    .await?
    .map(clock_time);
    let closed = closed_because(today, exception_on(&state.db, unit_id, today).await?);
    let refused = !(error.is_empty() && confirm.is_none());
    let hits = hits.filter(|h| !h.is_empty());
    let focus_on = hits.iter().flatten().find(|h| !h.visited).map(|h| h.id);
    let page = VisitsPage {
        focus_on,
        csrf_token: current.ctx.csrf_token.clone(),
        visit_on: form.visit_on.clone(),
        layout: Layout::new(&current.ctx, "visits"),
        units,
        unit_id,
        unit_name,
        today,
        weekday: WEEKDAYS[today.weekday().num_days_from_monday() as usize],
        closed,
        young_adults_until,
        visits,
        visits_today,
        drop_ins,
        form,
        hits,
        error,
        confirm,
    };
    crate::web::page(&page, refused)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UnitQuery {
    unit: String,
    /// The visit just logged by the quick check-in, to confirm on the page.
    checked_in: String,
    /// Set when that visit was there before: the person had already come.
    earlier: String,
    /// "1": list all of today's visits.
    all: String,
    /// The id of a kept search whose results to show (`web::searches`).
    search: String,
}

async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<UnitQuery>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &query.unit)?;
    let form = VisitForm {
        unit_id: unit_id.to_string(),
        all: query.all == "1",
        ..VisitForm::default()
    };
    let mut current = current;
    if let (false, Some(session)) = (query.search.is_empty(), current.ctx.session_token_hash) {
        match searches::terms(&state.db, &session, searches::Kind::Visits, &query.search).await? {
            Some(terms) => return results(&state, &current, unit_id, &terms).await,
            None => current.ctx.flash = Some("Sökningen finns inte längre (den hörde till en tidigare inloggning). Sök igen.".into()),
        }
    }
    if let Ok(visit_id) = query.checked_in.parse::<i64>() {
        let visit = sqlx::query!(
            r#"SELECT p.first_name || ' ' || p.last_name AS "name!", v.checked_in_at, v.visit_on, v.backfilled
               FROM visits v JOIN participants p ON p.id = v.participant_id
               WHERE v.id = $1 AND v.unit_id = $2 AND v.cancelled_at IS NULL"#,
            visit_id,
            unit_id as _
        )
        .fetch_optional(&state.db)
        .await?;
        if let Some(v) = visit {
            let today = state.clock.today();
            current.ctx.flash = Some(match (query.earlier == "1", v.visit_on == today) {
                (true, true) => format!("{} är redan incheckad i dag, sedan kl. {}.", v.name, clock_time(v.checked_in_at)),
                (true, false) => format!("{} har redan ett besök registrerat {}.", v.name, v.visit_on),
                (false, _) if v.backfilled => format!("Besöket {} är registrerat för {}.", v.visit_on, v.name),
                (false, _) => format!("{} är incheckad kl. {}.", v.name, clock_time(v.checked_in_at)),
            });
        }
    }
    render(&state, &current, unit_id, form, None, String::new(), None).await
}

/// The day a form is for: today, or a past day for a visit logged afterwards.
fn visit_day(form: &VisitForm, today: NaiveDate) -> Result<NaiveDate, String> {
    match optional_date(&form.visit_on) {
        Ok(None) => Ok(today),
        Ok(Some(day)) if day > today => Err("Ett besök kan inte registreras i förväg.".into()),
        Ok(Some(day)) if day < today - chrono::Duration::days(366) => Err("Besök registreras i efterhand högst ett år bakåt.".into()),
        Ok(Some(day)) => Ok(day),
        Err(message) => Err(message.into()),
    }
}

/// The upper bound of a prefix range: every string that starts with
/// `prefix` sorts (bytewise) at or above `prefix` and below this.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The people of the unit whose names start with the words typed (and, when
/// `may_check_in`, the visit of a single match: see `store::search_and_check_in`).
/// `None` when fewer than two letters were typed.
async fn find(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    form: &VisitForm,
    day: NaiveDate,
    may_check_in: bool,
) -> AppResult<Option<Vec<store::SearchRow>>> {
    let words: Vec<String> = form
        .q
        .to_lowercase()
        .split_whitespace()
        .map(|w| w.replace(['\\', '%', '_'], ""))
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().map(|w| w.chars().count()).sum::<usize>() < 2 {
        return Ok(None);
    }
    // The first word starts the first or the last name; a second word must
    // start the other. Prefix ranges with the pattern operators use the
    // name indexes whatever plan PostgreSQL keeps for the statement.
    let first = words[0].clone();
    let first_end = prefix_end(&first);
    let second = words.get(1).cloned();
    let second_end = second.as_deref().map(prefix_end);
    let rows = store::search_and_check_in(
        &state.db,
        &store::Search {
            unit_id,
            first: &first,
            first_end: &first_end,
            second: second.as_deref(),
            second_end: second_end.as_deref(),
            day,
            limit: MAX_HITS,
            by: &current.user,
            at: state.clock.now(),
            may_check_in,
            open_by_default: crate::domain::calendar::open_by_default(day),
            backfilled: day != state.clock.today(),
        },
    )
    .await?;
    Ok(Some(rows))
}

async fn search(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: axum::http::HeaderMap,
    FormData(form): FormData<VisitForm>,
) -> AppResult<Response> {
    // The search as you type asks for the hits only, and never logs a visit.
    let live = headers.contains_key("x-live-search");
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let now = state.clock.now();
    let today = state.clock.today();
    let day = match visit_day(&form, today) {
        Ok(day) => day,
        Err(message) => return render(&state, &current, unit_id, form, None, message, None).await,
    };
    let Some(rows) = find(&state, &current, unit_id, &form, day, !live).await? else {
        if live {
            return Ok(Html(String::new()).into_response());
        }
        return render(
            &state,
            &current,
            unit_id,
            form,
            None,
            "Skriv minst två bokstäver av namnet.".into(),
            None,
        )
        .await;
    };
    if let Some(visit_id) = rows.first().and_then(|r| r.visit_id) {
        // Logged: the page shows the confirmation (and an undo) for this visit.
        return Ok(Redirect::to(&format!("/visits?unit={unit_id}&checked_in={visit_id}")).into_response());
    }
    if let [row] = &rows[..]
        && let Some(visit_id) = row.earlier_visit_id
        && !live
    {
        // Enter on someone who already came that day: the page says since when.
        return Ok(Redirect::to(&format!("/visits?unit={unit_id}&checked_in={visit_id}&earlier=1")).into_response());
    }
    let day_facts = rows.first().map(|r| (r.exception.clone(), r.young_time));
    let hits = hits_of(rows);
    if live {
        let fragment = HitsFragment {
            hits: Some(hits),
            csrf_token: current.ctx.csrf_token.clone(),
            unit_id,
            visit_on: form.visit_on.clone(),
            today,
            focus_on: None,
        };
        return Ok(Html(fragment.render()?).into_response());
    }
    // Enter on a name that matches one person: log the visit at once (or say it is already logged).
    if let ([hit], Some((exception, young_time))) = (&hits[..], day_facts) {
        let person = Person {
            id: hit.id,
            name: hit.name.clone(),
            birth_date: hit.birth_date,
            status: hit.status,
            unit_id,
            exception,
            young_time,
        };
        return decide(&state, &current, person, day, form).await;
    }
    // Several people or none: the results are a page of their own (POST,
    // redirect, GET), so Back and reload work; the URL holds no name.
    let Some(session) = current.ctx.session_token_hash else {
        return Err(AppError::Forbidden);
    };
    let terms = [("q", form.q.as_str()), ("visit_on", form.visit_on.as_str())];
    let id = searches::keep(&state.db, &session, searches::Kind::Visits, &terms, now).await?;
    Ok(Redirect::to(&format!("/visits?unit={unit_id}&search={id}")).into_response())
}

fn hits_of(rows: Vec<store::SearchRow>) -> Vec<Hit> {
    rows.into_iter()
        .map(|r| Hit {
            id: r.id,
            name: r.name,
            birth_date: r.birth_date,
            status: r.status,
            visited: r.earlier_visit_id.is_some(),
        })
        .collect()
}

/// The results of a kept search: the same people, now without checking anyone in.
async fn results(state: &AppState, current: &CurrentUser, unit_id: UnitId, terms: &[(String, String)]) -> AppResult<Response> {
    let form = VisitForm {
        unit_id: unit_id.to_string(),
        q: searches::term(terms, "q").to_string(),
        visit_on: searches::term(terms, "visit_on").to_string(),
        ..VisitForm::default()
    };
    let day = match visit_day(&form, state.clock.today()) {
        Ok(day) => day,
        Err(message) => return render(state, current, unit_id, form, None, message, None).await,
    };
    let hits = hits_of(find(state, current, unit_id, &form, day, false).await?.unwrap_or_default());
    let error = if hits.is_empty() {
        format!("Ingen deltagare på enheten matchar ”{}”.", form.q.trim())
    } else {
        String::new()
    };
    render(state, current, unit_id, form, Some(hits), error, None).await
}

async fn check_in(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<VisitForm>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let now = state.clock.now();
    let participant_id = form
        .participant_id
        .parse::<ParticipantId>()
        .map_err(|_| AppError::BadRequest("no participant"))?;
    let day = match visit_day(&form, state.clock.today()) {
        Ok(day) => day,
        Err(message) => return render(&state, &current, unit_id, form, None, message, None).await,
    };
    let person = store::person_on(&state.db, participant_id, day, now)
        .await?
        .ok_or(AppError::NotFound)?;
    // The session holds the user's units: someone else's participant is refused and logged.
    if !current.user.unit_ids.contains(&person.unit_id) {
        access::log(&state.db, &current.user, &[participant_id], Action::Denied, now).await?;
        return Err(AppError::Forbidden);
    }
    if person.unit_id != unit_id {
        return Err(AppError::Forbidden);
    }
    decide(&state, &current, person, day, form).await
}

/// Checks the person in under the rules, then shows the desk again: with the
/// message, the refusal, or the question for a yes in Yngre Lotsen time.
async fn decide(state: &AppState, current: &CurrentUser, person: Person, day: NaiveDate, form: VisitForm) -> AppResult<Response> {
    let unit_id = person.unit_id;
    let stamp = current.stamp(state.clock.now());
    match store::check_in(&state.db, person, day, state.clock.today(), form.confirm == "yes", stamp).await? {
        CheckIn::Logged(message) => {
            current.flash(&message);
            Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
        }
        CheckIn::Refused(message) => render(state, current, unit_id, form, None, message, None).await,
        CheckIn::NeedsYes(person) => {
            let hit = Hit {
                id: person.id,
                name: person.name,
                birth_date: person.birth_date,
                status: person.status,
                visited: false,
            };
            render(state, current, unit_id, form, None, String::new(), Some(hit)).await
        }
    }
}

async fn cancel(State(state): State<AppState>, visit: Authorized<VisitId>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, unit_id) = (&visit.current, visit.unit_id);
    let message = match store::cancel_visit(&state.db, visit.id, current.stamp(now)).await? {
        Some(name) => format!("Incheckningen av {name} är ångrad."),
        None => "Incheckningen var redan ångrad.".to_string(),
    };
    current.flash(&message);
    Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
}

async fn check_out(State(state): State<AppState>, visit: Authorized<VisitId>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, unit_id) = (&visit.current, visit.unit_id);
    if store::check_out(&state.db, visit.id, now).await? {
        current.flash(&format!("Utcheckad kl. {}.", clock_time(now)));
    }
    Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DropInForm {
    unit_id: String,
    gender: String,
    /// "1" adds a visitor, "-1" takes one away (a mistake).
    change: String,
}

async fn drop_in(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<DropInForm>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let gender = Gender::parse(&form.gender).ok_or(AppError::BadRequest("unknown gender"))?;
    let change: i32 = match form.change.as_str() {
        "1" => 1,
        "-1" => -1,
        _ => return Err(AppError::BadRequest("unknown change")),
    };
    let today = state.clock.today();
    if let Some(why) = closed_because(today, exception_on(&state.db, unit_id, today).await?) {
        current.flash(&format!("Besök kan inte registreras i dag: {why}."));
        return Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response());
    }
    // Never below zero: a take-away with nothing to take changes nothing.
    store::count_drop_in(&state.db, unit_id, today, gender, change).await?;
    let message = if change > 0 {
        format!("Ett besök utan registrering är räknat ({}).", gender.label().to_lowercase())
    } else {
        format!("Ett besök utan registrering är borttaget ({}).", gender.label().to_lowercase())
    };
    current.flash(&message);
    Ok(Redirect::to(&format!("/visits?unit={unit_id}#drop-in")).into_response())
}
