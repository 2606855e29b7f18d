//! Reading the indicators' facts: the period's visits and follow-ups on
//! every request, the units' records, plans and boendestöd kept in memory
//! (`FactCache`) while `fact_versions` says they are unchanged.

use super::*;
use crate::ids::{EmployerId, ParticipantId, PlanId, UnitId};

/// The participants with a visit (not undone) from `from` to `to`, one
/// statement per calendar year the period touches. A year the period covers
/// up to `today` needs no mask: nobody has a visit after today, and a row
/// exists only while a day of it is set, so every row that year is a visit
/// in the period. Otherwise the period's days of that year are a mask,
/// built once per statement (an InitPlan), not once per row.
async fn visited_between(
    db: &sqlx::PgPool,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<HashSet<ParticipantId>, sqlx::Error> {
    let mut visited = HashSet::default();
    for year in from.year()..=to.year() {
        let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
            continue;
        };
        let whole = from <= first && to >= last.min(today);
        let ids = sqlx::query_scalar!(
            r#"SELECT coalesce(array_agg(participant_id), '{}') AS "ids!: Vec<ParticipantId>" FROM visit_days
               WHERE year = $1 AND ($2 OR bit_count(days & (SELECT visit_days_mask($1, $3, $4))) > 0)"#,
            year,
            whole,
            from,
            to
        )
        .fetch_one(db)
        .await?;
        visited.extend(ids);
    }
    Ok(visited)
}

/// What `compute` needs that does not depend on the period: the units'
/// records (first visit as typed), plans and boendestöd.
#[derive(Debug)]
pub struct UnitFacts {
    records: Vec<Record>,
    plans: Vec<PlanFact>,
    support: Vec<SupportEntry>,
}

/// The units' facts kept in memory between requests, by set of units, while
/// `fact_versions` (migration 0008) says nothing they hold has changed. The
/// version is read before the facts, so a kept copy is never older than the
/// version it is kept under; a change in another instance moves the version
/// all instances read.
#[derive(Default)]
pub struct FactCache {
    entries: std::sync::Mutex<Vec<CachedFacts>>,
}

struct CachedFacts {
    units: Vec<UnitId>,
    version: i64,
    facts: std::sync::Arc<UnitFacts>,
}

/// Sets of units kept at once (each about a megabyte at ten thousand records).
const CACHED_UNIT_SETS: usize = 16;

impl FactCache {
    fn get(&self, units: &[UnitId], version: i64) -> Option<std::sync::Arc<UnitFacts>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .iter()
            .find(|e| e.units == units && e.version == version)
            .map(|e| e.facts.clone())
    }

    fn put(&self, units: Vec<UnitId>, version: i64, facts: std::sync::Arc<UnitFacts>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|e| e.units != units);
        if entries.len() >= CACHED_UNIT_SETS {
            entries.remove(0);
        }
        entries.push(CachedFacts { units, version, facts });
    }
}

/// Everything `compute` needs, read afresh.
pub async fn load(db: &sqlx::PgPool, scope: &Scope) -> Result<Facts, sqlx::Error> {
    load_with(db, None, scope).await
}

/// Everything `compute` needs, with the units' records, plans and boendestöd
/// from `cache` when they have not changed since it read them.
pub async fn load_cached(db: &sqlx::PgPool, cache: &FactCache, scope: &Scope) -> Result<Facts, sqlx::Error> {
    load_with(db, Some(cache), scope).await
}

/// A handful of queries whatever the period; those that do not depend on
/// each other run at once, each on a connection of its own.
async fn load_with(db: &sqlx::PgPool, cache: Option<&FactCache>, scope: &Scope) -> Result<Facts, sqlx::Error> {
    let (last_from, last_to) = scope.last_year();
    let (version, visited, visited_last_year, follow_ups, last_visits, first_visits, (placements, forum_employers)) = tokio::try_join!(
        sqlx::query_scalar!("SELECT version FROM fact_versions WHERE facts = 'indicators'").fetch_one(db),
        // Who visited in the period and a year earlier: one pass over the
        // people's visit days (migration 0007) instead of the visits themselves.
        visited_between(db, scope.from, scope.to, scope.today),
        visited_between(db, last_from, last_to, scope.today),
        load_follow_ups(db, scope),
        load_last_visits_after_work(db, scope),
        load_first_visits(db, scope),
        load_work_with_employers(db, scope),
    )?;
    let mut units = scope.units.clone();
    units.sort_unstable();
    units.dedup();
    let unit_facts = match cache.and_then(|c| c.get(&units, version)) {
        Some(facts) => facts,
        None => {
            let (records, plans, support) = tokio::try_join!(load_records(db, scope), load_plans(db, scope), load_support(db, scope))?;
            let facts = std::sync::Arc::new(UnitFacts { records, plans, support });
            if let Some(cache) = cache {
                cache.put(units, version, facts.clone());
            }
            facts
        }
    };
    let mut records = unit_facts.records.clone();
    for r in &mut records {
        r.visited = visited.contains(&r.id);
        r.visited_last_year = visited_last_year.contains(&r.id);
        r.last_visit = last_visits.get(&r.id).copied();
        if r.first_visit_on.is_none() {
            r.first_visit_on = first_visits.get(&r.id).copied();
        }
    }
    Ok(Facts {
        records,
        plans: unit_facts.plans.clone(),
        follow_ups,
        support: unit_facts.support.clone(),
        placements,
        forum_employers,
    })
}

/// The period's lärandeplatser of the units' people, and the employers at
/// their forumträffar (issue 19): a few rows, read per request.
async fn load_work_with_employers(
    db: &sqlx::PgPool,
    scope: &Scope,
) -> Result<(Vec<super::PlacementFact>, Vec<crate::ids::EmployerId>), sqlx::Error> {
    let placements = sqlx::query_as!(
        super::PlacementFact,
        r#"SELECT pl.participant_id AS "participant_id: ParticipantId", pl.employer_id AS "employer_id: crate::ids::EmployerId"
           FROM placements pl JOIN participants p ON p.id = pl.participant_id
           WHERE p.unit_id = ANY($1) AND pl.start_on <= $3 AND (pl.end_on IS NULL OR pl.end_on >= $2)"#,
        &scope.units as _,
        scope.from,
        scope.to
    )
    .fetch_all(db)
    .await?;
    let forum_employers = sqlx::query_scalar!(
        r#"SELECT DISTINCT a.employer_id AS "id: crate::ids::EmployerId" FROM employer_forum_attendees a
           JOIN employer_forums f ON f.id = a.forum_id WHERE f.unit_id = ANY($1) AND f.held_on BETWEEN $2 AND $3"#,
        &scope.units as _,
        scope.from,
        scope.to
    )
    .fetch_all(db)
    .await?;
    Ok((placements, forum_employers))
}

/// The first visit logged, for the records whose first visit nobody typed in.
async fn load_first_visits(db: &sqlx::PgPool, scope: &Scope) -> Result<HashMap<ParticipantId, NaiveDate>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(p.id), '{}') AS "id!: Vec<ParticipantId>", coalesce(array_agg(f.first), '{}') AS "first!: Vec<NaiveDate>"
           FROM participants p CROSS JOIN LATERAL (
               SELECT min(v.visit_on) AS first FROM visits v WHERE v.participant_id = p.id AND v.cancelled_at IS NULL) f
           WHERE p.unit_id = ANY($1) AND p.first_visit_on IS NULL AND f.first IS NOT NULL"#,
        &scope.units as _
    )
    .fetch_one(db)
    .await?;
    Ok(r.id.into_iter().zip(r.first).collect())
}

/// The last visit in the period on every record of the people who once left
/// a plan for work (to see who came back): a few people, read from the visits.
async fn load_last_visits_after_work(db: &sqlx::PgPool, scope: &Scope) -> Result<HashMap<ParticipantId, NaiveDate>, sqlx::Error> {
    let r = sqlx::query!(
        // Each step is a probe by id or identity number (the same person
        // as person_key), whatever plan PostgreSQL keeps for the statement.
        r#"WITH left_for_work AS MATERIALIZED (
               SELECT DISTINCT participant_id AS id FROM plans
               WHERE unit_id = ANY($1) AND status <> 'draft' AND outcome = 'employment'),
           their_records AS MATERIALIZED (
               SELECT DISTINCT unnest(ARRAY(
                   SELECT o.id FROM participants p JOIN participants o
                     ON o.id = p.id OR (o.identity_kind = p.identity_kind AND o.identity_number = p.identity_number)
                        OR o.person_link = p.person_link
                   WHERE p.id = l.id AND p.unit_id = ANY($1) AND o.unit_id = ANY($1))) AS id
               FROM left_for_work l)
           SELECT coalesce(array_agg(r.id), '{}') AS "id!: Vec<ParticipantId>", coalesce(array_agg(l.last), '{}') AS "last!: Vec<NaiveDate>"
           FROM their_records r CROSS JOIN LATERAL (
               SELECT max(v.visit_on) AS last FROM visits v
               WHERE v.participant_id = r.id AND v.visit_on BETWEEN $2 AND $3 AND v.cancelled_at IS NULL) l
           WHERE l.last IS NOT NULL"#,
        &scope.units as _,
        scope.from,
        scope.to
    )
    .fetch_one(db)
    .await?;
    Ok(r.id.into_iter().zip(r.last).collect())
}

/// The units' records. Read as one row of arrays: decoding ten thousand
/// rows costs more than reading them.
async fn load_records(db: &sqlx::PgPool, scope: &Scope) -> Result<Vec<Record>, sqlx::Error> {
    let mut r = sqlx::query!(
        r#"SELECT coalesce(array_agg(p.id), '{}') AS "id!: Vec<ParticipantId>",
                  coalesce(array_agg(person_key(p.person_link, p.identity_kind, p.identity_number, p.id)), '{}') AS "person!",
                  coalesce(array_agg(p.gender), '{}') AS "gender!",
                  coalesce(array_agg(p.updated_at), '{}') AS "changed!",
                  coalesce(array_agg(coalesce(p.first_contact_on, (p.created_at AT TIME ZONE 'Europe/Stockholm')::date)), '{}') AS "start_on!: Vec<NaiveDate>",
                  coalesce(array_agg(p.first_contact_on), '{}') AS "first_contact_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(p.first_visit_on), '{}') AS "first_visit_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(p.ended_on), '{}') AS "ended_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(CASE WHEN p.has_coordinated_plan THEN coalesce(p.coordinated_plan_on, DATE '0001-01-01') END), '{}')
                      AS "sip_from!: Vec<Option<NaiveDate>>"
           FROM participants p
           WHERE p.unit_id = ANY($1)"#,
        &scope.units as _
    )
    .fetch_one(db)
    .await?;
    // Each record's status over time: ended, and come back.
    let events = sqlx::query!(
        r#"SELECT coalesce(array_agg(e.participant_id ORDER BY e.id), '{}') AS "participant_id!: Vec<ParticipantId>",
                  coalesce(array_agg(e.effective_on ORDER BY e.id), '{}') AS "on!: Vec<NaiveDate>",
                  coalesce(array_agg(e.status = 'ended' ORDER BY e.id), '{}') AS "ended!: Vec<bool>"
           FROM participant_status_events e JOIN participants p ON p.id = e.participant_id
           WHERE p.unit_id = ANY($1)"#,
        &scope.units as _
    )
    .fetch_one(db)
    .await?;
    let mut status_of: HashMap<ParticipantId, Vec<(NaiveDate, Option<NaiveDate>)>> = HashMap::default();
    for ((id, on), ended) in events.participant_id.into_iter().zip(events.on).zip(events.ended) {
        status_of
            .entry(id)
            .or_insert_with(|| vec![(NaiveDate::MIN, None)])
            .push((on, ended.then_some(on)));
    }
    let mut records: Vec<(chrono::DateTime<chrono::Utc>, Record)> = (0..r.id.len())
        .map(|i| {
            let id = r.id[i];
            let record = Record {
                id,
                person: std::mem::take(&mut r.person[i]),
                gender: Gender::parse(&r.gender[i]).unwrap_or(Gender::OtherOrUnstated),
                start_on: r.start_on[i],
                first_contact_on: r.first_contact_on.get(i).copied().flatten(),
                first_visit_on: r.first_visit_on.get(i).copied().flatten(),
                // Without a status history (a bulk load), the record's end as it stands.
                ended: match status_of.remove(&id) {
                    Some(steps) => Dated::new(steps),
                    None => match r.ended_on.get(i).copied().flatten() {
                        Some(end) => Dated::new(vec![(NaiveDate::MIN, None), (end, Some(end))]),
                        None => Dated::always(None),
                    },
                },
                coordinated_plan_from: r.sip_from.get(i).copied().flatten(),
                visited: false,
                visited_last_year: false,
                last_visit: None,
            };
            (r.changed[i], record)
        })
        .collect();
    // The most recently changed first: a person's gender is the one on that record.
    records.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

async fn load_plans(db: &sqlx::PgPool, scope: &Scope) -> Result<Vec<PlanFact>, sqlx::Error> {
    let (r, renewals, terms) = tokio::try_join!(
        sqlx::query!(
            r#"SELECT coalesce(array_agg(id), '{}') AS "id!: Vec<PlanId>",
                      coalesce(array_agg(participant_id), '{}') AS "participant_id!: Vec<ParticipantId>",
                      coalesce(array_agg(programme = 'team_isa'), '{}') AS "team_isa!",
                      coalesce(array_agg(set_on), '{}') AS "set_on!: Vec<Option<NaiveDate>>",
                      coalesce(array_agg(ended_on), '{}') AS "ended_on!: Vec<Option<NaiveDate>>",
                      coalesce(array_agg(coalesce(outcome, '')), '{}') AS "outcome!",
                      coalesce(array_agg(coalesce(employer_id, 0)), '{}') AS "employer_id!"
               FROM plans WHERE unit_id = ANY($1) AND status <> 'draft'"#,
            &scope.units as _
        )
        .fetch_one(db),
        // Only a renewal that says what was reviewed counts (migration 0012).
        sqlx::query!(
            r#"SELECT coalesce(array_agg(r.plan_id), '{}') AS "plan_id!: Vec<PlanId>", coalesce(array_agg(r.renewed_on), '{}') AS "on!: Vec<NaiveDate>"
               FROM plan_renewals r JOIN plans p ON p.id = r.plan_id WHERE p.unit_id = ANY($1) AND p.status <> 'draft'"#,
            &scope.units as _
        )
        .fetch_one(db),
        // The workplace over time (migration 0018), for the Team ISA plans.
        sqlx::query!(
            r#"SELECT coalesce(array_agg(t.plan_id), '{}') AS "plan_id!: Vec<PlanId>", coalesce(array_agg(t.from_on), '{}') AS "from_on!: Vec<NaiveDate>",
                      coalesce(array_agg(coalesce(t.employer_id, 0)), '{}') AS "employer_id!"
               FROM plan_terms t JOIN plans p ON p.id = t.plan_id
               WHERE p.unit_id = ANY($1) AND p.status <> 'draft' AND p.programme = 'team_isa'"#,
            &scope.units as _
        )
        .fetch_one(db),
    )?;
    let mut renewed: HashMap<PlanId, Vec<NaiveDate>> = HashMap::default();
    for (plan, on) in renewals.plan_id.into_iter().zip(renewals.on) {
        renewed.entry(plan).or_default().push(on);
    }
    let mut workplaces: HashMap<PlanId, Vec<(NaiveDate, Option<EmployerId>)>> = HashMap::default();
    for ((plan, from), employer) in terms.plan_id.into_iter().zip(terms.from_on).zip(terms.employer_id) {
        workplaces
            .entry(plan)
            .or_default()
            .push((from, (employer != 0).then_some(EmployerId(employer))));
    }
    Ok((0..r.participant_id.len())
        .map(|i| {
            let id = r.id[i];
            let mut renewals = renewed.remove(&id).unwrap_or_default();
            renewals.sort_unstable();
            PlanFact {
                id,
                participant_id: r.participant_id[i],
                team_isa: r.team_isa.get(i).copied().unwrap_or(false),
                set_on: r.set_on.get(i).copied().flatten(),
                renewals,
                ended_on: r.ended_on.get(i).copied().flatten(),
                outcome: r.outcome.get(i).and_then(|o| Outcome::parse(o)),
                // A plan without a kept history: its workplace as it stands.
                employer: match workplaces.remove(&id) {
                    Some(steps) => Dated::new(steps),
                    None => Dated::always(r.employer_id.get(i).copied().filter(|id| *id != 0).map(EmployerId)),
                },
            }
        })
        .collect())
}

async fn load_follow_ups(db: &sqlx::PgPool, scope: &Scope) -> Result<Vec<FollowUpFact>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(pl.participant_id), '{}') AS "participant_id!: Vec<ParticipantId>",
                  -- On time and summarised: an empty follow-up is not a follow-up held.
                  coalesce(array_agg(f.on_time AND btrim(f.notes) <> ''), '{}') AS "on_time!: Vec<bool>"
           FROM follow_ups f JOIN plans pl ON pl.id = f.plan_id
           WHERE pl.unit_id = ANY($1) AND f.held_on BETWEEN $2 AND $3"#,
        &scope.units as _,
        scope.from,
        scope.to
    )
    .fetch_one(db)
    .await?;
    Ok(r.participant_id
        .into_iter()
        .zip(r.on_time)
        .map(|(participant_id, on_time)| FollowUpFact { participant_id, on_time })
        .collect())
}

/// Boendestöd history of the people who have had a plan.
async fn load_support(db: &sqlx::PgPool, scope: &Scope) -> Result<Vec<SupportEntry>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(e.participant_id), '{}') AS "participant_id!: Vec<ParticipantId>",
                  coalesce(array_agg(e.valid_from), '{}') AS "valid_from!: Vec<NaiveDate>",
                  coalesce(array_agg(CASE WHEN e.has_support THEN coalesce(e.hours_per_week, 0) ELSE 0 END::float8), '{}') AS "hours!: Vec<f64>"
           FROM home_support_entries e
           WHERE e.corrected_at IS NULL AND e.participant_id IN (SELECT participant_id FROM plans WHERE unit_id = ANY($1) AND status <> 'draft')"#,
        &scope.units as _
    )
    .fetch_one(db)
    .await?;
    Ok((0..r.participant_id.len())
        .map(|i| SupportEntry {
            participant_id: r.participant_id[i],
            valid_from: r.valid_from[i],
            hours: r.hours[i],
        })
        .collect())
}
