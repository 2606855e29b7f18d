//! The forms on the personakt that change its facts: status (avslut and
//! return), kontaktman, boendestöd, närstående/företrädare and samtycken.
//! A refused form shows the personakt again with the message beside the field.

use super::model::{ConsentScope, EndReason, ParticipantStatus, RelativeKind};
use super::queries::Tx;
use super::record::{Typed, render_show};
use crate::access::Authorized;
use crate::audit;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::ids::{ConsentId, ParticipantId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_date, optional_text, required_date, required_text};
use crate::web::routes::{Routes, post};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/status", post(change_status))
        .route("/participants/{id}/key-worker", post(assign_key_worker))
        .route("/participants/{id}/home-support", post(add_home_support))
        .route("/participants/{id}/relatives", post(add_relative))
        .route("/participants/{id}/consents", post(add_consent))
        .route("/participants/{id}/consents/{consent_id}/withdraw", post(withdraw_consent))
}

#[allow(clippy::too_many_arguments)]
pub async fn add_status_event(
    tx: &mut Tx<'_>,
    participant_id: ParticipantId,
    status: ParticipantStatus,
    effective_on: NaiveDate,
    end_reason: Option<EndReason>,
    note: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO participant_status_events (participant_id, status, effective_on, end_reason, note, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        participant_id as _,
        status.code(),
        effective_on,
        end_reason.map(EndReason::code),
        note,
        by,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Saved: back to the personakt, at the section that changed.
async fn saved(state: &AppState, current: &CurrentUser, id: i64, anchor: &str, message: &str) -> AppResult<Response> {
    current.flash(&state.db, message).await?;
    Ok(Redirect::to(&format!("/participants/{id}#{anchor}")).into_response())
}

async fn change_status(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let status = ParticipantStatus::parse(&typed.status);
    if status.is_none() {
        errors.add("status", "Välj status.");
    }
    let on = required_date(&typed.status_on).map_err(|m| errors.add("status_on", m)).ok();
    // The history stays in order: a change is dated today or earlier, and not before the last one.
    let latest = sqlx::query_scalar!(
        "SELECT max(effective_on) FROM participant_status_events WHERE participant_id = $1",
        id
    )
    .fetch_one(&state.db)
    .await?;
    if let Some(on) = on {
        if on > state.clock.today() {
            errors.add("status_on", "Datumet kan inte ligga i framtiden.");
        } else if latest.is_some_and(|latest| on < latest) {
            errors.add("status_on", "Datumet kan inte vara före den senaste statusändringen.");
        }
    }
    let current_status = sqlx::query_scalar!(
        r#"SELECT status AS "status: ParticipantStatus" FROM participants WHERE id = $1"#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    if status == Some(current_status) {
        errors.add("status", "Deltagaren har redan den statusen.");
    }
    let end_reason = EndReason::parse(&typed.end_reason);
    if status == Some(ParticipantStatus::Ended) && end_reason.is_none() {
        errors.add("end_reason", "Välj avslutsorsak.");
    }
    let note = optional_text(&typed.status_note, 1000)
        .map_err(|m| errors.add("status_note", m))
        .ok();
    let (Some(status), Some(on), Some(note), true) = (status, on, note, errors.is_empty()) else {
        return render_show(&state, &auth, "status", errors, typed).await;
    };
    let end_reason = if status == ParticipantStatus::Ended { end_reason } else { None };
    let mut tx = state.db.begin().await?;
    // Ending records the date and reason on the participant; coming back
    // clears them — on the same record, with the history kept in events.
    sqlx::query!(
        "UPDATE participants SET status = $2, ended_on = $3, end_reason = $4, updated_at = $5 WHERE id = $1",
        id,
        status.code(),
        end_reason.map(|_| on),
        end_reason.map(EndReason::code),
        now
    )
    .execute(&mut *tx)
    .await?;
    add_status_event(&mut tx, auth.id, status, on, end_reason, &note, current.user.id, now).await?;
    if status == ParticipantStatus::Ended {
        // An ended participant has no current kontaktman.
        sqlx::query!(
            "UPDATE key_worker_assignments SET to_on = greatest(from_on, $2) WHERE participant_id = $1 AND to_on IS NULL",
            id,
            on
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::Entry::new(Some(current.user.id), "participant_status")
        .record("participant", id)
        .details(status.code())
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(
        &state,
        current,
        id,
        "status",
        &format!("Status är nu {}.", status.label().to_lowercase()),
    )
    .await
}

async fn assign_key_worker(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id, unit_id) = (&auth.current, auth.id.get(), auth.unit_id.get());
    let mut errors = FieldErrors::default();
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let user_id = typed.key_worker_id.parse::<i64>().ok().filter(|u| staff.iter().any(|s| s.id == *u));
    if user_id.is_none() {
        errors.add("key_worker_id", "Välj en medarbetare på deltagarens enhet.");
    }
    let from = required_date(&typed.key_worker_from)
        .map_err(|m| errors.add("key_worker_from", m))
        .ok();
    if from.is_some_and(|f| f > state.clock.today()) {
        errors.add("key_worker_from", "Datumet kan inte ligga i framtiden.");
    }
    let status = sqlx::query_scalar!(
        r#"SELECT status AS "status: ParticipantStatus" FROM participants WHERE id = $1"#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    if status == ParticipantStatus::Ended {
        errors.add("key_worker_id", "Deltagaren är avslutad. Registrera återkomsten först.");
    }
    let current_period = sqlx::query!(
        "SELECT user_id, from_on FROM key_worker_assignments WHERE participant_id = $1 AND to_on IS NULL",
        id
    )
    .fetch_optional(&state.db)
    .await?;
    if let (Some(period), Some(from)) = (&current_period, from) {
        if from <= period.from_on {
            errors.add("key_worker_from", "Datumet måste vara efter att nuvarande kontaktman utsågs.");
        }
        if user_id == Some(period.user_id) {
            errors.add("key_worker_id", "Det är redan deltagarens kontaktman.");
        }
    }
    let (Some(user_id), Some(from), true) = (user_id, from, errors.is_empty()) else {
        return render_show(&state, &auth, "key_worker", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    // The previous kontaktman's period ends the day before the new one starts.
    sqlx::query!(
        "UPDATE key_worker_assignments SET to_on = $2 WHERE participant_id = $1 AND to_on IS NULL",
        id,
        from.pred_opt().unwrap_or(from)
    )
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query!(
        "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        user_id,
        from,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await;
    if let Err(err) = inserted {
        // Periods may not overlap (an exclusion constraint), nor two be current at once.
        let overlap = matches!(&err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01") || db.is_unique_violation());
        if !overlap {
            return Err(err.into());
        }
        drop(tx);
        errors.add(
            "key_worker_from",
            "Perioden krockar med en tidigare kontaktman. Välj ett senare datum.",
        );
        return render_show(&state, &auth, "key_worker", errors, typed).await;
    }
    audit::Entry::new(Some(current.user.id), "key_worker_assigned")
        .record("participant", id)
        .details(&format!("användare {user_id}"))
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "key-worker", "Kontaktman är utsedd.").await
}

/// "4,5" and "4.5" both mean four and a half hours.
pub fn parse_hours(value: &str) -> Result<Option<f64>, &'static str> {
    let value = value.trim().replace(',', ".");
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<f64>() {
        Ok(h) if (0.0..=168.0).contains(&h) && (h * 100.0).fract() == 0.0 => Ok(Some(h)),
        _ => Err("Skriv timmar per vecka som ett tal, t.ex. 4,5."),
    }
}

async fn add_home_support(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let from = required_date(&typed.support_from).map_err(|m| errors.add("support_from", m)).ok();
    if from.is_some_and(|f| f > state.clock.today()) {
        errors.add("support_from", "Datumet kan inte ligga i framtiden.");
    }
    let has_support = match typed.has_support.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    if has_support.is_none() {
        errors.add("has_support", "Ange om personen har boendestöd.");
    }
    let provider = optional_text(&typed.support_provider, 200)
        .map_err(|m| errors.add("support_provider", m))
        .ok();
    let hours = parse_hours(&typed.support_hours)
        .map_err(|m| errors.add("support_hours", m))
        .ok()
        .flatten();
    if has_support == Some(false) && hours.is_some_and(|h| h > 0.0) {
        errors.add("support_hours", "Utan boendestöd ska timmarna vara tomma eller 0.");
    }
    let (Some(from), Some(has_support), Some(provider), true) = (from, has_support, provider, errors.is_empty()) else {
        return render_show(&state, &auth, "home_support", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO home_support_entries (participant_id, valid_from, has_support, provider, hours_per_week, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5::float8::numeric, $6, $7)",
        id,
        from,
        has_support,
        provider,
        hours,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    // The participant's flag follows the latest entry (the priority group).
    sqlx::query!(
        "UPDATE participants SET has_home_support = coalesce((SELECT has_support FROM home_support_entries
             WHERE participant_id = $1 ORDER BY valid_from DESC, id DESC LIMIT 1), false) WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "home_support_recorded")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "home-support", "Boendestödet är registrerat.").await
}

async fn add_relative(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let kind = RelativeKind::parse(&typed.relative_kind);
    if kind.is_none() {
        errors.add("relative_kind", "Välj närstående eller företrädare.");
    }
    let name = required_text(&typed.relative_name, "namn", 200)
        .map_err(|m| errors.add("relative_name", m))
        .ok();
    let relation = optional_text(&typed.relative_relation, 100)
        .map_err(|m| errors.add("relative_relation", m))
        .ok();
    let phone = optional_text(&typed.relative_phone, 40)
        .map_err(|m| errors.add("relative_phone", m))
        .ok();
    let email = optional_text(&typed.relative_email, 254)
        .map_err(|m| errors.add("relative_email", m))
        .ok();
    let note = optional_text(&typed.relative_note, 1000)
        .map_err(|m| errors.add("relative_note", m))
        .ok();
    let (Some(kind), Some(name), Some(relation), Some(phone), Some(email), Some(note), true) =
        (kind, name, relation, phone, email, note, errors.is_empty())
    else {
        return render_show(&state, &auth, "relative", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO relatives (participant_id, kind, name, relation, phone, email, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        kind.code(),
        name,
        relation,
        phone,
        email,
        note,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "relative_added")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "relatives", &format!("{} är tillagd.", kind.label())).await
}

async fn add_consent(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let scope = ConsentScope::parse(&typed.consent_scope);
    if scope.is_none() {
        errors.add("consent_scope", "Välj vad samtycket gäller.");
    }
    let note = optional_text(&typed.consent_note, 300)
        .map_err(|m| errors.add("consent_note", m))
        .ok();
    if scope == Some(ConsentScope::Other) && note.as_deref().is_some_and(str::is_empty) {
        errors.add("consent_note", "Beskriv vad samtycket gäller.");
    }
    let given = required_date(&typed.consent_given).map_err(|m| errors.add("consent_given", m)).ok();
    if given.is_some_and(|g| g > state.clock.today()) {
        errors.add("consent_given", "Datumet kan inte ligga i framtiden.");
    }
    let (Some(scope), Some(note), Some(given), true) = (scope, note, given, errors.is_empty()) else {
        return render_show(&state, &auth, "consent", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO consents (participant_id, scope, scope_note, given_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        scope.code(),
        note,
        given,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "consent_given")
        .record("participant", id)
        .details(scope.code())
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "consents", "Samtycket är registrerat.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WithdrawForm {
    withdrawn_on: String,
}

async fn withdraw_consent(
    State(state): State<AppState>,
    consent: Authorized<ConsentId>,
    FormData(form): FormData<WithdrawForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id, consent_id) = (&consent.current, consent.participant()?.get(), consent.id.get());
    let on = optional_date(&form.withdrawn_on).ok().flatten().unwrap_or(state.clock.today());
    let mut tx = state.db.begin().await?;
    let done = sqlx::query!(
        "UPDATE consents SET withdrawn_on = greatest(given_on, $3) WHERE id = $2 AND participant_id = $1 AND withdrawn_on IS NULL",
        id,
        consent_id,
        on
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::Entry::new(Some(current.user.id), "consent_withdrawn")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "consents", "Samtycket är återkallat.").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_accept_a_decimal_comma() {
        assert_eq!(parse_hours("4,5"), Ok(Some(4.5)));
        assert_eq!(parse_hours("10"), Ok(Some(10.0)));
        assert_eq!(parse_hours(""), Ok(None));
        assert!(parse_hours("fyra").is_err());
        assert!(parse_hours("-1").is_err());
        assert!(parse_hours("4,555").is_err());
    }
}
