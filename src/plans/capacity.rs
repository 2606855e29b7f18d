//! A unit's capacity (a setting per unit) and what its active plans use, in
//! the domain's terms (hundredths of an hour, places), read by one statement
//! for the capacity and one for what is in use, whether for one unit while a
//! plan takes a place or for every unit on the overview. Taking a place locks
//! the unit's row for the rest of the transaction, so two staff taking the
//! last place at the same moment take turns: the first gets it, the second
//! sees it taken.

use crate::domain::plans::{Capacity, InUse, Programme, WeeklyHours};
use crate::ids::{PlanId, UnitId};
use sqlx::PgConnection;

/// The unit's capacity for `programme` and what active plans use of it
/// (leaving out `except_plan`, whose own hours are being decided).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// One unit's capacity and use, both programmes: a row of the overview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitUsage {
    pub unit_id: UnitId,
    pub name: String,
    pub first_step: Usage,
    pub team_isa: Usage,
}

impl UnitUsage {
    pub fn of(&self, programme: Programme) -> Usage {
        match programme {
            Programme::FirstStep => self.first_step,
            Programme::TeamIsa => self.team_isa,
        }
    }
}

/// Capacity and use of `units` (in name order), leaving out `except_plan`.
async fn measure(conn: &mut PgConnection, units: &[UnitId], except_plan: Option<PlanId>) -> Result<Vec<UnitUsage>, sqlx::Error> {
    let settings = sqlx::query!(
        r#"SELECT id AS "id: UnitId", name, (first_step_hours * 100)::int AS "hours!", team_isa_places FROM units WHERE id = ANY($1) ORDER BY name, id"#,
        units as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let used = sqlx::query!(
        r#"SELECT unit_id AS "unit_id: UnitId", programme AS "programme: Programme", coalesce(sum(weekly_hours * 100), 0)::int AS "hours!",
                  count(*)::int AS "places!"
           FROM plans WHERE unit_id = ANY($1) AND status = 'active' AND id <> coalesce($2::bigint, 0)
           GROUP BY unit_id, programme"#,
        units as _,
        except_plan as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let in_use = |unit: UnitId, programme: Programme| {
        used.iter()
            .find(|u| u.unit_id == unit && u.programme == programme)
            .map(|u| InUse {
                hours: WeeklyHours::from_hundredths(u.hours.max(0) as u32),
                places: u.places.max(0) as u32,
            })
            .unwrap_or(InUse {
                hours: WeeklyHours::from_hundredths(0),
                places: 0,
            })
    };
    Ok(settings
        .into_iter()
        .map(|unit| UnitUsage {
            first_step: Usage {
                capacity: Capacity::Hours(WeeklyHours::from_hundredths(unit.hours.max(0) as u32)),
                in_use: in_use(unit.id, Programme::FirstStep),
            },
            team_isa: Usage {
                capacity: Capacity::Places(unit.team_isa_places.max(0) as u32),
                in_use: in_use(unit.id, Programme::TeamIsa),
            },
            unit_id: unit.id,
            name: unit.name,
        })
        .collect())
}

async fn one(conn: &mut PgConnection, unit_id: UnitId, programme: Programme, except_plan: Option<PlanId>) -> Result<Usage, sqlx::Error> {
    measure(conn, &[unit_id], except_plan)
        .await?
        .first()
        .map(|u| u.of(programme))
        .ok_or(sqlx::Error::RowNotFound)
}

/// Locks the unit's capacity until the transaction ends, then measures it.
pub async fn lock(
    conn: &mut PgConnection,
    unit_id: UnitId,
    programme: Programme,
    except_plan: Option<PlanId>,
) -> Result<Usage, sqlx::Error> {
    sqlx::query!("SELECT id FROM units WHERE id = $1 FOR UPDATE", unit_id as _)
        .fetch_one(&mut *conn)
        .await?;
    one(conn, unit_id, programme, except_plan).await
}

/// Measures without locking, for showing.
pub async fn usage(conn: &mut PgConnection, unit_id: UnitId, programme: Programme) -> Result<Usage, sqlx::Error> {
    one(conn, unit_id, programme, None).await
}

/// Every one of `units`, both programmes, for the overview.
pub async fn of_units(conn: &mut PgConnection, units: &[UnitId]) -> Result<Vec<UnitUsage>, sqlx::Error> {
    measure(conn, units, None).await
}
