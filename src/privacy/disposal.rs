//! Gallring (issue 18, point 2). Once a year per unit a manager draws the
//! list: people whose last entry of any kind (`last_entry_on`, migration
//! 0032) is more than the retention years old (`LOTSEN_RETENTION_YEARS`) and
//! who have no active effort. The rule of when is `domain::retention`, here
//! in Rust: the statement only finds each person's last entry. People born on
//! the 5th, 15th or 25th are listed to be kept for research (bevaras) while
//! `LOTSEN_KEEP_FOR_RESEARCH` is on. The manager may hold a person (a legal
//! hold, with a reason), then approves: in one transaction each person on the
//! list is disposed of (`dispose_participant`: personal data deleted, rows the
//! statistics need made anonymous), the research group is marked kept, and the
//! list is emptied; the round keeps its date, approver and counts, no names.

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::{Kept, in_transaction};
use crate::domain::retention::Retention;
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UnitId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

pub fn routes() -> Routes {
    Routes::new()
        .route("/disposal", get(list))
        .route("/disposal/{unit}/{year}", get(show))
        .route("/disposal/{unit}/{year}/draw", post(draw))
        .route("/disposal/{unit}/{year}/hold", post(hold))
        .route("/disposal/{unit}/{year}/approve", post(approve))
}

coded! {
    /// What the round does with a person on its list.
    Decision {
        Dispose = "dispose" => "Gallras",
        KeptForResearch = "kept_for_research" => "Bevaras för forskning",
        Hold = "hold" => "Undantas (rättsligt skäl)",
    }
}
stored_as_code!(Decision);

/// What a person on the list gets, by the rule in force: kept for research,
/// or disposed of; None when the years have not passed.
pub fn decision(retention: Retention, birth: NaiveDate, last_entry: NaiveDate, today: NaiveDate) -> Option<Decision> {
    if !retention.due(last_entry, today) {
        return None;
    }
    Some(if retention.kept_for_research(birth) {
        Decision::KeptForResearch
    } else {
        Decision::Dispose
    })
}

/// The path's unit and year; only this year's round or earlier ones.
fn parse_path(current: &CurrentUser, unit: i64, year: i32, today: NaiveDate) -> AppResult<UnitId> {
    let unit = UnitId::from(unit);
    current.require_manager_of(unit)?;
    if year > today.year() || year < 2000 {
        return Err(AppError::NotFound);
    }
    Ok(unit)
}

/// A round, as stored.
pub struct Round {
    pub id: i64,
    pub drawn_on: NaiveDate,
    pub retention_years: i32,
    pub keep_for_research: bool,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub disposed: Option<i32>,
    pub kept_for_research: Option<i32>,
    pub held: Option<i32>,
}

impl Round {
    pub fn approved_text(&self) -> String {
        match (&self.approved_by, self.approved_at) {
            (Some(by), Some(at)) => format!(
                "Godkänd av {by} {}: {} gallrade, {} bevarade för forskning, {} undantagna.",
                crate::web::format::local_time(at),
                self.disposed.unwrap_or(0),
                self.kept_for_research.unwrap_or(0),
                self.held.unwrap_or(0)
            ),
            _ => String::new(),
        }
    }
}

async fn round_of(state: &AppState, unit: UnitId, year: i32) -> AppResult<Option<Round>> {
    Ok(sqlx::query_as!(
        Round,
        r#"SELECT r.id, r.drawn_on, r.retention_years, r.keep_for_research, r.approved_at, u.name AS "approved_by?",
                  r.disposed, r.kept_for_research, r.held
           FROM disposal_rounds r LEFT JOIN users u ON u.id = r.approved_by
           WHERE r.unit_id = $1 AND r.year = $2"#,
        unit as _,
        year
    )
    .fetch_optional(&state.db)
    .await?)
}

/// A person on the list.
pub struct Candidate {
    pub participant_id: ParticipantId,
    pub name: String,
    pub birth_date: NaiveDate,
    pub last_entry_on: NaiveDate,
    pub decision: Decision,
    pub hold_reason: String,
}

/// A unit's round of a year, for the list page.
pub struct RoundRow {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub drawn: bool,
    pub approved: bool,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "privacy/disposals.html")]
struct ListPage {
    layout: Layout,
    year: i32,
    rows: Vec<RoundRow>,
    retention: Retention,
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Manager])?;
    let year = state.clock.today().year();
    let units = sqlx::query!(
        r#"SELECT u.id AS "id: UnitId", u.name FROM units u WHERE u.id = ANY($1) ORDER BY u.name"#,
        &current.user.unit_ids as _
    )
    .fetch_all(&state.db)
    .await?;
    let mut rows = Vec::with_capacity(units.len());
    for unit in units {
        let round = round_of(&state, unit.id, year).await?;
        rows.push(RoundRow {
            unit_id: unit.id,
            unit_name: unit.name,
            drawn: round.is_some(),
            approved: round.as_ref().is_some_and(|r| r.approved_at.is_some()),
            summary: match &round {
                Some(r) if r.approved_at.is_some() => r.approved_text(),
                Some(r) => format!("Listan togs fram {}; den väntar på godkännande.", r.drawn_on),
                None => "Inte påbörjad.".into(),
            },
        });
    }
    let page = ListPage {
        layout: Layout::new(&current.ctx, "disposal"),
        year,
        rows,
        retention: state.config.retention,
    };
    crate::web::page(&page, false)
}

#[derive(Template)]
#[template(path = "privacy/disposal.html")]
struct RoundPage {
    layout: Layout,
    unit_name: String,
    year: i32,
    path: String,
    round: Option<Round>,
    candidates: Vec<Candidate>,
    today: NaiveDate,
    errors: FieldErrors,
}

impl RoundPage {
    fn dispose_by(&self, c: &Candidate) -> NaiveDate {
        let years = self.round.as_ref().map_or(5, |r| r.retention_years.max(1) as u32);
        Retention {
            years,
            keep_for_research: true,
        }
        .dispose_by(c.last_entry_on)
    }
    fn count(&self, decision: Decision) -> usize {
        self.candidates.iter().filter(|c| c.decision == decision).count()
    }
}

async fn round_page(state: &AppState, current: &CurrentUser, unit: UnitId, year: i32, errors: FieldErrors) -> AppResult<Response> {
    let unit_name = sqlx::query_scalar!("SELECT name FROM units WHERE id = $1", unit as _)
        .fetch_one(&state.db)
        .await?;
    let round = round_of(state, unit, year).await?;
    let candidates = match &round {
        Some(round) => {
            sqlx::query_as!(
                Candidate,
                r#"SELECT c.participant_id AS "participant_id: ParticipantId", p.first_name || ' ' || p.last_name AS "name!",
                      p.birth_date, c.last_entry_on, c.decision AS "decision: Decision", c.hold_reason
               FROM disposal_candidates c JOIN participants p ON p.id = c.participant_id
               WHERE c.round_id = $1 ORDER BY c.last_entry_on, p.last_name, p.first_name, p.id"#,
                round.id
            )
            .fetch_all(&state.db)
            .await?
        }
        None => Vec::new(),
    };
    let refused = !errors.is_empty();
    let page = RoundPage {
        layout: Layout::new(&current.ctx, "disposal"),
        unit_name,
        year,
        path: format!("/disposal/{unit}/{year}"),
        round,
        candidates,
        today: state.clock.today(),
        errors,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, current: CurrentUser, Path((unit, year)): Path<(i64, i32)>) -> AppResult<Response> {
    let unit = parse_path(&current, unit, year, state.clock.today())?;
    round_page(&state, &current, unit, year, FieldErrors::default()).await
}

/// Draws this year's list, once (a second press finds it drawn): the dry run.
async fn draw(State(state): State<AppState>, current: CurrentUser, Path((unit, year)): Path<(i64, i32)>) -> AppResult<Response> {
    let today = state.clock.today();
    let unit = parse_path(&current, unit, year, today)?;
    if year != today.year() {
        return Err(AppError::NotFound);
    }
    let retention = state.config.retention;
    let stamp = current.stamp(state.clock.now());
    in_transaction(&state.db, async |tx| {
        let Some(round) = sqlx::query_scalar!(
            "INSERT INTO disposal_rounds (unit_id, year, drawn_on, drawn_by, retention_years, keep_for_research)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (unit_id, year) DO NOTHING RETURNING id",
            unit as _,
            year,
            today,
            stamp.by as _,
            retention.years as i32,
            retention.keep_for_research
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(());
        };
        // Everyone without an active effort, with the day of their last entry;
        // the rule decides in Rust who is on the list.
        let people = sqlx::query!(
            r#"SELECT p.id AS "id: ParticipantId", p.birth_date, p.legal_hold, last_entry_on(p.id) AS "last_entry_on!"
               FROM participants p
               WHERE p.unit_id = $1 AND p.status <> 'active' AND p.disposed_on IS NULL AND p.kept_for_research_on IS NULL
                 AND NOT EXISTS (SELECT 1 FROM plans pl WHERE pl.participant_id = p.id AND pl.status = 'active')
                 AND NOT EXISTS (SELECT 1 FROM queue_entries q JOIN plans pl ON pl.id = q.plan_id
                                 WHERE pl.participant_id = p.id AND q.closed_on IS NULL)"#,
            unit as _
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut ids = Vec::new();
        let mut lasts = Vec::new();
        let mut decisions = Vec::new();
        let mut reasons = Vec::new();
        for person in people {
            if let Some(decision) = decision(retention, person.birth_date, person.last_entry_on, today) {
                // Held last year: held again, with the reason, until let go.
                let (decision, reason) = match person.legal_hold {
                    Some(reason) => (Decision::Hold, reason),
                    None => (decision, String::new()),
                };
                ids.push(person.id);
                lasts.push(person.last_entry_on);
                decisions.push(decision.code().to_string());
                reasons.push(reason);
            }
        }
        sqlx::query!(
            "INSERT INTO disposal_candidates (round_id, participant_id, last_entry_on, decision, hold_reason)
             SELECT $1, * FROM unnest($2::bigint[], $3::date[], $4::text[], $5::text[])",
            round,
            &ids as _,
            &lasts,
            &decisions,
            &reasons
        )
        .execute(&mut *tx)
        .await?;
        crate::audit::Entry::new(Some(stamp.by), "disposal_drawn")
            .record("unit", unit)
            .details(&format!("{year}: {} på listan", ids.len()))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/disposal/{unit}/{year}")).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct HoldForm {
    participant: String,
    hold_reason: String,
    /// "release" takes the hold away again.
    release: Option<String>,
}

/// Takes the round's row for this transaction; false when it is approved
/// already. Holds and approval both take it, so neither slips past the other.
async fn lock_open(tx: &mut sqlx::PgConnection, round: i64) -> Result<bool, sqlx::Error> {
    let open = sqlx::query_scalar!(
        "SELECT id FROM disposal_rounds WHERE id = $1 AND approved_at IS NULL FOR UPDATE",
        round
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(open.is_some())
}

/// Holds a person out of the round (a legal hold, with its reason), or lets go.
async fn hold(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((unit, year)): Path<(i64, i32)>,
    FormData(form): FormData<HoldForm>,
) -> AppResult<Response> {
    let today = state.clock.today();
    let unit = parse_path(&current, unit, year, today)?;
    let round = round_of(&state, unit, year).await?.ok_or(AppError::NotFound)?;
    if round.approved_at.is_some() {
        return Err(AppError::Conflict("Gallringen är redan godkänd."));
    }
    let participant = form
        .participant
        .parse::<ParticipantId>()
        .map_err(|_| AppError::BadRequest("malformed id"))?;
    let reason = form.hold_reason.trim().to_string();
    let mut errors = FieldErrors::default();
    if form.release.is_none() && reason.is_empty() {
        errors.add("hold_reason", "Skriv varför personen undantas (t.ex. pågående ärende i domstol).");
    } else if reason.chars().count() > 500 {
        errors.add("hold_reason", "Högst 500 tecken.");
    }
    if !errors.is_empty() {
        return round_page(&state, &current, unit, year, errors).await;
    }
    let birth = sqlx::query_scalar!("SELECT birth_date FROM participants WHERE id = $1", participant as _)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    // Let go, the person gets what the rule of the round says.
    let rule = Retention {
        years: round.retention_years.max(1) as u32,
        keep_for_research: round.keep_for_research,
    };
    let (decision, reason) = if form.release.is_some() {
        let back = if rule.kept_for_research(birth) {
            Decision::KeptForResearch
        } else {
            Decision::Dispose
        };
        (back, String::new())
    } else {
        (Decision::Hold, reason)
    };
    let stamp = current.stamp(state.clock.now());
    in_transaction(&state.db, async |tx| {
        // The round's row first, as approval takes it: a hold after approval is refused.
        if !lock_open(tx, round.id).await? {
            return Err(AppError::Conflict("Gallringen är redan godkänd."));
        }
        let changed = sqlx::query!(
            "UPDATE disposal_candidates SET decision = $3, hold_reason = $4 WHERE round_id = $1 AND participant_id = $2",
            round.id,
            participant as _,
            decision as Decision,
            reason
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        crate::audit::Entry::new(
            Some(stamp.by),
            if decision == Decision::Hold {
                "disposal_hold"
            } else {
                "disposal_hold_released"
            },
        )
        .record("participant", participant)
        .write(&mut *tx, stamp.at)
        .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/disposal/{unit}/{year}")).into_response())
}

/// Approves the round: everyone on the list disposed of or kept, in one
/// transaction; the list emptied; the counts kept.
async fn approve(State(state): State<AppState>, current: CurrentUser, Path((unit, year)): Path<(i64, i32)>) -> AppResult<Response> {
    let today = state.clock.today();
    let unit = parse_path(&current, unit, year, today)?;
    let round = round_of(&state, unit, year).await?.ok_or(AppError::NotFound)?;
    if round.approved_at.is_some() {
        return Err(AppError::Conflict("Gallringen är redan godkänd."));
    }
    let stamp = current.stamp(state.clock.now());
    let counts = in_transaction(&state.db, async |tx| {
        // Taken in the transaction, so a second approval waits and finds it done.
        if !lock_open(tx, round.id).await? {
            return Ok(Kept(None));
        }
        let list = sqlx::query!(
            r#"SELECT participant_id AS "participant_id: ParticipantId", decision AS "decision: Decision", hold_reason
               FROM disposal_candidates WHERE round_id = $1"#,
            round.id
        )
        .fetch_all(&mut *tx)
        .await?;
        let (mut disposed, mut kept_for_research, mut held, mut skipped) = (0, 0, 0, 0);
        for person in &list {
            match person.decision {
                Decision::Dispose => {
                    // False for someone with a new entry since the list was
                    // drawn: left as they are, counted apart.
                    let done = sqlx::query_scalar!(
                        r#"SELECT dispose_participant($1, $2) AS "done!""#,
                        person.participant_id as _,
                        round.id
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    if done {
                        disposed += 1;
                    } else {
                        skipped += 1;
                    }
                }
                Decision::KeptForResearch => {
                    sqlx::query!(
                        "UPDATE participants SET kept_for_research_on = $2, legal_hold = NULL WHERE id = $1",
                        person.participant_id as _,
                        today
                    )
                    .execute(&mut *tx)
                    .await?;
                    kept_for_research += 1;
                }
                Decision::Hold => {
                    // The hold and its reason stay with the person for next year's round.
                    sqlx::query!(
                        "UPDATE participants SET legal_hold = $2 WHERE id = $1",
                        person.participant_id as _,
                        person.hold_reason
                    )
                    .execute(&mut *tx)
                    .await?;
                    held += 1;
                }
            }
        }
        sqlx::query!("DELETE FROM disposal_candidates WHERE round_id = $1", round.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query!(
            "UPDATE disposal_rounds SET approved_at = $2, approved_by = $3, disposed = $4, kept_for_research = $5, held = $6 WHERE id = $1",
            round.id,
            stamp.at,
            stamp.by as _,
            disposed,
            kept_for_research,
            held
        )
        .execute(&mut *tx)
        .await?;
        // No names: the date, the approver and the counts.
        crate::audit::Entry::new(Some(stamp.by), "disposal_approved")
            .record("unit", unit)
            .details(&format!(
                "{year}: {disposed} gallrade, {kept_for_research} bevarade, {held} undantagna, {skipped} med nya uppgifter"
            ))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(Some((disposed, kept_for_research, held, skipped))))
    })
    .await?
    .0;
    if let Some((disposed, kept_for_research, held, skipped)) = counts {
        let later = if skipped > 0 {
            format!(" {skipped} har fått nya uppgifter sedan listan togs fram och gallras inte.")
        } else {
            String::new()
        };
        current.flash(&format!(
            "Gallringen är godkänd: {disposed} gallrade, {kept_for_research} bevarade för forskning, {held} undantagna.{later}"
        ));
    }
    Ok(Redirect::to(&format!("/disposal/{unit}/{year}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_follows_the_rule_in_force() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let rule = Retention::default();
        let today = d(2032, 3, 1);
        assert_eq!(decision(rule, d(1990, 1, 3), d(2026, 2, 1), today), Some(Decision::Dispose));
        assert_eq!(
            decision(rule, d(1990, 1, 15), d(2026, 2, 1), today),
            Some(Decision::KeptForResearch)
        );
        assert_eq!(
            decision(rule, d(1990, 1, 3), d(2027, 3, 1), today),
            None,
            "five years not yet passed"
        );
        let no_research = Retention {
            keep_for_research: false,
            ..rule
        };
        assert_eq!(decision(no_research, d(1990, 1, 15), d(2026, 2, 1), today), Some(Decision::Dispose));
    }
}
