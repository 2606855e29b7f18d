//! Loggkontroll (issue 18, point 4): each month and unit a manager reviews a
//! sample of the access log. The sample is drawn once, in one statement:
//! - a random share of the month's rows (`SAMPLE_PERCENT`, at least
//!   `SAMPLE_MIN`, at most `SAMPLE_MAX`);
//! - every read outside the reader's caseload by someone who is not a manager;
//! - every read of a person with protected identity;
//! - every refused attempt;
//! - up to `MANY_PICK` reads of each user with unusually many (more than
//!   `MANY_FACTOR` times the unit's median, and at least `MANY_FLOOR`).
//!
//! The manager marks each row checked, with a note if needed, and signs the
//! review off when all are. After the sign-off nothing in it changes
//! (migration 0030's trigger).

use super::access_log::LogRow;
use crate::access::reason::Reason;
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::{Kept, in_transaction};
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UnitId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use std::collections::HashMap;

/// The random share of a month's rows, in per cent.
pub const SAMPLE_PERCENT: i64 = 2;
pub const SAMPLE_MIN: i64 = 10;
pub const SAMPLE_MAX: i64 = 200;
/// A user reads unusually much with more than this many times the unit's median…
pub const MANY_FACTOR: f64 = 3.0;
/// …and at least this many reads in the month.
pub const MANY_FLOOR: i64 = 50;
/// Reads of such a user in the sample.
pub const MANY_PICK: i64 = 10;
/// Months back the review page lists.
const MONTHS_LISTED: u32 = 12;

pub fn routes() -> Routes {
    Routes::new()
        .route("/access-review", get(list))
        .route("/access-review/{unit}/{month}", get(show))
        .route("/access-review/{unit}/{month}/draw", post(draw))
        .route("/access-review/{unit}/{month}/items", post(check))
        .route("/access-review/{unit}/{month}/sign-off", post(sign_off))
}

coded! {
    /// Why a row is in the sample.
    Why {
        Random = "random" => "Slumpvis urval",
        Outside = "outside" => "Utanför egen ärendelista",
        Protected = "protected" => "Skyddade personuppgifter",
        Many = "many" => "Användare med ovanligt många läsningar",
        Denied = "denied" => "Nekad åtkomst",
    }
}

/// How many rows the random share takes from a month of `reads`.
pub fn random_share(reads: i64) -> i64 {
    ((reads * SAMPLE_PERCENT + 99) / 100).clamp(SAMPLE_MIN, SAMPLE_MAX).min(reads)
}

/// The month a path names (`2026-10`): its first day.
pub fn month_of(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// Only months that have ended can be reviewed.
pub fn reviewable(month: NaiveDate, today: NaiveDate) -> bool {
    month.checked_add_months(Months::new(1)).is_some_and(|next| next <= today)
}

pub fn month_name(month: NaiveDate) -> String {
    crate::web::format::month_name(month)
}

fn parse_path(current: &CurrentUser, unit: i64, month: &str, today: NaiveDate) -> AppResult<(UnitId, NaiveDate)> {
    let unit = UnitId::from(unit);
    current.require_manager_of(unit)?;
    let month = month_of(month).filter(|m| reviewable(*m, today)).ok_or(AppError::NotFound)?;
    Ok((unit, month))
}

/// A review's state, for the list.
pub struct ReviewRow {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub month: NaiveDate,
    pub items: i64,
    pub checked: i64,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<DateTime<Utc>>,
    pub drawn: bool,
}

impl ReviewRow {
    pub fn month_name(&self) -> String {
        month_name(self.month)
    }
    pub fn path(&self) -> String {
        format!("/access-review/{}/{}", self.unit_id, self.month.format("%Y-%m"))
    }
    pub fn state(&self) -> String {
        match (&self.signed_off_by, self.signed_off_at, self.drawn) {
            (Some(by), Some(at), _) => format!("Avslutad av {by} {}", crate::web::format::local_time(at)),
            (_, _, true) => format!("{} av {} granskade", self.checked, self.items),
            _ => "Inte påbörjad".into(),
        }
    }
}

#[derive(Template)]
#[template(path = "participants/access_reviews.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<ReviewRow>,
}

/// The months to review, per unit: the last twelve that have ended.
async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Manager])?;
    let today = state.clock.today();
    let this_month = today.with_day(1).unwrap_or(today);
    let months: Vec<NaiveDate> = (1..=MONTHS_LISTED)
        .filter_map(|back| this_month.checked_sub_months(Months::new(back)))
        .collect();
    let rows = sqlx::query_as!(
        ReviewRow,
        r#"SELECT u.id AS "unit_id: UnitId", u.name AS unit_name, m.month AS "month!",
                  (SELECT count(*) FROM access_review_items i WHERE i.review_id = r.id) AS "items!",
                  (SELECT count(*) FROM access_review_items i WHERE i.review_id = r.id AND i.checked_at IS NOT NULL) AS "checked!",
                  s.name AS "signed_off_by?", r.signed_off_at, r.id IS NOT NULL AS "drawn!"
           FROM units u
           CROSS JOIN unnest($2::date[]) AS m(month)
           LEFT JOIN access_reviews r ON r.unit_id = u.id AND r.month = m.month
           LEFT JOIN users s ON s.id = r.signed_off_by
           WHERE u.id = ANY($1)
           ORDER BY u.name, m.month DESC"#,
        &current.user.unit_ids as _,
        &months
    )
    .fetch_all(&state.db)
    .await?;
    let page = ListPage {
        layout: Layout::new(&current.ctx, "access_review"),
        rows,
    };
    crate::web::page(&page, false)
}

/// A row of the sample: the access-log row, why it is in the sample, and
/// whether it is checked.
pub struct Item {
    pub read: LogRow,
    pub whys: Vec<String>,
    pub checked_by: Option<String>,
    pub note: String,
}

impl Item {
    pub fn access_id(&self) -> i64 {
        self.read.id
    }
    pub fn why_text(&self) -> String {
        self.whys.iter().map(|w| Why::label_of(w)).collect::<Vec<_>>().join(", ")
    }
}

/// A drawn review.
pub struct Review {
    pub id: i64,
    pub reads: i64,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<DateTime<Utc>>,
    pub sign_off_note: String,
}

/// Users with unusually many reads in the month: name and count.
pub struct Heavy {
    pub name: String,
    pub reads: i64,
}

#[derive(Template)]
#[template(path = "participants/access_review.html")]
struct ReviewPage {
    layout: Layout,
    unit_name: String,
    month_name: String,
    path: String,
    review: Option<Review>,
    items: Vec<Item>,
    heavy: Vec<Heavy>,
    errors: FieldErrors,
    /// Notes as typed, by access-log row, when a save was refused.
    typed_notes: HashMap<i64, String>,
}

impl ReviewPage {
    fn signed(&self) -> bool {
        self.review.as_ref().is_some_and(|r| r.signed_off_at.is_some())
    }
    fn note_of(&self, item: &Item) -> String {
        self.typed_notes
            .get(&item.access_id())
            .cloned()
            .unwrap_or_else(|| item.note.clone())
    }
    fn signed_off_text(&self) -> String {
        match &self.review {
            Some(Review {
                signed_off_by: Some(by),
                signed_off_at: Some(at),
                ..
            }) => format!("Avslutad av {by} {}.", crate::web::format::local_time(*at)),
            _ => String::new(),
        }
    }
}

async fn review_of(state: &AppState, unit: UnitId, month: NaiveDate) -> AppResult<Option<Review>> {
    Ok(sqlx::query_as!(
        Review,
        r#"SELECT r.id, r.reads, s.name AS "signed_off_by?", r.signed_off_at, r.sign_off_note
           FROM access_reviews r LEFT JOIN users s ON s.id = r.signed_off_by
           WHERE r.unit_id = $1 AND r.month = $2"#,
        unit as _,
        month
    )
    .fetch_optional(&state.db)
    .await?)
}

/// The sample's rows, in time order.
async fn items_of(state: &AppState, review: i64) -> AppResult<Vec<Item>> {
    let reads = sqlx::query_as!(
        LogRow,
        r#"SELECT a.id, a.occurred_at, u.name AS user_name, a.user_role, coalesce(un.name, '') AS "unit_name!",
                  a.participant_id AS "participant_id: ParticipantId", p.first_name || ' ' || p.last_name AS participant_name,
                  a.action, a.in_caseload, a.reason AS "reason: Reason", a.reason_note
           FROM access_review_items i
           JOIN access_log a ON a.id = i.access_id
           JOIN users u ON u.id = a.user_id
           LEFT JOIN units un ON un.id = a.unit_id
           LEFT JOIN participants p ON p.id = a.participant_id
           WHERE i.review_id = $1
           ORDER BY a.occurred_at, a.id"#,
        review
    )
    .fetch_all(&state.db)
    .await?;
    let mut marks: HashMap<i64, (Vec<String>, Option<String>, String)> = sqlx::query!(
        r#"SELECT i.access_id AS "access_id!", i.whys AS "whys!", c.name AS "checked_by?", i.note AS "note!"
           FROM access_review_items i LEFT JOIN users c ON c.id = i.checked_by WHERE i.review_id = $1"#,
        review
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| (r.access_id, (r.whys, r.checked_by, r.note)))
    .collect();
    Ok(reads
        .into_iter()
        .map(|read| {
            let (whys, checked_by, note) = marks.remove(&read.id).unwrap_or_default();
            Item {
                read,
                whys,
                checked_by,
                note,
            }
        })
        .collect())
}

async fn page_of(
    state: &AppState,
    current: &CurrentUser,
    unit: UnitId,
    month: NaiveDate,
    errors: FieldErrors,
    typed_notes: HashMap<i64, String>,
) -> AppResult<Response> {
    let unit_name = sqlx::query_scalar!("SELECT name FROM units WHERE id = $1", unit as _)
        .fetch_one(&state.db)
        .await?;
    let review = review_of(state, unit, month).await?;
    let (items, heavy) = match &review {
        Some(review) => (
            items_of(state, review.id).await?,
            sqlx::query_as!(
                Heavy,
                r#"SELECT u.name, count(*) AS "reads!"
                   FROM access_review_items i JOIN access_log a ON a.id = i.access_id JOIN users u ON u.id = a.user_id
                   WHERE i.review_id = $1 AND 'many' = ANY(i.whys)
                   GROUP BY u.id, u.name ORDER BY u.name"#,
                review.id
            )
            .fetch_all(&state.db)
            .await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let refused = !errors.is_empty();
    let page = ReviewPage {
        layout: Layout::new(&current.ctx, "access_review"),
        unit_name,
        month_name: month_name(month),
        path: format!("/access-review/{unit}/{}", month.format("%Y-%m")),
        review,
        items,
        heavy,
        errors,
        typed_notes,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, current: CurrentUser, Path((unit, month)): Path<(i64, String)>) -> AppResult<Response> {
    let (unit, month) = parse_path(&current, unit, &month, state.clock.today())?;
    page_of(&state, &current, unit, month, FieldErrors::default(), HashMap::new()).await
}

/// Draws the month's sample, once: a second press (or another manager at the
/// same moment) finds it drawn and changes nothing.
async fn draw(State(state): State<AppState>, current: CurrentUser, Path((unit, month)): Path<(i64, String)>) -> AppResult<Response> {
    let (unit, month) = parse_path(&current, unit, &month, state.clock.today())?;
    let next = month.checked_add_months(Months::new(1)).ok_or(AppError::NotFound)?;
    let (from, to) = (crate::clock::start_of_day(month), crate::clock::start_of_day(next));
    let stamp = current.stamp(state.clock.now());
    in_transaction(&state.db, async |tx| {
        let reads = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM access_log WHERE unit_id = $1 AND occurred_at >= $2 AND occurred_at < $3"#,
            unit as _,
            from,
            to
        )
        .fetch_one(&mut *tx)
        .await?;
        let Some(review) = sqlx::query_scalar!(
            "INSERT INTO access_reviews (unit_id, month, drawn_at, drawn_by, reads) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (unit_id, month) DO NOTHING RETURNING id",
            unit as _,
            month,
            stamp.at,
            stamp.by as _,
            reads
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(());
        };
        sqlx::query!(
            r#"WITH month_rows AS (
                   SELECT a.id, a.user_id, a.user_role, a.participant_id, a.action, a.in_caseload
                   FROM access_log a WHERE a.unit_id = $2 AND a.occurred_at >= $3 AND a.occurred_at < $4),
               per_user AS (SELECT user_id, count(*) AS n FROM month_rows GROUP BY user_id),
               threshold AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS median FROM per_user),
               heavy AS (SELECT p.user_id FROM per_user p, threshold t WHERE p.n > t.median * $6 AND p.n >= $7),
               random_pick AS (SELECT id FROM month_rows ORDER BY random() LIMIT $5),
               heavy_pick AS (
                   SELECT id FROM (SELECT m.id, row_number() OVER (PARTITION BY m.user_id ORDER BY random()) AS k
                                   FROM month_rows m WHERE m.user_id IN (SELECT user_id FROM heavy)) x
                   WHERE k <= $8),
               marked AS (
                   SELECT m.id, array_remove(ARRAY[
                              CASE WHEN m.id IN (SELECT id FROM random_pick) THEN 'random' END,
                              CASE WHEN m.in_caseload = false AND m.user_role <> 'manager' THEN 'outside' END,
                              CASE WHEN p.protected_identity THEN 'protected' END,
                              CASE WHEN m.id IN (SELECT id FROM heavy_pick) THEN 'many' END,
                              CASE WHEN m.action = 'denied' THEN 'denied' END], NULL) AS whys
                   FROM month_rows m LEFT JOIN participants p ON p.id = m.participant_id)
               INSERT INTO access_review_items (review_id, access_id, whys)
               SELECT $1, id, whys FROM marked WHERE cardinality(whys) > 0"#,
            review,
            unit as _,
            from,
            to,
            random_share(reads),
            MANY_FACTOR,
            MANY_FLOOR,
            MANY_PICK
        )
        .execute(&mut *tx)
        .await?;
        crate::audit::Entry::new(Some(stamp.by), "access_review_drawn")
            .record("unit", unit)
            .details(&month.format("%Y-%m").to_string())
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/access-review/{unit}/{}", month.format("%Y-%m"))).into_response())
}

/// The rows as the form sends them: `checked` once per ticked row (its
/// access-log id), and `note_<id>` per row.
#[derive(Default)]
pub struct CheckForm {
    checked: Vec<i64>,
    notes: HashMap<i64, String>,
}

impl<'de> serde::Deserialize<'de> for CheckForm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs: Vec<(String, String)> = serde::Deserialize::deserialize(deserializer)?;
        let mut form = CheckForm::default();
        for (name, value) in pairs {
            if name == "checked" {
                if let Ok(id) = value.parse() {
                    form.checked.push(id);
                }
            } else if let Some(id) = name.strip_prefix("note_").and_then(|id| id.parse().ok()) {
                form.notes.insert(id, value.trim().to_string());
            }
        }
        Ok(form)
    }
}

const NOTE_MAX: usize = 1000;

/// Saves which rows are checked and their notes; refused once signed off.
async fn check(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((unit, month)): Path<(i64, String)>,
    FormData(form): FormData<CheckForm>,
) -> AppResult<Response> {
    let (unit, month) = parse_path(&current, unit, &month, state.clock.today())?;
    let review = review_of(&state, unit, month).await?.ok_or(AppError::NotFound)?;
    if review.signed_off_at.is_some() {
        return Err(AppError::Conflict("Loggkontrollen är redan avslutad och kan inte ändras."));
    }
    let mut errors = FieldErrors::default();
    if form.notes.values().any(|n| n.chars().count() > NOTE_MAX) {
        errors.add("notes", "En anteckning är högst 1 000 tecken.");
        return page_of(&state, &current, unit, month, errors, form.notes).await;
    }
    let stamp = current.stamp(state.clock.now());
    let ids: Vec<i64> = form.notes.keys().copied().collect();
    let notes: Vec<String> = ids.iter().map(|id| form.notes[id].clone()).collect();
    let checked: Vec<bool> = ids.iter().map(|id| form.checked.contains(id)).collect();
    in_transaction(&state.db, async |tx| {
        // A row keeps who checked it first; unticked, it is open again.
        sqlx::query!(
            "UPDATE access_review_items i
             SET note = f.note,
                 checked_by = CASE WHEN f.checked THEN coalesce(i.checked_by, $2) END,
                 checked_at = CASE WHEN f.checked THEN coalesce(i.checked_at, $3) END
             FROM unnest($4::bigint[], $5::text[], $6::bool[]) AS f(access_id, note, checked)
             WHERE i.review_id = $1 AND i.access_id = f.access_id",
            review.id,
            stamp.by as _,
            stamp.at,
            &ids,
            &notes,
            &checked
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
    .await?;
    current.flash("Granskningen är sparad.");
    Ok(Redirect::to(&format!("/access-review/{unit}/{}", month.format("%Y-%m"))).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SignOffForm {
    sign_off_note: String,
}

/// Signs the review off when every row is checked; stored with who and when.
async fn sign_off(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((unit, month)): Path<(i64, String)>,
    FormData(form): FormData<SignOffForm>,
) -> AppResult<Response> {
    let (unit, month) = parse_path(&current, unit, &month, state.clock.today())?;
    let review = review_of(&state, unit, month).await?.ok_or(AppError::NotFound)?;
    if review.signed_off_at.is_some() {
        return Err(AppError::Conflict("Loggkontrollen är redan avslutad."));
    }
    let note = form.sign_off_note.trim().to_string();
    let mut errors = FieldErrors::default();
    if note.chars().count() > 2000 {
        errors.add("sign_off_note", "Högst 2 000 tecken.");
    }
    let stamp = current.stamp(state.clock.now());
    let signed = if errors.is_empty() {
        in_transaction(&state.db, async |tx| {
            let done = sqlx::query!(
                "UPDATE access_reviews SET signed_off_by = $2, signed_off_at = $3, sign_off_note = $4
                 WHERE id = $1 AND signed_off_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM access_review_items WHERE review_id = $1 AND checked_at IS NULL)",
                review.id,
                stamp.by as _,
                stamp.at,
                note
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                crate::audit::Entry::new(Some(stamp.by), "access_review_signed_off")
                    .record("unit", unit)
                    .details(&month.format("%Y-%m").to_string())
                    .write(&mut *tx, stamp.at)
                    .await?;
            }
            Ok(Kept(done == 1))
        })
        .await?
        .0
    } else {
        false
    };
    if !signed {
        if errors.is_empty() {
            errors.add(
                "sign_off_note",
                "Markera alla rader som granskade innan du avslutar loggkontrollen.",
            );
        }
        return page_of(&state, &current, unit, month, errors, HashMap::new()).await;
    }
    current.flash(&format!("Loggkontrollen för {} är avslutad.", month_name(month)));
    Ok(Redirect::to(&format!("/access-review/{unit}/{}", month.format("%Y-%m"))).into_response())
}

/// The reviews of ended months a manager has not signed off (for Att göra).
pub async fn open_for(state: &AppState, manager: &CurrentUser) -> AppResult<Vec<(UnitId, String, NaiveDate)>> {
    let today = state.clock.today();
    let Some(last) = today.with_day(1).and_then(|d| d.checked_sub_months(Months::new(1))) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query!(
        r#"SELECT u.id AS "unit: UnitId", u.name
           FROM units u
           WHERE u.id = ANY($1)
             AND NOT EXISTS (SELECT 1 FROM access_reviews r WHERE r.unit_id = u.id AND r.month = $2 AND r.signed_off_at IS NOT NULL)
           ORDER BY u.name"#,
        &manager.user.unit_ids as _,
        last
    )
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.unit, r.name, last)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_random_share_is_two_per_cent_within_its_bounds() {
        assert_eq!(random_share(0), 0);
        assert_eq!(random_share(7), 7, "a small month is read whole");
        assert_eq!(random_share(100), 10);
        assert_eq!(random_share(1_000), 20);
        assert_eq!(random_share(1_000_000), SAMPLE_MAX);
    }

    #[test]
    fn only_ended_months_are_reviewed() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(month_of("2026-10"), NaiveDate::from_ymd_opt(2026, 10, 1));
        assert_eq!(month_of("2026-13"), None);
        assert_eq!(month_of("26-10"), None);
        assert!(reviewable(month_of("2026-10").unwrap(), today));
        assert!(!reviewable(month_of("2026-11").unwrap(), today));
        assert_eq!(month_name(month_of("2026-10").unwrap()), "oktober 2026");
    }

    #[test]
    fn the_form_reads_ticks_and_notes_per_row() {
        let form: CheckForm = serde_html_form::from_str("checked=5&note_5=Ok&note_6=+Fr%C3%A5ga+chefen+&checked=x&note_y=z").unwrap();
        assert_eq!(form.checked, vec![5]);
        assert_eq!(form.notes.get(&6).map(String::as_str), Some("Fråga chefen"));
        assert_eq!(form.notes.len(), 2);
    }
}
