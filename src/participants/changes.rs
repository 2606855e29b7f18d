//! The forms on the personakt that change its facts: status (avslut and
//! return), kontaktman, boendestöd, närstående/företrädare and samtycken.
//! Each handler reads its form, calls one command of `store.rs`, and either
//! goes back to the personakt or shows it again with the message beside the
//! field and what was typed.

use super::model::{ConsentScope, EndReason, ParticipantStatus};
use super::record::{Typed, render_show};
use super::store::{self, HomeSupport, StatusChange};
use crate::access::Authorized;
use crate::db::Refused;
use crate::error::AppResult;
use crate::ids::{ConsentId, ParticipantId, UserId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_date, optional_text, required_date};
use crate::web::routes::{Routes, post};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/status", post(change_status))
        .route("/participants/{id}/key-worker", post(assign_key_worker))
        .route("/participants/{id}/home-support", post(add_home_support))
        .route("/participants/{id}/relatives", post(add_relative))
        .route("/participants/{id}/consents", post(add_consent))
        .route("/participants/{id}/consents/{consent_id}/withdraw", post(withdraw_consent))
        .route("/participants/{id}/protected-identity", post(set_protected_identity))
}

/// After a command: back to the personakt at the section that changed, or
/// the personakt again with the refusal beside its field.
async fn answer(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    result: Result<(), Refused>,
    section: (&'static str, &str),
    message: &str,
    typed: Typed,
) -> AppResult<Response> {
    let (form, anchor) = section;
    match result {
        Ok(()) => {
            auth.current.flash(message);
            Ok(Redirect::to(&format!("/participants/{}#{anchor}", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render_show(state, auth, form, errors, typed).await
        }
    }
}

async fn change_status(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let status = ParticipantStatus::parse(&typed.status);
    if status.is_none() {
        errors.add("status", "Välj status.");
    }
    let on = required_date(&typed.status_on).map_err(|m| errors.add("status_on", m)).ok();
    let note = optional_text(&typed.status_note, 1000)
        .map_err(|m| errors.add("status_note", m))
        .ok();
    let (Some(status), Some(on), Some(note), true) = (status, on, note, errors.is_empty()) else {
        return render_show(&state, &auth, "status", errors, typed).await;
    };
    let change = StatusChange {
        status,
        on,
        end_reason: EndReason::parse(&typed.end_reason),
        note: &note,
    };
    let result = store::change_status(
        &state.db,
        auth.id,
        change,
        state.clock.today(),
        auth.current.stamp(state.clock.now()),
    )
    .await?;
    let message = format!("Status är nu {}.", status.label().to_lowercase());
    answer(&state, &auth, result, ("status", "status"), &message, typed).await
}

async fn assign_key_worker(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let staff = crate::users::queries::staff_of_units(&state.db, &[auth.unit_id]).await?;
    let user = typed
        .key_worker_id
        .parse::<UserId>()
        .ok()
        .filter(|u| staff.iter().any(|s| s.id == *u));
    if user.is_none() {
        errors.add("key_worker_id", "Välj en medarbetare på deltagarens enhet.");
    }
    let from = required_date(&typed.key_worker_from)
        .map_err(|m| errors.add("key_worker_from", m))
        .ok();
    let (Some(user), Some(from), true) = (user, from, errors.is_empty()) else {
        return render_show(&state, &auth, "key_worker", errors, typed).await;
    };
    let result = store::assign_key_worker(
        &state.db,
        auth.id,
        user,
        from,
        state.clock.today(),
        auth.current.stamp(state.clock.now()),
    )
    .await?;
    answer(&state, &auth, result, ("key_worker", "key-worker"), "Kontaktman är utsedd.", typed).await
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
    let mut errors = FieldErrors::default();
    let from = required_date(&typed.support_from).map_err(|m| errors.add("support_from", m)).ok();
    let has_support = crate::web::form::yes_no(&typed.has_support);
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
    let reason = optional_text(&typed.support_correction_reason, 1000)
        .map_err(|m| errors.add("support_correction_reason", m))
        .ok();
    let (Some(from), Some(has_support), Some(provider), Some(reason), true) = (from, has_support, provider, reason, errors.is_empty())
    else {
        return render_show(&state, &auth, "home_support", errors, typed).await;
    };
    let entry = HomeSupport {
        from,
        has_support,
        provider: &provider,
        hours,
        correction_reason: &reason,
    };
    let result = store::record_home_support(
        &state.db,
        auth.id,
        entry,
        state.clock.today(),
        auth.current.stamp(state.clock.now()),
    )
    .await?;
    answer(
        &state,
        &auth,
        result,
        ("home_support", "home-support"),
        "Boendestödet är registrerat.",
        typed,
    )
    .await
}

async fn add_relative(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let fields = super::relatives::read(
        &typed.relative_kind,
        &typed.relative_name,
        &typed.relative_relation,
        &typed.relative_phone,
        &typed.relative_email,
        &typed.relative_note,
        &mut errors,
    );
    let (Some(fields), true) = (fields, errors.is_empty()) else {
        return render_show(&state, &auth, "relative", errors, typed).await;
    };
    let kind = fields.kind;
    let relative = fields.as_new();
    let result = store::add_relative(&state.db, auth.id, relative, auth.current.stamp(state.clock.now())).await?;
    let message = format!("{} är tillagd.", kind.label());
    answer(&state, &auth, result.map(|_| ()), ("relative", "relatives"), &message, typed).await
}

async fn add_consent(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let scope = ConsentScope::parse(&typed.consent_scope);
    if scope.is_none() {
        errors.add("consent_scope", "Välj vad samtycket gäller.");
    }
    let note = optional_text(&typed.consent_note, 300)
        .map_err(|m| errors.add("consent_note", m))
        .ok();
    let given = required_date(&typed.consent_given).map_err(|m| errors.add("consent_given", m)).ok();
    let partner = match typed.consent_partner.trim() {
        "" => Some(None),
        id => id.parse::<crate::ids::PartnerId>().ok().map(Some),
    };
    if partner.is_none() {
        errors.add("consent_partner", "Välj organisationen i listan.");
    }
    let (Some(scope), Some(note), Some(given), Some(partner), true) = (scope, note, given, partner, errors.is_empty()) else {
        return render_show(&state, &auth, "consent", errors, typed).await;
    };
    let today = state.clock.today();
    let consent = store::NewConsent {
        scope,
        partner,
        note: &note,
        given,
    };
    let result = store::give_consent(&state.db, auth.id, consent, today, auth.current.stamp(state.clock.now())).await?;
    answer(&state, &auth, result, ("consent", "consents"), "Samtycket är registrerat.", typed).await
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
    let auth = consent.as_participant()?;
    let typed = Typed {
        consent_id: consent.id.to_string(),
        withdrawn_on: form.withdrawn_on.clone(),
        ..Typed::default()
    };
    let result = match optional_date(&form.withdrawn_on) {
        Ok(on) => {
            let (today, now) = (state.clock.today(), state.clock.now());
            let on = on.unwrap_or(today);
            store::withdraw_consent(&state.db, auth.id, consent.id, on, today, auth.current.stamp(now)).await?
        }
        Err(message) => Err(Refused {
            field: "withdrawn_on",
            message: message.into(),
        }),
    };
    answer(&state, &auth, result, ("withdraw", "consents"), "Samtycket är återkallat.", typed).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProtectedForm {
    protected: Option<String>,
}

/// Skyddade personuppgifter: marked or cleared by a manager or by staff named
/// on the person.
async fn set_protected_identity(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<ProtectedForm>,
) -> AppResult<Response> {
    let current = &auth.current;
    if current.user.role != crate::auth::Role::Manager && !super::queries::in_caseload(&state.db, auth.id, current.user.id).await? {
        return Err(crate::error::AppError::Forbidden);
    }
    let protected = form.protected.is_some();
    store::set_protected_identity(&state.db, auth.id, protected, current.stamp(state.clock.now())).await?;
    current.flash(if protected {
        "Personen är markerad med skyddade personuppgifter."
    } else {
        "Markeringen för skyddade personuppgifter är borttagen."
    });
    Ok(Redirect::to(&format!("/participants/{}#details", auth.id)).into_response())
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
