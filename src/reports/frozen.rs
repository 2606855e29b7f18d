//! Fastställda perioder (issue 16): a manager freezes a month or a year of
//! one unit's report. Its tables are stored as they stood (migration 0019),
//! with who froze them, when, and the version of the indicator definitions;
//! afterwards the report, the CSV and the workbook show the stored figures,
//! and the page lists every figure that later corrections would change.

use super::annual::{self, Period};
use super::{READERS, Table};
use crate::audit::{self, Stamp};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::ids::UnitId;
use crate::reports::indicators::{self, DEFINITIONS_VERSION};
use crate::state::AppState;
use crate::web::form::FormData;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A frozen period as stored.
#[derive(Clone, Debug)]
pub struct Freeze {
    pub tables: Vec<Table>,
    pub definitions: i32,
    pub frozen_by: String,
    pub frozen_at: DateTime<Utc>,
}

impl Freeze {
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.frozen_at)
    }

    /// Whether the definitions have changed since (then the figures may
    /// differ for that reason too).
    pub fn older_definitions(&self) -> bool {
        self.definitions != DEFINITIONS_VERSION
    }
}

/// The unit's frozen report for `period`, if there is one.
pub async fn find(db: &sqlx::PgPool, unit: UnitId, period: Period) -> Result<Option<Freeze>, AppError> {
    let row = sqlx::query!(
        r#"SELECT f.tables, f.definitions, u.name AS frozen_by, f.frozen_at
           FROM report_freezes f JOIN users u ON u.id = f.frozen_by
           WHERE f.unit_id = $1 AND f.kind = $2 AND f.period_from = $3"#,
        unit as _,
        period.kind(),
        period.first_day()
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let tables = serde_json::from_value(row.tables).map_err(|e| AppError::Internal(anyhow::anyhow!("stored report: {e}")))?;
    Ok(Some(Freeze {
        tables,
        definitions: row.definitions,
        frozen_by: row.frozen_by,
        frozen_at: row.frozen_at,
    }))
}

/// Stores the tables as the unit's report for `period`, once: a second
/// request for the same period (a double click, another manager) keeps the
/// first. Written to the audit log with the period, never with figures.
pub async fn freeze(db: &sqlx::PgPool, unit: UnitId, period: Period, tables: &[Table], stamp: Stamp) -> AppResult<()> {
    let tables = serde_json::to_value(tables).map_err(|e| AppError::Internal(anyhow::anyhow!("report to store: {e}")))?;
    crate::db::in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            "INSERT INTO report_freezes (unit_id, kind, period_from, period_to, definitions, tables, frozen_by, frozen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT ON CONSTRAINT report_freezes_once DO NOTHING RETURNING id",
            unit as _,
            period.kind(),
            period.first_day(),
            period.last_day(),
            DEFINITIONS_VERSION,
            tables,
            stamp.by as _,
            stamp.at
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            audit::Entry::new(Some(stamp.by), "report_frozen")
                .record("report_freeze", id)
                .details(&format!("enhet {unit}, {}", period.name()))
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(())
    })
    .await
}

/// A figure that differs between the frozen report and the same report
/// computed today.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub table: String,
    pub row: String,
    pub column: String,
    pub stored: String,
    pub now: String,
}

/// Every figure of `stored` that `now` shows otherwise, matched by table,
/// row and column; a row or table that is gone now shows "–".
pub fn changes(stored: &[Table], now: &[Table]) -> Vec<Change> {
    let mut found = Vec::new();
    for table in stored {
        let current = now.iter().find(|t| t.title == table.title);
        for row in &table.rows {
            let current_row = current.and_then(|t| t.rows.iter().find(|r| r.key == row.key));
            for (i, cell) in row.cells.iter().enumerate() {
                let was = cell.text();
                let is = current_row.and_then(|r| r.cells.get(i)).map_or("–".to_string(), |c| c.text());
                if was != is {
                    found.push(Change {
                        table: table.title.clone(),
                        row: row.label.clone(),
                        column: table.header.get(i + 1).cloned().unwrap_or_default(),
                        stored: was,
                        now: is,
                    });
                }
            }
        }
    }
    found
}

/// "1 uppgift har ändrats …", "3 uppgifter har ändrats …".
pub fn changes_text(n: usize) -> String {
    match n {
        1 => "1 uppgift har ändrats efter fastställandet".into(),
        n => format!("{n} uppgifter har ändrats efter fastställandet"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FreezeForm {
    unit: String,
    year: String,
    month: String,
}

/// Fastställ: one unit's period, once it is over.
pub async fn post(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<FreezeForm>) -> AppResult<Response> {
    current.require(READERS)?;
    let today = state.clock.today();
    let unit = form
        .unit
        .parse::<UnitId>()
        .ok()
        .filter(|u| current.user.unit_ids.contains(u))
        .ok_or(AppError::Forbidden)?;
    let period = annual::chosen_period(&form.year, &form.month, today).map_err(|_| AppError::BadRequest("bad period"))?;
    if !period.is_over(today) {
        return Err(AppError::BadRequest("period not over"));
    }
    let report = annual::build(&state.db, &state.caches.get::<indicators::FactCache>(), vec![unit], period, today).await?;
    freeze(&state.db, unit, period, &report.tables, current.stamp(state.clock.now())).await?;
    current.flash(&format!("{} är fastställd.", report.heading()));
    Ok(Redirect::to(&format!("/annual-report?{}", annual::query_of(&unit.to_string(), period))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::TableRow;
    use crate::reports::indicators::CellValue;

    fn table(rows: &[(&str, &[f64])]) -> Table {
        Table {
            title: "Utfall".into(),
            header: vec!["Nyckeltal".into(), "Kvinnor".into(), "Män".into()],
            rows: rows
                .iter()
                .map(|(key, cells)| TableRow {
                    key: key.to_string(),
                    label: format!("Rad {key}"),
                    cells: cells.iter().map(|n| CellValue::Number(*n)).collect(),
                    drill: false,
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn every_changed_figure_is_listed_with_both_values() {
        let stored = [table(&[("a", &[7.0, 5.0]), ("b", &[1.0, 2.0])])];
        let now = [table(&[("b", &[1.0, 3.0]), ("a", &[8.0, 5.0])])];
        let found = changes(&stored, &now);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            Change {
                table: "Utfall".into(),
                row: "Rad a".into(),
                column: "Kvinnor".into(),
                stored: "7".into(),
                now: "8".into()
            }
        );
        assert_eq!((found[1].column.as_str(), found[1].now.as_str()), ("Män", "3"));
        assert!(changes(&stored, &stored).is_empty());
        // A row gone since: its figures are changes too.
        assert_eq!(changes(&stored, &[table(&[("a", &[7.0, 5.0])])]).len(), 2);
        assert_eq!(changes_text(1), "1 uppgift har ändrats efter fastställandet");
        assert_eq!(changes_text(3), "3 uppgifter har ändrats efter fastställandet");
    }
}
