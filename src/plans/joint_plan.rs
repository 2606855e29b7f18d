//! Samordnad plan (issue 19, point 2; GLOSSARY: `joint_plan`, Malmö's step):
//! made with the person and the partner organisations before a
//! förstegsträning or Team ISA plan is activated — who took part, what each
//! partner does, when it is reviewed next. One per person, kept with every
//! version; a save made from an older version is refused, the text kept.

use super::store::joint_plans::{self, CHANGED_SINCE, JointPlanVersion, Part};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::error::AppResult;
use crate::ids::{ParticipantId, PartnerId};
use crate::partners::{self, PartnerChoice, gate};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/joint-plan", get(show).post(save))
        .route("/participants/{id}/joint-plan/edit", get(edit))
}

pub struct VersionView {
    pub version: i32,
    pub agreed_on: NaiveDate,
    pub took_part: bool,
    pub aim: String,
    pub others_present: String,
    pub next_review_on: NaiveDate,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
    pub parts: Vec<PartView>,
}

impl VersionView {
    pub fn saved_when(&self) -> String {
        crate::web::format::local_time(self.saved_at)
    }
}

pub struct PartView {
    pub partner: String,
    pub person: String,
    pub task: String,
    /// The contact stood on an urgent reason, not a consent.
    pub urgent: bool,
}

/// Every version of the person's plan, newest first.
pub async fn versions(db: &PgPool, participant: ParticipantId) -> Result<Vec<VersionView>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT v.id, v.version, v.agreed_on, v.participant_took_part, v.aim, v.others_present, v.next_review_on, u.name AS saved_by, v.saved_at
           FROM joint_plans j JOIN joint_plan_versions v ON v.joint_plan_id = j.id JOIN users u ON u.id = v.saved_by
           WHERE j.participant_id = $1 ORDER BY v.version DESC"#,
        participant as _
    )
    .fetch_all(db)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let parts = sqlx::query!(
        r#"SELECT p.version_id, pa.name, p.person, p.task,
                  EXISTS (SELECT 1 FROM partner_contacts pc WHERE pc.joint_plan_version_id = p.version_id
                          AND pc.partner_id = p.partner_id AND pc.urgent_reason IS NOT NULL) AS "urgent!"
           FROM joint_plan_parts p JOIN partners pa ON pa.id = p.partner_id
           WHERE p.version_id = ANY($1) ORDER BY lower(pa.name), pa.id"#,
        &ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| VersionView {
            parts: parts
                .iter()
                .filter(|p| p.version_id == r.id)
                .map(|p| PartView {
                    partner: p.name.clone(),
                    person: p.person.clone(),
                    task: p.task.clone(),
                    urgent: p.urgent,
                })
                .collect(),
            version: r.version,
            agreed_on: r.agreed_on,
            took_part: r.participant_took_part,
            aim: r.aim,
            others_present: r.others_present,
            next_review_on: r.next_review_on,
            saved_by: r.saved_by,
            saved_at: r.saved_at,
        })
        .collect())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct JointPlanForm {
    pub version: String,
    pub agreed_on: String,
    pub participant_took_part: String,
    pub aim: String,
    pub others_present: String,
    pub next_review_on: String,
    pub part_partner: Vec<String>,
    pub part_person: Vec<String>,
    pub part_task: Vec<String>,
    pub urgent_reason: String,
}

/// One row of the parts table as the form shows it.
pub struct PartRow {
    /// From 1, for the fields' labels.
    pub n: usize,
    pub partner: String,
    pub person: String,
    pub task: String,
}

impl PartRow {
    /// The first row's partner field is the one an error points at.
    pub fn partner_field_id(&self) -> String {
        if self.n == 1 {
            "f-partners".into()
        } else {
            format!("f-partners-{}", self.n)
        }
    }
}

impl JointPlanForm {
    /// The typed rows, and blank ones to add partners (there is no script).
    pub fn rows(&self) -> Vec<PartRow> {
        let n = self.part_partner.len().max(self.part_task.len());
        let cell = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
        let mut rows: Vec<PartRow> = (0..n)
            .map(|i| PartRow {
                n: 0,
                partner: cell(&self.part_partner, i),
                person: cell(&self.part_person, i),
                task: cell(&self.part_task, i),
            })
            .filter(|r| !(r.partner.is_empty() && r.person.trim().is_empty() && r.task.trim().is_empty()))
            .collect();
        let blanks = if rows.len() < 3 { 3 - rows.len() + 1 } else { 2 };
        rows.extend((0..blanks).map(|_| PartRow {
            n: 0,
            partner: String::new(),
            person: String::new(),
            task: String::new(),
        }));
        for (i, row) in rows.iter_mut().enumerate() {
            row.n = i + 1;
        }
        rows
    }
}

#[derive(Template)]
#[template(path = "plans/joint_plan.html")]
struct ShowPage {
    layout: Layout,
    participant_id: ParticipantId,
    name: String,
    versions: Vec<VersionView>,
}

#[derive(Template)]
#[template(path = "plans/joint_plan_form.html")]
struct FormPage {
    layout: Layout,
    participant_id: ParticipantId,
    name: String,
    partners: Vec<PartnerChoice>,
    form: JointPlanForm,
    errors: FieldErrors,
}

impl FormPage {
    fn first(&self) -> bool {
        self.form.version == "0"
    }
    fn show_urgent(&self) -> bool {
        self.errors.has(gate::FIELD) || !self.form.urgent_reason.trim().is_empty()
    }
}

async fn show(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let versions = versions(&state.db, auth.id).await?;
    if versions.is_empty() {
        return Ok(Redirect::to(&format!("/participants/{}/joint-plan/edit", auth.id)).into_response());
    }
    let page = ShowPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant_id: auth.id,
        name: crate::access::person_name(&state.db, auth.id).await?,
        versions,
    };
    crate::web::page(&page, false)
}

async fn render_form(state: &AppState, auth: &Authorized<ParticipantId>, form: JointPlanForm, errors: FieldErrors) -> AppResult<Response> {
    let on = form.agreed_on.parse().unwrap_or(state.clock.today());
    let refused = !errors.is_empty();
    if refused {
        auth.log_shown_again(state).await?;
    }
    let page = FormPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant_id: auth.id,
        name: crate::access::person_name(&state.db, auth.id).await?,
        partners: partners::choices_for(&state.db, auth.id, on, false).await?,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

/// The form, filled from the latest version (a new version starts from it).
async fn edit(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let today = state.clock.today();
    let form = match versions(&state.db, auth.id).await?.into_iter().next() {
        None => JointPlanForm {
            version: "0".into(),
            agreed_on: today.to_string(),
            participant_took_part: "yes".into(),
            ..JointPlanForm::default()
        },
        Some(latest) => {
            let parts = sqlx::query!(
                r#"SELECT p.partner_id AS "partner_id: PartnerId", p.person, p.task
                   FROM joint_plans j JOIN joint_plan_versions v ON v.joint_plan_id = j.id AND v.version = j.version
                   JOIN joint_plan_parts p ON p.version_id = v.id JOIN partners pa ON pa.id = p.partner_id
                   WHERE j.participant_id = $1 ORDER BY lower(pa.name), pa.id"#,
                auth.id as _
            )
            .fetch_all(&state.db)
            .await?;
            JointPlanForm {
                version: latest.version.to_string(),
                agreed_on: today.to_string(),
                participant_took_part: if latest.took_part { "yes" } else { "no" }.into(),
                aim: latest.aim,
                others_present: latest.others_present,
                next_review_on: latest.next_review_on.to_string(),
                part_partner: parts.iter().map(|p| p.partner_id.to_string()).collect(),
                part_person: parts.iter().map(|p| p.person.clone()).collect(),
                part_task: parts.iter().map(|p| p.task.clone()).collect(),
                urgent_reason: String::new(),
            }
        }
    };
    render_form(&state, &auth, form, FieldErrors::default()).await
}

/// Checks the typed form; `None` with the messages in `errors`.
fn check(form: &JointPlanForm, today: NaiveDate, errors: &mut FieldErrors) -> Option<(i32, JointPlanVersion)> {
    let base = form.version.parse::<i32>().ok().filter(|v| *v >= 0);
    if base.is_none() {
        errors.add("aim", "Formuläret saknar planens version. Ladda om sidan och försök igen.");
    }
    let agreed_on = required_date(&form.agreed_on).map_err(|m| errors.add("agreed_on", m)).ok();
    if agreed_on.is_some_and(|d| d > today) {
        errors.add(
            "agreed_on",
            "Planen kan inte vara överenskommen i förväg. Välj dagens datum eller tidigare.",
        );
    }
    let took_part = crate::web::form::yes_no(&form.participant_took_part);
    if took_part.is_none() {
        errors.add("participant_took_part", "Svara ja eller nej.");
    }
    let aim = required_text(&form.aim, "vad planen ska leda till och vad personen själv vill", 4000)
        .map_err(|m| errors.add("aim", m))
        .ok();
    let others_present = optional_text(&form.others_present, 500)
        .map_err(|m| errors.add("others_present", m))
        .ok();
    let next_review_on = required_date(&form.next_review_on)
        .map_err(|m| errors.add("next_review_on", m))
        .ok();
    if let (Some(agreed), Some(next)) = (agreed_on, next_review_on)
        && next <= agreed
    {
        errors.add("next_review_on", "Nästa översyn ska vara efter dagen planen kom överens om.");
    }
    let mut parts: Vec<Part> = Vec::new();
    for row in form.rows() {
        if row.partner.is_empty() && row.task.trim().is_empty() && row.person.trim().is_empty() {
            continue;
        }
        let Some(partner) = row.partner.parse::<PartnerId>().ok() else {
            errors.add(gate::FIELD, "Välj samverkanspartner för varje rad med en uppgift.");
            continue;
        };
        if parts.iter().any(|p| p.partner == partner) {
            errors.add(gate::FIELD, "Varje samverkanspartner står på en rad.");
            continue;
        }
        let task = match required_text(&row.task, "vad samverkansparten gör", 1000) {
            Ok(task) => task,
            Err(m) => {
                errors.add(gate::FIELD, m);
                continue;
            }
        };
        let person = match optional_text(&row.person, 200) {
            Ok(person) => person,
            Err(m) => {
                errors.add(gate::FIELD, format!("Kontaktperson: {m}"));
                continue;
            }
        };
        parts.push(Part { partner, person, task });
    }
    let urgent_reason = optional_text(&form.urgent_reason, 1000)
        .map_err(|m| errors.add(gate::URGENT_FIELD, m))
        .ok();
    if !errors.is_empty() {
        return None;
    }
    Some((
        base?,
        JointPlanVersion {
            agreed_on: agreed_on?,
            took_part: took_part?,
            aim: aim?,
            others_present: others_present?,
            next_review_on: next_review_on?,
            parts,
            urgent_reason: urgent_reason?,
        },
    ))
}

async fn save(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<JointPlanForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let Some((base, version)) = check(&form, state.clock.today(), &mut errors) else {
        return render_form(&state, &auth, form, errors).await;
    };
    match joint_plans::save(&state.db, auth.id, base, &version, auth.current.stamp(state.clock.now())).await? {
        Ok(saved) => {
            auth.current.flash(&format!("Den samordnade planen är sparad (version {saved})."));
            Ok(Redirect::to(&format!("/participants/{}/joint-plan", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            // Someone saved first: the form stays as typed, against their version.
            let form = if message == CHANGED_SINCE {
                let latest = versions(&state.db, auth.id).await?.first().map_or(0, |v| v.version);
                JointPlanForm {
                    version: latest.to_string(),
                    ..form
                }
            } else {
                form
            };
            errors.add(field, message);
            render_form(&state, &auth, form, errors).await
        }
    }
}
