//! Indicators (nyckeltal) for a period, each defined once here: the facts
//! are read from the database in a few queries (`load`), and every figure is
//! computed from them in plain Rust (`compute`), so the definitions are
//! unit-tested and the page, the CSV and the workbook show the same numbers.
//!
//! People are counted once across units: records with the same identity
//! number are one person, whose gender is the one on their most recently
//! changed record. Records without a number are a person each.

mod facts;
mod sections;

pub use facts::{FactCache, load, load_cached};

use super::history::Dated;
use super::suppression::{Shown, suppress};
use crate::attendance::statistics::Split;
use crate::ids::{EmployerId, ParticipantId, PlanId, UnitId};
use crate::participants::model::Gender;
use crate::plans::model::Outcome;
use chrono::{Datelike, Months, NaiveDate};
// Keys are record ids and small indexes, hashed ten thousand times a page:
// the fast non-cryptographic hash (no key here comes from a request).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The version of the indicator definitions, stored with every frozen
/// period. Raise it whenever a definition (its key, label or "så räknas
/// det") changes: `definitions_carry_their_version` fails until it is raised.
pub const DEFINITIONS_VERSION: i32 = 2;

/// Every indicator's key, label and "så räknas det", section by section.
pub fn definitions() -> Vec<(&'static str, String, &'static str)> {
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let scope = Scope {
        units: Vec::new(),
        from: day,
        to: day,
        today: day,
    };
    compute(&scope, &Facts::default())
        .into_iter()
        .flat_map(|s| s.indicators.into_iter().map(|i| (i.key, i.label, i.how)))
        .collect()
}

/// What the indicators are computed for.
#[derive(Clone, Debug)]
pub struct Scope {
    pub units: Vec<UnitId>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
}

impl Scope {
    /// The same period a year earlier, for comparison.
    pub fn last_year(&self) -> (NaiveDate, NaiveDate) {
        (year_before(self.from), year_before(self.to))
    }
}

fn year_before(day: NaiveDate) -> NaiveDate {
    day.checked_sub_months(Months::new(12)).unwrap_or(day)
}

/// One participant record, with what the indicators need of it.
#[derive(Clone, Debug)]
pub struct Record {
    pub id: ParticipantId,
    /// Who the record is (`person_key` in SQL): the link gallring leaves in
    /// place of the number, the identity number, or the record's own id.
    pub person: String,
    pub gender: Gender,
    /// First contact, or the day the record was made when it is not known.
    pub start_on: NaiveDate,
    pub first_contact_on: Option<NaiveDate>,
    /// As typed on the record, or else the first visit logged.
    pub first_visit_on: Option<NaiveDate>,
    /// The day the record was ended, as its status stood on a day: ended
    /// and come back is not ended (participant_status_events).
    pub ended: Dated<Option<NaiveDate>>,
    /// Since when the person has a SIP (the day it was made, or the start of
    /// time when the day is not known); `None`: no SIP.
    pub coordinated_plan_from: Option<NaiveDate>,
    /// A visit in the period, and in the same period a year earlier.
    pub visited: bool,
    pub visited_last_year: bool,
    /// The last visit in the period (for those who came back).
    pub last_visit: Option<NaiveDate>,
}

impl Record {
    /// Ended by the end of `day`: the day it was ended.
    pub fn ended_by(&self, day: NaiveDate) -> Option<NaiveDate> {
        self.ended.on(day).flatten()
    }

    pub fn has_coordinated_plan_by(&self, day: NaiveDate) -> bool {
        self.coordinated_plan_from.is_some_and(|from| from <= day)
    }
}

#[derive(Clone, Debug)]
pub struct PlanFact {
    pub id: PlanId,
    pub participant_id: ParticipantId,
    pub team_isa: bool,
    /// Fastställd; `None` for a draft.
    pub set_on: Option<NaiveDate>,
    /// Each renewal's day (those that say what was reviewed), oldest first.
    pub renewals: Vec<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
    /// The workplace (Team ISA) over time.
    pub employer: Dated<Option<EmployerId>>,
}

impl PlanFact {
    /// The last renewal on or before `day`.
    fn renewed_by(&self, day: NaiveDate) -> Option<NaiveDate> {
        self.renewals.iter().copied().filter(|r| *r <= day).max()
    }

    /// The workplace on the plan's last day in the period.
    fn employer_during(&self, to: NaiveDate) -> Option<EmployerId> {
        let last = self.ended_on.map_or(to, |end| end.min(to));
        self.employer.on(last).flatten()
    }

    /// Set, and not ended before `from`, by `to`.
    fn active_during(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.set_on.is_some_and(|set| set <= to) && self.ended_on.is_none_or(|end| end >= from)
    }
}

#[derive(Clone, Debug)]
pub struct FollowUpFact {
    pub participant_id: ParticipantId,
    pub on_time: bool,
}

/// A boendestöd entry: hours a week from `valid_from` (0 when support ended).
#[derive(Clone, Debug)]
pub struct SupportEntry {
    pub participant_id: ParticipantId,
    pub valid_from: NaiveDate,
    pub hours: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub records: Vec<Record>,
    pub plans: Vec<PlanFact>,
    pub follow_ups: Vec<FollowUpFact>,
    pub support: Vec<SupportEntry>,
    /// Lärandeplatser running some day of the period (issue 19).
    pub placements: Vec<PlacementFact>,
    /// Employers present at a forumträff of the period.
    pub forum_employers: Vec<crate::ids::EmployerId>,
}

/// A lärandeplats at an employer, as the indicators read it.
#[derive(Clone, Debug)]
pub struct PlacementFact {
    pub participant_id: ParticipantId,
    pub employer_id: crate::ids::EmployerId,
}

/// A count by gender, with who is behind it: one record of each person
/// counted (or of the person of each plan counted), for the drill-down.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counted {
    pub split: Split,
    /// A record for each one counted, with the gender they were counted as.
    pub members: Vec<(ParticipantId, Gender)>,
}

impl Counted {
    fn add(&mut self, gender: Gender, member: ParticipantId) {
        self.split.add(gender, 1);
        self.members.push((member, gender));
    }
}

/// A figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// A count of people (or plans), suppressed when small.
    Count(Counted),
    /// A percentage: `part` of `whole`, by gender.
    Share { part: Split, whole: Split },
    /// A mean of values (days, months, hours), by gender.
    Mean { sums: [f64; 3], n: Split },
    /// A count with no gender (employers): the total only.
    Total(i64),
}

/// A value as a cell shows it and as a workbook stores it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum CellValue {
    Number(f64),
    Text(String),
}

impl CellValue {
    /// As on the page and in the CSV: decimal comma.
    pub fn text(&self) -> String {
        match self {
            CellValue::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            CellValue::Number(n) => format!("{n:.1}").replace('.', ","),
            CellValue::Text(t) => t.clone(),
        }
    }
}

/// What a share or a mean shows instead of a number when its base (the
/// people it is computed over) is suppressed as a count would be: "–" for
/// nobody, "för få" under five, ".." when hidden to protect another cell.
fn hidden_base(base: Shown) -> Option<CellValue> {
    match base {
        Shown::Value(0) => Some(CellValue::Text("–".into())),
        Shown::Value(_) => None,
        Shown::Small => Some(CellValue::Text("för få".into())),
        Shown::Secondary => Some(CellValue::Text("..".into())),
    }
}

fn splits_of(s: &Split) -> [i64; 4] {
    [s.women, s.men, s.other, s.total()]
}

impl Measure {
    /// Kvinnor, män, annat/ej angivet, totalt.
    pub fn cells(&self) -> [CellValue; 4] {
        match self {
            Measure::Count(counted) => suppress(&counted.split).map(|s| match s {
                Shown::Value(n) => CellValue::Number(n as f64),
                other => CellValue::Text(other.text()),
            }),
            Measure::Share { part, whole } => {
                // A percentage of a known base gives its part away: the
                // part, and what is left of the base, are suppressed as
                // counts are, and a cell shows only when all three show.
                let parts = splits_of(part);
                let wholes = splits_of(whole);
                let rest = Split {
                    women: whole.women - part.women,
                    men: whole.men - part.men,
                    other: whole.other - part.other,
                };
                let (shown_whole, shown_part, shown_rest) = (suppress(whole), suppress(part), suppress(&rest));
                std::array::from_fn(|i| {
                    hidden_base(shown_whole[i]).unwrap_or_else(|| match (shown_part[i], shown_rest[i]) {
                        // The base is at least five here: one decimal, as elsewhere.
                        (Shown::Value(_), Shown::Value(_)) => {
                            CellValue::Number((1000.0 * parts[i] as f64 / wholes[i] as f64).round() / 10.0)
                        }
                        (Shown::Small, _) => CellValue::Text("<5".into()),
                        _ => CellValue::Text("..".into()),
                    })
                })
            }
            Measure::Mean { sums, n } => {
                let ns = splits_of(n);
                let shown_n = suppress(n);
                let all = [sums[0], sums[1], sums[2], sums.iter().sum()];
                std::array::from_fn(|i| {
                    hidden_base(shown_n[i]).unwrap_or_else(|| CellValue::Number((all[i] / ns[i] as f64 * 10.0).round() / 10.0))
                })
            }
            Measure::Total(n) => {
                let dash = || CellValue::Text("–".into());
                [dash(), dash(), dash(), CellValue::Number(*n as f64)]
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Indicator {
    pub key: &'static str,
    pub label: String,
    /// Så räknas det.
    pub how: &'static str,
    pub measure: Measure,
}

#[derive(Clone, Debug)]
pub struct Section {
    pub title: &'static str,
    pub indicators: Vec<Indicator>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.key == key)
    }
}

impl Indicator {
    /// Who is behind the figure, for a count.
    pub fn counted(&self) -> Option<&Counted> {
        match &self.measure {
            Measure::Count(counted) => Some(counted),
            _ => None,
        }
    }
}

/// Outcomes that count as moving on (DOMAIN.md: the overall aim).
pub const MOVED_ON: [Outcome; 4] = [
    Outcome::Employment,
    Outcome::Studies,
    Outcome::Internship,
    Outcome::LabourMarketMeasure,
];

/// Records grouped into people.
struct People<'a> {
    /// Record id → person index.
    of: HashMap<ParticipantId, usize>,
    /// Person index → gender, and their records.
    gender: Vec<Gender>,
    records: Vec<Vec<&'a Record>>,
}

impl<'a> People<'a> {
    /// `records` in order of their last change, newest first: the first
    /// record of a person gives their gender.
    fn new(records: &'a [Record]) -> Self {
        let mut index: HashMap<&str, usize> = HashMap::default();
        let mut people = People {
            of: HashMap::default(),
            gender: Vec::new(),
            records: Vec::new(),
        };
        for r in records {
            let i = *index.entry(r.person.as_str()).or_insert_with(|| {
                people.gender.push(r.gender);
                people.records.push(Vec::new());
                people.gender.len() - 1
            });
            people.of.insert(r.id, i);
            people.records[i].push(r);
        }
        people
    }

    fn person(&self, participant_id: ParticipantId) -> Option<usize> {
        self.of.get(&participant_id).copied()
    }

    /// Each person once, by gender, with their most recently changed record.
    fn count(&self, people: impl IntoIterator<Item = usize>) -> Counted {
        let mut seen = vec![false; self.gender.len()];
        let mut counted = Counted::default();
        for p in people {
            if !std::mem::replace(&mut seen[p], true) {
                counted.add(self.gender[p], self.records[p][0].id);
            }
        }
        counted
    }

    fn all(&self) -> std::ops::Range<usize> {
        0..self.gender.len()
    }
}

fn between(day: NaiveDate, from: NaiveDate, to: NaiveDate) -> bool {
    from <= day && day <= to
}

fn mean_by_gender(values: impl IntoIterator<Item = (Gender, f64)>) -> Measure {
    let mut sums = [0.0; 3];
    let mut n = Split::default();
    for (g, v) in values {
        let i = match g {
            Gender::Woman => 0,
            Gender::Man => 1,
            Gender::OtherOrUnstated => 2,
        };
        sums[i] += v;
        n.add(g, 1);
    }
    Measure::Mean { sums, n }
}

/// The hours of boendestöd a person had on `day` (`None`: nothing recorded by then).
fn support_on(entries: &[&SupportEntry], day: NaiveDate) -> Option<f64> {
    entries
        .iter()
        .filter(|e| e.valid_from <= day)
        .max_by_key(|e| e.valid_from)
        .map(|e| e.hours)
}

/// Every indicator, by section, from the facts.
/// What every section reads: the period, its facts, the people they are
/// about (records with one identity number are one person) with their plans,
/// and who was supported in the period and the same period last year.
struct Context<'a> {
    scope: &'a Scope,
    facts: &'a Facts,
    people: People<'a>,
    plans: Vec<(usize, &'a PlanFact)>,
    supported: HashSet<usize>,
    supported_last_year: HashSet<usize>,
}

impl<'a> Context<'a> {
    fn new(scope: &'a Scope, facts: &'a Facts) -> Context<'a> {
        let (from, to) = (scope.from, scope.to);
        let (last_from, last_to) = scope.last_year();
        let people = People::new(&facts.records);
        let plans: Vec<(usize, &PlanFact)> = facts
            .plans
            .iter()
            .filter_map(|p| people.person(p.participant_id).map(|person| (person, p)))
            .collect();

        // Supported: a visit or a plan running in the period.
        let supported_in = |from: NaiveDate, to: NaiveDate, last_year: bool| -> HashSet<usize> {
            let visited = facts
                .records
                .iter()
                .filter(|r| if last_year { r.visited_last_year } else { r.visited })
                .filter_map(|r| people.person(r.id));
            let planned = plans.iter().filter(|(_, p)| p.active_during(from, to)).map(|(person, _)| *person);
            visited.chain(planned).collect()
        };
        let supported = supported_in(from, to, false);
        let supported_last_year = supported_in(last_from, last_to, true);
        Context {
            scope,
            facts,
            people,
            plans,
            supported,
            supported_last_year,
        }
    }
}

pub fn compute(scope: &Scope, facts: &Facts) -> Vec<Section> {
    use sections::*;
    let ctx = Context::new(scope, facts);
    vec![
        people_and_efforts(&ctx),
        outcomes(&ctx),
        home_support(&ctx),
        reaching_and_following_up(&ctx),
        employers_and_placements(&ctx),
    ]
}

/// The default period: this year up to today.
pub fn this_year(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today), today)
}

// Reading the facts.

#[cfg(test)]
mod tests {
    use super::sections::support_window_end;
    use super::*;
    use sha2::{Digest, Sha256};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn split(women: i64, men: i64, other: i64) -> Split {
        Split { women, men, other }
    }

    fn texts(m: &Measure) -> Vec<String> {
        m.cells().iter().map(CellValue::text).collect()
    }

    #[test]
    fn a_share_never_gives_away_a_small_part_or_a_small_rest() {
        // Women 2 of 40: the 2 is small. Men 10 of 12: the 2 left is small,
        // and the 10 is hidden anyway to protect the women's 2. Nobody annat.
        let share = Measure::Share {
            part: split(2, 10, 0),
            whole: split(40, 12, 0),
        };
        assert_eq!(texts(&share), ["<5", "..", "–", "23,1"]);
        // Enough on every side: plain percentages.
        let share = Measure::Share {
            part: split(5, 10, 0),
            whole: split(10, 20, 0),
        };
        assert_eq!(texts(&share), ["50", "50", "–", "50"]);
        // A small base: "för få"; a base hidden for another cell's sake: "..".
        let share = Measure::Share {
            part: split(0, 6, 0),
            whole: split(3, 12, 0),
        };
        assert_eq!(texts(&share), ["för få", "..", "..", "40"]);
    }

    #[test]
    fn a_mean_shows_only_over_five_or_more_people() {
        let mean = Measure::Mean {
            sums: [50.0, 9.0, 0.0],
            n: split(5, 3, 0),
        };
        // Men's 3 is small; the total of 8 would give it away through the
        // women's 5 and annat's 0, so those bases are hidden too.
        assert_eq!(texts(&mean), ["..", "för få", "..", "7,4"]);
    }

    /// The definitions as they were when DEFINITIONS_VERSION was last raised.
    const PINNED: (i32, &str) = (2, "75adedbb228a372534dd95f8ff7745d9a49b2777bc9aca57e8ed47be93a5c201");

    #[test]
    fn definitions_carry_their_version() {
        let mut hash = Sha256::new();
        for (key, label, how) in definitions() {
            hash.update(format!("{key}\n{label}\n{how}\n"));
        }
        let digest = hex::encode(hash.finalize());
        assert_eq!(
            (DEFINITIONS_VERSION, digest.as_str()),
            PINNED,
            "a definition changed: raise DEFINITIONS_VERSION and pin the new digest with it"
        );
    }

    #[test]
    fn boendestöd_is_compared_a_year_after_the_start_or_at_the_end_if_sooner() {
        assert_eq!(support_window_end(d("2025-03-01"), None), d("2026-03-01"));
        assert_eq!(support_window_end(d("2025-03-01"), Some(d("2026-02-15"))), d("2026-02-15"));
        assert_eq!(support_window_end(d("2025-03-01"), Some(d("2026-06-30"))), d("2026-03-01"));
        // 29 February: the last day of February a year later.
        assert_eq!(support_window_end(d("2024-02-29"), None), d("2025-02-28"));
    }
}
