//! Registerutdrag (issue 18, point 1; GDPR art. 15): everything Lotsen holds
//! about one person. A manager registers the request (the day it came, how
//! the identity was checked), produces the extract as a printable page and as
//! an archive (JSON and CSV in a zip), and marks it delivered; until then it
//! is on the manager's *Att göra* with its deadline, a month from the request.
//!
//! The extract is gathered table by table (`SECTIONS`): each statement returns
//! every column of every row about the person as JSON, so nothing held is
//! left out by a forgotten field. `tests/register_extract.rs` checks that every table
//! with a person's rows is a section or named in `NOT_IN_EXTRACT` with why.
//! Producing it is a read (access log, "Registerutdrag") and is audited.

use crate::access::{self, Action, Authorized};
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::{Refused, in_transaction, refuse};
use crate::error::{AppError, AppResult};
use crate::ids::ParticipantId;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_date, required_text};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde_json::{Map, Value};

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/register-extracts", get(requests).post(register))
        .route("/participants/{id}/register-extracts/{request}", get(page))
        .route("/participants/{id}/register-extracts/{request}/archive", get(archive))
        .route("/participants/{id}/register-extracts/{request}/delivered", post(delivered))
}

/// One kind of record: its key (file name in the archive), its heading, the
/// table it comes from, and the statement (`$1` the person) giving one JSON
/// object per row.
pub struct SectionDef {
    pub key: &'static str,
    pub title: &'static str,
    pub table: &'static str,
    sql: &'static str,
}

/// Every kind of record about a person, in the order of the page.
pub const SECTIONS: &[SectionDef] = &[
    SectionDef {
        key: "personakt",
        title: "Personakt",
        table: "participants",
        sql: "SELECT to_jsonb(p) - 'search_name' FROM participants p WHERE p.id = $1",
    },
    SectionDef {
        key: "personakt_versioner",
        title: "Personaktens versioner",
        table: "participant_versions",
        sql: "SELECT to_jsonb(v) FROM participant_versions v WHERE v.participant_id = $1 ORDER BY v.version",
    },
    SectionDef {
        key: "status",
        title: "Status",
        table: "participant_status_events",
        sql: "SELECT to_jsonb(s) FROM participant_status_events s WHERE s.participant_id = $1 ORDER BY s.effective_on, s.id",
    },
    SectionDef {
        key: "kontaktman",
        title: "Kontaktman",
        table: "key_worker_assignments",
        sql: "SELECT to_jsonb(k) || jsonb_build_object('kontaktman', u.name) FROM key_worker_assignments k
              JOIN users u ON u.id = k.user_id WHERE k.participant_id = $1 ORDER BY k.from_on, k.id",
    },
    SectionDef {
        key: "boendestod",
        title: "Boendestöd",
        table: "home_support_entries",
        sql: "SELECT to_jsonb(h) FROM home_support_entries h WHERE h.participant_id = $1 ORDER BY h.valid_from, h.id",
    },
    SectionDef {
        key: "narstaende",
        title: "Närstående och företrädare",
        table: "relatives",
        sql: "SELECT to_jsonb(r) FROM relatives r WHERE r.participant_id = $1 ORDER BY r.id",
    },
    SectionDef {
        key: "narstaende_versioner",
        title: "Närståendes versioner",
        table: "relative_versions",
        sql: "SELECT to_jsonb(v) FROM relative_versions v JOIN relatives r ON r.id = v.relative_id
              WHERE r.participant_id = $1 ORDER BY v.relative_id, v.version",
    },
    SectionDef {
        key: "samtycken",
        title: "Samtycken",
        table: "consents",
        sql: "SELECT to_jsonb(c) FROM consents c WHERE c.participant_id = $1 ORDER BY c.given_on, c.id",
    },
    SectionDef {
        key: "intresseanmalan",
        title: "Intresseanmälan",
        table: "intakes",
        sql: "SELECT to_jsonb(i) FROM intakes i WHERE i.participant_id = $1 ORDER BY i.id",
    },
    SectionDef {
        key: "samordnad_plan",
        title: "Samordnad plan",
        table: "joint_plans",
        sql: "SELECT to_jsonb(j) FROM joint_plans j WHERE j.participant_id = $1",
    },
    SectionDef {
        key: "samordnad_plan_versioner",
        title: "Samordnade planens versioner, med vad varje samverkanspartner gör",
        table: "joint_plan_versions",
        sql: "SELECT to_jsonb(v) || jsonb_build_object('samverkanspartner', coalesce(
                  (SELECT jsonb_agg(to_jsonb(x) || jsonb_build_object('namn', pa.name) ORDER BY x.partner_id)
                   FROM joint_plan_parts x JOIN partners pa ON pa.id = x.partner_id WHERE x.version_id = v.id), '[]'::jsonb))
              FROM joint_plan_versions v JOIN joint_plans j ON j.id = v.joint_plan_id WHERE j.participant_id = $1 ORDER BY v.version",
    },
    SectionDef {
        key: "samverkanskontakter",
        title: "Kontakter med samverkanspartner (och samtycket eller skälet för var och en)",
        table: "partner_contacts",
        sql: "SELECT to_jsonb(c) || jsonb_build_object('samverkanspartner', pa.name, 'granskning', to_jsonb(r))
              FROM partner_contacts c JOIN partners pa ON pa.id = c.partner_id
              LEFT JOIN urgent_contact_reviews r ON r.contact_id = c.id
              WHERE c.participant_id = $1 ORDER BY c.contact_on, c.id",
    },
    SectionDef {
        key: "larandeplatser",
        title: "Lärandeplatser",
        table: "placements",
        sql: "SELECT to_jsonb(x) || jsonb_build_object('arbetsgivare', e.name) FROM placements x JOIN employers e ON e.id = x.employer_id
              WHERE x.participant_id = $1 ORDER BY x.start_on, x.id",
    },
    SectionDef {
        key: "stod_vid_arbete",
        title: "Stöd vid arbete",
        table: "employment_supports",
        sql: "SELECT to_jsonb(s) FROM employment_supports s WHERE s.participant_id = $1 ORDER BY s.employment_start_on, s.id",
    },
    SectionDef {
        key: "stod_vid_arbete_kontakter",
        title: "Kontakter inom stöd vid arbete",
        table: "employment_support_contacts",
        sql: "SELECT to_jsonb(c) FROM employment_support_contacts c JOIN employment_supports s ON s.id = c.support_id
              WHERE s.participant_id = $1 ORDER BY c.contact_on, c.id",
    },
    SectionDef {
        key: "journal",
        title: "Journal (med rättelser och invändningar)",
        table: "journal_notes",
        sql: "SELECT to_jsonb(n) FROM journal_notes n WHERE n.participant_id = $1 ORDER BY n.created_at, n.id",
    },
    SectionDef {
        key: "planer",
        title: "Planer",
        table: "plans",
        sql: "SELECT to_jsonb(p) FROM plans p WHERE p.participant_id = $1 ORDER BY p.id",
    },
    SectionDef {
        key: "planer_versioner",
        title: "Planernas versioner",
        table: "plan_versions",
        sql: "SELECT to_jsonb(v) FROM plan_versions v JOIN plans p ON p.id = v.plan_id WHERE p.participant_id = $1 ORDER BY v.plan_id, v.version",
    },
    SectionDef {
        key: "planer_villkor",
        title: "Planernas timmar och arbetsplatser över tid",
        table: "plan_terms",
        sql: "SELECT to_jsonb(t) FROM plan_terms t JOIN plans p ON p.id = t.plan_id WHERE p.participant_id = $1 ORDER BY t.plan_id, t.from_on",
    },
    SectionDef {
        key: "mal",
        title: "Mål",
        table: "plan_goals",
        sql: "SELECT to_jsonb(g) FROM plan_goals g JOIN plans p ON p.id = g.plan_id WHERE p.participant_id = $1 ORDER BY g.plan_id, g.id",
    },
    SectionDef {
        key: "aktiviteter",
        title: "Aktiviteter i planen",
        table: "plan_activities",
        sql: "SELECT to_jsonb(a) FROM plan_activities a JOIN plans p ON p.id = a.plan_id WHERE p.participant_id = $1 ORDER BY a.plan_id, a.id",
    },
    SectionDef {
        key: "uppfoljningar",
        title: "Uppföljningar",
        table: "follow_ups",
        sql: "SELECT to_jsonb(f) FROM follow_ups f JOIN plans p ON p.id = f.plan_id WHERE p.participant_id = $1 ORDER BY f.due_on, f.id",
    },
    SectionDef {
        key: "malens_utveckling",
        title: "Målens utveckling vid uppföljningarna",
        table: "follow_up_progress",
        sql: "SELECT to_jsonb(x) FROM follow_up_progress x JOIN follow_ups f ON f.id = x.follow_up_id
              JOIN plans p ON p.id = f.plan_id WHERE p.participant_id = $1 ORDER BY x.follow_up_id, x.goal_id",
    },
    SectionDef {
        key: "bedomningar",
        title: "Bedömningar av arbetsförmåga",
        table: "capacity_assessments",
        sql: "SELECT to_jsonb(a) FROM capacity_assessments a JOIN plans p ON p.id = a.plan_id WHERE p.participant_id = $1 ORDER BY a.assessed_on, a.id",
    },
    SectionDef {
        key: "fornyelser",
        title: "Förnyelser",
        table: "plan_renewals",
        sql: "SELECT to_jsonb(r) FROM plan_renewals r JOIN plans p ON p.id = r.plan_id WHERE p.participant_id = $1 ORDER BY r.renewed_on, r.id",
    },
    SectionDef {
        key: "timmar",
        title: "Arbetade timmar",
        table: "training_hours",
        sql: "SELECT to_jsonb(h) FROM training_hours h JOIN plans p ON p.id = h.plan_id WHERE p.participant_id = $1 ORDER BY h.worked_on, h.plan_id",
    },
    SectionDef {
        key: "ko",
        title: "Kö",
        table: "queue_entries",
        sql: "SELECT to_jsonb(q) FROM queue_entries q JOIN plans p ON p.id = q.plan_id WHERE p.participant_id = $1 ORDER BY q.queued_on, q.id",
    },
    SectionDef {
        key: "paminnelser",
        title: "Påminnelser",
        table: "reminders",
        sql: "SELECT to_jsonb(r) FROM reminders r WHERE r.participant_id = $1 ORDER BY r.due_on, r.id",
    },
    SectionDef {
        key: "besok",
        title: "Besök",
        table: "visits",
        sql: "SELECT to_jsonb(v) FROM visits v WHERE v.participant_id = $1 ORDER BY v.visit_on, v.id",
    },
    SectionDef {
        key: "besoksdagar",
        title: "Besöksdagar per år",
        table: "visit_days",
        sql: "SELECT to_jsonb(d) FROM visit_days d WHERE d.participant_id = $1 ORDER BY d.year",
    },
    SectionDef {
        key: "gruppaktiviteter",
        title: "Gruppaktiviteter",
        table: "group_activity_attendance",
        sql: "SELECT to_jsonb(a) || jsonb_build_object('aktivitet', g.title, 'datum', g.starts_at) FROM group_activity_attendance a
              JOIN group_activities g ON g.id = a.activity_id WHERE a.participant_id = $1 ORDER BY g.starts_at, a.activity_id",
    },
    SectionDef {
        key: "registerutdrag",
        title: "Begärda registerutdrag",
        table: "register_extract_requests",
        sql: "SELECT to_jsonb(e) FROM register_extract_requests e WHERE e.participant_id = $1 ORDER BY e.received_on, e.id",
    },
    SectionDef {
        key: "gallringslista",
        title: "Gallringslistor",
        table: "disposal_candidates",
        sql: "SELECT to_jsonb(c) FROM disposal_candidates c WHERE c.participant_id = $1 ORDER BY c.round_id",
    },
    SectionDef {
        key: "atkomstlogg",
        title: "Vem som har tagit del av uppgifterna (åtkomstloggen)",
        table: "access_log",
        sql: "SELECT jsonb_build_object('tidpunkt', a.occurred_at, 'vem', u.name, 'titel', u.job_title, 'roll', a.user_role,
                     'enhet', un.name, 'vad', a.action, 'inom_egen_arendelista', a.in_caseload,
                     'skal', a.reason, 'skal_beskrivning', a.reason_note)
              FROM access_log a JOIN users u ON u.id = a.user_id LEFT JOIN units un ON un.id = a.unit_id
              WHERE a.participant_id = $1 ORDER BY a.occurred_at, a.id",
    },
    SectionDef {
        key: "andringslogg",
        title: "Ändringar i uppgifterna (granskningsloggen)",
        table: "audit_log",
        sql: "SELECT jsonb_build_object('tidpunkt', l.occurred_at, 'vem', u.name, 'vad', l.action, 'detaljer', l.details)
              FROM audit_log l LEFT JOIN users u ON u.id = l.actor_user_id
              WHERE (l.record_type = 'participant' AND l.record_id = $1)
                 OR (l.record_type = 'plan' AND l.record_id IN (SELECT id FROM plans WHERE participant_id = $1))
              ORDER BY l.occurred_at, l.id",
    },
];

/// Tables with rows about a person that the extract leaves out, and why.
pub const NOT_IN_EXTRACT: &[(&str, &str)] = &[
    ("drafts", "text a user typed and never saved: not part of the record"),
    (
        "access_reasons",
        "the reason given in a session; every read it covered is in the access log with the reason",
    ),
];

/// One gathered section.
pub struct Section {
    pub def: &'static SectionDef,
    pub rows: Vec<Map<String, Value>>,
}

impl Section {
    /// The columns, in the order of the first row.
    pub fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for row in &self.rows {
            for key in row.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
        columns
    }
}

/// A JSON value as text for a reader: no quotes, Ja/Nej, "–" for nothing.
pub fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "–".into(),
        Some(Value::Bool(true)) => "Ja".into(),
        Some(Value::Bool(false)) => "Nej".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|v| shown(Some(v))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

/// Everything held about the person, section by section.
pub async fn gather(conn: &mut sqlx::PgConnection, participant: ParticipantId) -> Result<Vec<Section>, sqlx::Error> {
    let mut sections = Vec::with_capacity(SECTIONS.len());
    for def in SECTIONS {
        let rows: Vec<Value> = sqlx::query_scalar(def.sql).bind(participant).fetch_all(&mut *conn).await?;
        let rows = rows
            .into_iter()
            .filter_map(|row| match row {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .collect();
        sections.push(Section { def, rows });
    }
    Ok(sections)
}

/// The extract as one JSON document: the person, when it was made, and each section's rows.
pub fn as_json(participant: ParticipantId, made_at: DateTime<Utc>, sections: &[Section]) -> Value {
    let mut document = Map::new();
    document.insert("deltagare".into(), Value::from(participant.to_string()));
    document.insert("framstallt".into(), Value::from(made_at.to_rfc3339()));
    for section in sections {
        document.insert(
            section.def.key.into(),
            Value::Array(section.rows.iter().cloned().map(Value::Object).collect()),
        );
    }
    Value::Object(document)
}

/// A section as CSV for Swedish Excel (BOM, `;`, CRLF), one column per field.
pub fn as_csv(section: &Section) -> String {
    let columns = section.columns();
    let mut out = String::from("\u{feff}");
    out.push_str(&columns.iter().map(|c| crate::web::csv::field(c)).collect::<Vec<_>>().join(";"));
    out.push_str("\r\n");
    for row in &section.rows {
        let fields: Vec<String> = columns
            .iter()
            .map(|c| match row.get(c) {
                None | Some(Value::Null) => String::new(),
                value => crate::web::csv::field(&shown(value)),
            })
            .collect();
        out.push_str(&fields.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// The archive: `registerutdrag.json` and one CSV per section.
pub fn archive_bytes(json: &Value, sections: &[Section]) -> Result<Vec<u8>, zip::result::ZipError> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("registerutdrag.json", options)?;
    zip.write_all(serde_json::to_string_pretty(json).unwrap_or_default().as_bytes())?;
    for section in sections {
        zip.start_file(format!("{}.csv", section.def.key), options)?;
        zip.write_all(as_csv(section).as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The deadline of a request received on `received`: one month later.
pub fn deadline(received: NaiveDate) -> NaiveDate {
    received.checked_add_months(Months::new(1)).unwrap_or(received)
}

/// A registered request.
pub struct Request {
    pub id: i64,
    pub received_on: NaiveDate,
    pub identity_check: String,
    pub registered_by: String,
    pub delivered_on: Option<NaiveDate>,
}

impl Request {
    pub fn deadline(&self) -> NaiveDate {
        deadline(self.received_on)
    }
}

/// Only managers handle registerutdrag.
fn require_manager(current: &CurrentUser) -> AppResult<()> {
    current.require(&[Role::Manager])
}

async fn requests_of(state: &AppState, participant: ParticipantId) -> AppResult<Vec<Request>> {
    Ok(sqlx::query_as!(
        Request,
        r#"SELECT e.id, e.received_on, e.identity_check, u.name AS registered_by, e.delivered_on
           FROM register_extract_requests e JOIN users u ON u.id = e.registered_by
           WHERE e.participant_id = $1 ORDER BY e.received_on DESC, e.id DESC"#,
        participant as _
    )
    .fetch_all(&state.db)
    .await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RequestForm {
    received_on: String,
    identity_check: String,
}

#[derive(Template)]
#[template(path = "privacy/register_extracts.html")]
struct RequestsPage {
    layout: Layout,
    participant: ParticipantId,
    name: String,
    requests: Vec<Request>,
    form: RequestForm,
    errors: FieldErrors,
    today: NaiveDate,
}

async fn requests_page(state: &AppState, auth: &Authorized<ParticipantId>, form: RequestForm, errors: FieldErrors) -> AppResult<Response> {
    let refused = !errors.is_empty();
    let page = RequestsPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant: auth.id,
        name: access::person_name(&state.db, auth.id).await?,
        requests: requests_of(state, auth.id).await?,
        form,
        errors,
        today: state.clock.today(),
    };
    crate::web::page(&page, refused)
}

/// The person's requests, and the form for a new one.
async fn requests(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    require_manager(&auth.current)?;
    let form = RequestForm {
        received_on: state.clock.today().to_string(),
        ..RequestForm::default()
    };
    requests_page(&state, &auth, form, FieldErrors::default()).await
}

/// Registers a request: when it came and how the identity was checked.
async fn register(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<RequestForm>,
) -> AppResult<Response> {
    require_manager(&auth.current)?;
    let today = state.clock.today();
    let mut errors = FieldErrors::default();
    let received = match optional_date(&form.received_on) {
        Ok(Some(day)) if day > today => {
            errors.add("received_on", "Datumet kan inte ligga i framtiden.");
            None
        }
        Ok(Some(day)) => Some(day),
        Ok(None) => {
            errors.add("received_on", "Ange när begäran kom in.");
            None
        }
        Err(message) => {
            errors.add("received_on", message);
            None
        }
    };
    let check = required_text(&form.identity_check, "hur identiteten kontrollerades", 500)
        .map_err(|m| errors.add("identity_check", m))
        .ok();
    let (Some(received), Some(check)) = (received, check) else {
        return requests_page(&state, &auth, form, errors).await;
    };
    let stamp = auth.current.stamp(state.clock.now());
    let id = auth.id;
    in_transaction(&state.db, async |tx| {
        let request = sqlx::query_scalar!(
            "INSERT INTO register_extract_requests (participant_id, received_on, identity_check, registered_by, registered_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            id as _,
            received,
            check,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::Entry::new(Some(stamp.by), "register_extract_requested")
            .record("participant", id)
            .details(&format!("begäran {request}, mottagen {received}"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await?;
    auth.current.flash(&format!(
        "Begäran om registerutdrag är registrerad. Den ska lämnas senast {}.",
        deadline(received)
    ));
    Ok(Redirect::to(&format!("/participants/{id}/register-extracts")).into_response())
}

/// The request named in the path, if it is this person's.
async fn request_of(state: &AppState, participant: ParticipantId, request: i64) -> AppResult<Request> {
    sqlx::query_as!(
        Request,
        r#"SELECT e.id, e.received_on, e.identity_check, u.name AS registered_by, e.delivered_on
           FROM register_extract_requests e JOIN users u ON u.id = e.registered_by
           WHERE e.id = $1 AND e.participant_id = $2"#,
        request,
        participant as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)
}

/// Producing an extract: the sections gathered, the read in the access log
/// and the production in the audit log, in one transaction.
async fn produce(state: &AppState, auth: &Authorized<ParticipantId>, request: &Request, how: &str) -> AppResult<Vec<Section>> {
    let (id, now) = (auth.id, state.clock.now());
    let user = auth.current.user.clone();
    let request_id = request.id;
    let mut tx = state.db.begin().await?;
    let sections = gather(&mut tx, id).await?;
    access::log(&mut *tx, &user, &[id], Action::RegisterExtract, now).await?;
    crate::audit::Entry::new(Some(user.id), "register_extract_produced")
        .record("participant", id)
        .details(&format!("begäran {request_id}, {how}"))
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    Ok(sections)
}

#[derive(Template)]
#[template(path = "privacy/register_extract.html")]
struct ExtractPage {
    layout: Layout,
    participant: ParticipantId,
    name: String,
    request: Request,
    sections: Vec<Section>,
    made_at: String,
    made_by: String,
}

impl ExtractPage {
    fn label(&self, column: &str) -> String {
        label(column)
    }
    fn cell(&self, row: &Map<String, Value>, column: &str) -> String {
        shown(row.get(column))
    }
}

/// A column's name for a reader; the stored name where none is known.
pub fn label(column: &str) -> String {
    let known = match column {
        "id" => "Id",
        "first_name" => "Förnamn",
        "last_name" => "Efternamn",
        "identity_kind" => "Typ av nummer",
        "identity_number" => "Nummer",
        "birth_date" => "Födelsedatum",
        "gender" => "Kön",
        "phone" => "Telefon",
        "email" => "E-post",
        "address" => "Adress",
        "status" => "Status",
        "version" => "Version",
        "created_at" | "recorded_at" | "registered_at" | "written_at" => "Registrerad",
        "changed_at" | "updated_at" => "Ändrad",
        "changed_by" | "recorded_by" | "created_by" | "written_by" => "Av (användare)",
        "body" => "Text",
        "event_on" => "Gäller dag",
        "note_type" => "Slag",
        "author_name" => "Skriven av",
        "author_title" => "Titel",
        "visit_on" => "Dag",
        "checked_in_at" => "Kom",
        "checked_out_at" => "Gick",
        "given_on" => "Lämnat",
        "withdrawn_on" => "Återkallat",
        "scope" => "Omfattar",
        "due_on" => "Senast",
        "held_on" => "Hölls",
        "notes" => "Anteckningar",
        "description" => "Beskrivning",
        "name" => "Namn",
        "relation" => "Relation",
        "kind" => "Slag",
        "note" => "Anteckning",
        "weekly_hours" => "Timmar per vecka",
        "hours" => "Timmar",
        "worked_on" => "Dag",
        "tidpunkt" => "Tidpunkt",
        "vem" => "Vem",
        "titel" => "Titel",
        "roll" => "Roll",
        "enhet" => "Enhet",
        "vad" => "Vad",
        "skal" => "Skäl för åtkomst",
        "skal_beskrivning" => "Skälet med egna ord",
        "inom_egen_arendelista" => "Inom egen ärendelista",
        "detaljer" => "Detaljer",
        "aktivitet" => "Aktivitet",
        "datum" => "Datum",
        "kontaktman" => "Kontaktman",
        _ => return column.replace('_', " "),
    };
    known.to_string()
}

/// The printable extract. Each showing is a production, logged.
async fn page(State(state): State<AppState>, auth: Authorized<ParticipantId>, Path((_, request)): Path<(i64, i64)>) -> AppResult<Response> {
    require_manager(&auth.current)?;
    let request = request_of(&state, auth.id, request).await?;
    let sections = produce(&state, &auth, &request, "utskrift").await?;
    let page = ExtractPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant: auth.id,
        name: access::person_name(&state.db, auth.id).await?,
        request,
        sections,
        made_at: crate::web::format::local_time(state.clock.now()),
        made_by: auth.current.user.name.clone(),
    };
    crate::web::page(&page, false)
}

/// The machine-readable archive: JSON and CSV in a zip.
async fn archive(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    Path((_, request)): Path<(i64, i64)>,
) -> AppResult<Response> {
    require_manager(&auth.current)?;
    let request = request_of(&state, auth.id, request).await?;
    let sections = produce(&state, &auth, &request, "arkiv").await?;
    let json = as_json(auth.id, state.clock.now(), &sections);
    let bytes = archive_bytes(&json, &sections).map_err(|err| AppError::Internal(err.into()))?;
    let file = format!("attachment; filename=\"registerutdrag-{}-{}.zip\"", auth.id, request.id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeliveredForm {
    delivered_on: String,
}

/// Marks the extract delivered: it leaves Att göra.
async fn delivered(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    Path((_, request)): Path<(i64, i64)>,
    FormData(form): FormData<DeliveredForm>,
) -> AppResult<Response> {
    require_manager(&auth.current)?;
    let request = request_of(&state, auth.id, request).await?;
    let today = state.clock.today();
    let stamp = auth.current.stamp(state.clock.now());
    let result: Result<(), Refused> = match optional_date(&form.delivered_on) {
        Err(message) => Err(Refused {
            field: "delivered_on",
            message: message.into(),
        }),
        Ok(on) => {
            let on = on.unwrap_or(today);
            if on > today {
                Err(Refused {
                    field: "delivered_on",
                    message: "Datumet kan inte ligga i framtiden.".into(),
                })
            } else if on < request.received_on {
                Err(Refused {
                    field: "delivered_on",
                    message: format!("Begäran kom in {}: utdraget kan inte ha lämnats före det.", request.received_on),
                })
            } else {
                let (id, participant) = (request.id, auth.id);
                in_transaction(&state.db, async |tx| {
                    let done = sqlx::query!(
                        "UPDATE register_extract_requests SET delivered_on = $2, delivered_by = $3, delivered_at = $4 WHERE id = $1 AND delivered_on IS NULL",
                        id,
                        on,
                        stamp.by as _,
                        stamp.at
                    )
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if done == 0 {
                        return refuse("delivered_on", "Utdraget är redan markerat som lämnat.");
                    }
                    crate::audit::Entry::new(Some(stamp.by), "register_extract_delivered")
                        .record("participant", participant)
                        .details(&format!("begäran {id}, lämnad {on}"))
                        .write(&mut *tx, stamp.at)
                        .await?;
                    Ok(Ok(()))
                })
                .await?
            }
        }
    };
    if let Err(Refused { field, message }) = result {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        return requests_page(&state, &auth, RequestForm::default(), errors).await;
    }
    auth.current.flash("Registerutdraget är markerat som lämnat.");
    Ok(Redirect::to(&format!("/participants/{}/register-extracts", auth.id)).into_response())
}

/// Open requests of the manager's units, oldest deadline first: for Att göra.
pub struct OpenRequest {
    pub participant_id: ParticipantId,
    pub name: String,
    pub received_on: NaiveDate,
}

impl OpenRequest {
    pub fn deadline(&self) -> NaiveDate {
        deadline(self.received_on)
    }
}

pub async fn open_for(state: &AppState, manager: &CurrentUser) -> AppResult<Vec<OpenRequest>> {
    Ok(sqlx::query_as!(
        OpenRequest,
        r#"SELECT e.participant_id AS "participant_id: ParticipantId", p.first_name || ' ' || p.last_name AS "name!", e.received_on
           FROM register_extract_requests e JOIN participants p ON p.id = e.participant_id
           WHERE e.delivered_on IS NULL AND p.unit_id = ANY($1)
           ORDER BY e.received_on, e.id"#,
        &manager.user.unit_ids as _
    )
    .fetch_all(&state.db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_a_month_after_the_request() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(deadline(d(2026, 3, 2)), d(2026, 4, 2));
        assert_eq!(deadline(d(2026, 1, 31)), d(2026, 2, 28));
    }

    #[test]
    fn values_read_as_text() {
        assert_eq!(shown(None), "–");
        assert_eq!(shown(Some(&Value::Bool(true))), "Ja");
        assert_eq!(shown(Some(&Value::from("Anna"))), "Anna");
        assert_eq!(shown(Some(&serde_json::json!(["a", "b"]))), "a, b");
        assert_eq!(shown(Some(&serde_json::json!(4.5))), "4.5");
    }

    #[test]
    fn every_section_has_its_own_file_name() {
        let mut keys: Vec<&str> = SECTIONS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SECTIONS.len());
    }
}
