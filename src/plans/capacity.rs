//! A unit's capacity (a setting per unit) and what its active plans use.
//! Taking a place locks the unit's row for the rest of the transaction, so
//! two staff taking the last place at the same moment take turns: the first
//! gets it, the second sees it taken.

use crate::domain::plans::{Capacity, InUse, Programme, WeeklyHours};
use sqlx::PgConnection;

/// The unit's capacity for `programme` and what active plans use of it
/// (leaving out `except_plan`, whose own hours are being decided).
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub capacity: Capacity,
    pub in_use: InUse,
}

impl Usage {
    pub fn fits(&self, hours: WeeklyHours) -> bool {
        crate::domain::plans::fits(self.capacity, self.in_use, hours)
    }

    /// "98 av 105 timmar" or "5 av 6 platser", for messages and pages.
    pub fn describe(&self) -> String {
        match self.capacity {
            Capacity::Hours(limit) => format!(
                "{} av {} timmar per vecka används",
                crate::web::format::hours(Some(self.in_use.hours.as_f64())),
                crate::web::format::hours(Some(limit.as_f64()))
            ),
            Capacity::Places(limit) => format!("{} av {} platser används", self.in_use.places, limit),
        }
    }
}

async fn measure(
    conn: &mut PgConnection,
    unit_id: i64,
    programme: Programme,
    except_plan: Option<i64>,
    lock: bool,
) -> Result<Usage, sqlx::Error> {
    let unit = if lock {
        sqlx::query!(
            r#"SELECT (first_step_hours * 100)::int AS "hours!", team_isa_places FROM units WHERE id = $1 FOR UPDATE"#,
            unit_id
        )
        .fetch_one(&mut *conn)
        .await
        .map(|r| (r.hours, r.team_isa_places))?
    } else {
        sqlx::query!(
            r#"SELECT (first_step_hours * 100)::int AS "hours!", team_isa_places FROM units WHERE id = $1"#,
            unit_id
        )
        .fetch_one(&mut *conn)
        .await
        .map(|r| (r.hours, r.team_isa_places))?
    };
    let used = sqlx::query!(
        r#"SELECT coalesce(sum(weekly_hours * 100), 0)::int AS "hours!", count(*)::int AS "places!"
           FROM plans WHERE unit_id = $1 AND programme = $2 AND status = 'active' AND id <> coalesce($3::bigint, 0)"#,
        unit_id,
        programme.code(),
        except_plan
    )
    .fetch_one(&mut *conn)
    .await?;
    let capacity = match programme {
        Programme::FirstStep => Capacity::Hours(WeeklyHours::from_hundredths(unit.0.max(0) as u32)),
        Programme::TeamIsa => Capacity::Places(unit.1.max(0) as u32),
    };
    Ok(Usage {
        capacity,
        in_use: InUse {
            hours: WeeklyHours::from_hundredths(used.hours.max(0) as u32),
            places: used.places.max(0) as u32,
        },
    })
}

/// Locks the unit's capacity until the transaction ends, then measures it.
pub async fn lock(conn: &mut PgConnection, unit_id: i64, programme: Programme, except_plan: Option<i64>) -> Result<Usage, sqlx::Error> {
    measure(conn, unit_id, programme, except_plan, true).await
}

/// Measures without locking, for showing.
pub async fn usage(conn: &mut PgConnection, unit_id: i64, programme: Programme) -> Result<Usage, sqlx::Error> {
    measure(conn, unit_id, programme, None, false).await
}
