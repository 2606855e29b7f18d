//! Indicators (nyckeltal) for a period, each defined once here: the facts
//! are read from the database in a few queries (`load`), and every figure is
//! computed from them in plain Rust (`compute`), so the definitions are
//! unit-tested and the page, the CSV and the workbook show the same numbers.
//!
//! People are counted once across units: records with the same identity
//! number are one person, whose gender is the one on their most recently
//! changed record. Records without a number are a person each.

use super::suppression::{Shown, suppress};
use crate::attendance::statistics::Split;
use crate::participants::model::Gender;
use crate::plans::model::Outcome;
use chrono::{Datelike, Months, NaiveDate};
// Keys are record ids and small indexes, hashed ten thousand times a page:
// the fast non-cryptographic hash (no key here comes from a request).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// What the indicators are computed for.
#[derive(Clone, Debug)]
pub struct Scope {
    pub units: Vec<i64>,
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
    pub id: i64,
    /// Who the record is (`person_key` in SQL): the identity number, or the
    /// record's own id when there is none.
    pub person: String,
    pub gender: Gender,
    /// First contact, or the day the record was made when it is not known.
    pub start_on: NaiveDate,
    pub first_contact_on: Option<NaiveDate>,
    /// As typed on the record, or else the first visit logged.
    pub first_visit_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub has_coordinated_plan: bool,
    /// A visit in the period, and in the same period a year earlier.
    pub visited: bool,
    pub visited_last_year: bool,
    /// The last visit in the period (for those who came back).
    pub last_visit: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct PlanFact {
    pub participant_id: i64,
    pub team_isa: bool,
    /// Fastställd; `None` for a draft.
    pub set_on: Option<NaiveDate>,
    pub renewed_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
    pub employer_id: Option<i64>,
}

impl PlanFact {
    /// Set, and not ended before `from`, by `to`.
    fn active_during(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.set_on.is_some_and(|set| set <= to) && self.ended_on.is_none_or(|end| end >= from)
    }
}

#[derive(Clone, Debug)]
pub struct FollowUpFact {
    pub participant_id: i64,
    pub on_time: bool,
}

/// A boendestöd entry: hours a week from `valid_from` (0 when support ended).
#[derive(Clone, Debug)]
pub struct SupportEntry {
    pub participant_id: i64,
    pub valid_from: NaiveDate,
    pub hours: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub records: Vec<Record>,
    pub plans: Vec<PlanFact>,
    pub follow_ups: Vec<FollowUpFact>,
    pub support: Vec<SupportEntry>,
}

/// A figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// A count of people (or plans, follow-ups), suppressed when small.
    Count(Split),
    /// A percentage: `part` of `whole`, by gender.
    Share { part: Split, whole: Split },
    /// A mean of values (days, months, hours), by gender.
    Mean { sums: [f64; 3], n: Split },
    /// A count with no gender (employers): the total only.
    Total(i64),
}

/// A value as a cell shows it and as a workbook stores it.
#[derive(Clone, Debug, PartialEq)]
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
            Measure::Count(split) => suppress(split).map(|s| match s {
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
    of: HashMap<i64, usize>,
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

    fn person(&self, participant_id: i64) -> Option<usize> {
        self.of.get(&participant_id).copied()
    }

    /// Each person once, by gender.
    fn count(&self, people: impl IntoIterator<Item = usize>) -> Split {
        let mut counted = vec![false; self.gender.len()];
        let mut split = Split::default();
        for p in people {
            if !std::mem::replace(&mut counted[p], true) {
                split.add(self.gender[p], 1);
            }
        }
        split
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
pub fn compute(scope: &Scope, facts: &Facts) -> Vec<Section> {
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

    let first_start = |p: usize| people.records[p].iter().map(|r| r.start_on).min();
    let new_people = people.all().filter(|&p| first_start(p).is_some_and(|d| between(d, from, to)));
    let ended_people = people.all().filter(|&p| {
        let records = &people.records[p];
        records.iter().all(|r| r.ended_on.is_some())
            && records
                .iter()
                .filter_map(|r| r.ended_on)
                .max()
                .is_some_and(|d| between(d, from, to))
    });
    let plan_split = |from: NaiveDate, to: NaiveDate| {
        let mut split = Split::default();
        for (person, _) in plans.iter().filter(|(_, p)| p.active_during(from, to)) {
            split.add(people.gender[*person], 1);
        }
        split
    };

    let mut sections = Vec::new();
    sections.push(Section {
        title: "Personer och insatser",
        indicators: vec![
            Indicator {
                key: "supported",
                label: "Personer som fått stöd".into(),
                how: "Personer med minst ett besök (som inte ångrats) eller en fastställd plan som pågick någon gång under perioden. Varje person räknas en gång, även om hen finns på flera enheter.",
                measure: Measure::Count(people.count(supported.iter().copied())),
            },
            Indicator {
                key: "supported_last_year",
                label: "Personer som fått stöd, samma period i fjol".into(),
                how: "Samma sak för samma datum ett år tidigare.",
                measure: Measure::Count(people.count(supported_last_year.iter().copied())),
            },
            Indicator {
                key: "new",
                label: "Nya personer".into(),
                how: "Personer vars första kontakt (eller, om den inte är känd, den dag personakten lades upp) ligger i perioden, räknat på personens tidigaste personakt.",
                measure: Measure::Count(people.count(new_people)),
            },
            Indicator {
                key: "ended",
                label: "Avslutade personer".into(),
                how: "Personer vars alla personakter är avslutade, den sista under perioden.",
                measure: Measure::Count(people.count(ended_people)),
            },
            Indicator {
                key: "efforts",
                label: "Insatser (planer) under perioden".into(),
                how: "Fastställda planer för förstegsträning och Team ISA som pågick någon gång under perioden. Målet är oförändrat eller fler än i fjol.",
                measure: Measure::Count(plan_split(from, to)),
            },
            Indicator {
                key: "efforts_last_year",
                label: "Insatser (planer), samma period i fjol".into(),
                how: "Samma sak för samma datum ett år tidigare.",
                measure: Measure::Count(plan_split(last_from, last_to)),
            },
        ],
    });

    // Outcomes of the plans that ended in the period.
    let ended_plans: Vec<&(usize, &PlanFact)> = plans
        .iter()
        .filter(|(_, p)| p.ended_on.is_some_and(|d| between(d, from, to)))
        .collect();
    let with_outcome = |outcomes: &[Outcome]| {
        people.count(
            ended_plans
                .iter()
                .filter(|(_, p)| p.outcome.is_some_and(|o| outcomes.contains(&o)))
                .map(|(person, _)| *person),
        )
    };
    let time_before_moving_on = mean_by_gender(
        ended_plans
            .iter()
            .filter_map(|(person, p)| match (p.set_on, p.ended_on, p.outcome) {
                (Some(set), Some(end), Some(o)) if MOVED_ON.contains(&o) => {
                    Some((people.gender[*person], (end - set).num_days() as f64 / 30.44))
                }
                _ => None,
            }),
    );
    // Came back: left a plan for work, then visited or started a plan again in the period.
    let mut plans_of: HashMap<usize, Vec<&PlanFact>> = HashMap::default();
    for (person, plan) in &plans {
        plans_of.entry(*person).or_default().push(plan);
    }
    let came_back = plans_of.iter().filter_map(|(&p, own)| {
        let left = own
            .iter()
            .filter(|plan| plan.outcome == Some(Outcome::Employment))
            .filter_map(|plan| plan.ended_on)
            .filter(|d| *d < to)
            .min()?;
        let since = (left + chrono::Duration::days(1)).max(from);
        let visited = people.records[p].iter().filter_map(|r| r.last_visit).any(|d| between(d, since, to));
        let new_plan = own.iter().any(|plan| plan.set_on.is_some_and(|d| between(d, since, to)));
        (visited || new_plan).then_some(p)
    });
    sections.push(Section {
        title: "Utfall",
        indicators: vec![
            Indicator {
                key: "moved_on",
                label: "Gått vidare till arbete, studier, praktik eller arbetsmarknadsåtgärd".into(),
                how: "Personer med en plan som avslutades under perioden med utfallet anställning, studier, praktik eller arbetsmarknadsåtgärd.",
                measure: Measure::Count(with_outcome(&MOVED_ON)),
            },
            Indicator {
                key: "employment",
                label: "Fått arbete".into(),
                how: "Personer med en plan som avslutades under perioden med utfallet anställning. Målet är minst 20 per år.",
                measure: Measure::Count(with_outcome(&[Outcome::Employment])),
            },
            Indicator {
                key: "reinforced_cooperation",
                label: "Gått vidare till förstärkt samarbete".into(),
                how: "Personer med en plan som avslutades under perioden med utfallet förstärkt samarbete med Försäkringskassan/Arbetsförmedlingen.",
                measure: Measure::Count(with_outcome(&[Outcome::ReinforcedCooperation])),
            },
            Indicator {
                key: "ended_plans",
                label: "Avslutade planer, alla utfall".into(),
                how: "Personer med en plan som avslutades under perioden, oavsett utfall.",
                measure: Measure::Count(people.count(ended_plans.iter().map(|(person, _)| *person))),
            },
            Indicator {
                key: "months_before_moving_on",
                label: "Tid i insatsen innan man gått vidare, månader (medel)".into(),
                how: "För planer som avslutades under perioden med utfallet anställning, studier, praktik eller arbetsmarknadsåtgärd: tiden från fastställd plan till avslut, i månader (30,44 dagar). Förväntat: 3–10 månader.",
                measure: time_before_moving_on,
            },
            Indicator {
                key: "came_back",
                label: "Kom tillbaka efter att ha gått till arbete".into(),
                how: "Personer som tidigare avslutat en plan med utfallet anställning och som därefter haft ett besök eller fått en ny plan under perioden.",
                measure: Measure::Count(people.count(came_back)),
            },
        ],
    });

    // Boendestöd for people with a plan in the period: at the start of their
    // first such plan, now, and twelve months after that start.
    let mut support_of: HashMap<usize, Vec<&SupportEntry>> = HashMap::default();
    for e in &facts.support {
        if let Some(p) = people.person(e.participant_id) {
            support_of.entry(p).or_default().push(e);
        }
    }
    let mut plan_start: HashMap<usize, NaiveDate> = HashMap::default();
    for (person, plan) in plans.iter().filter(|(_, p)| p.active_during(from, to)) {
        if let Some(set) = plan.set_on {
            let start = plan_start.entry(*person).or_insert(set);
            *start = (*start).min(set);
        }
    }
    let mut at_start = Vec::new();
    let mut now = Vec::new();
    let mut after_year = Vec::new();
    let (mut less, mut same, mut more) = (Vec::new(), Vec::new(), Vec::new());
    for (person, start) in &plan_start {
        let entries = support_of.get(person).map(Vec::as_slice).unwrap_or(&[]);
        let g = people.gender[*person];
        let Some(before) = support_on(entries, *start) else { continue };
        let current = support_on(entries, scope.today).unwrap_or(before);
        at_start.push((g, before));
        now.push((g, current));
        let year_later = *start + Months::new(12);
        if year_later <= scope.today {
            after_year.push((g, support_on(entries, year_later).unwrap_or(before)));
        }
        if current < before {
            less.push(*person);
        } else if current > before {
            more.push(*person);
        } else {
            same.push(*person);
        }
    }
    sections.push(Section {
        title: "Boendestöd för personer med plan",
        indicators: vec![
            Indicator {
                key: "support_less",
                label: "Personer med plan som har mindre boendestöd nu än vid start".into(),
                how: "Personer med en plan som pågick under perioden och en uppgift om boendestöd (även inget) från planens start eller tidigare; startdag är den tidigaste fastställda planen. Timmar boendestöd per vecka i dag jämfört med vid start. (Summan av de tre raderna visas inte: den skulle avslöja dolda små tal.)",
                measure: Measure::Count(people.count(less.iter().copied())),
            },
            Indicator {
                key: "support_same",
                label: "… lika mycket boendestöd nu".into(),
                how: "Samma personer: samma antal timmar i dag som vid start (också inget båda gångerna).",
                measure: Measure::Count(people.count(same.iter().copied())),
            },
            Indicator {
                key: "support_more",
                label: "… mer boendestöd nu".into(),
                how: "Samma personer: fler timmar i dag än vid start.",
                measure: Measure::Count(people.count(more.iter().copied())),
            },
            Indicator {
                key: "support_hours_start",
                label: "Boendestöd vid start, timmar per vecka (medel)".into(),
                how: "Medel av timmarna per vecka vid planens start (inget boendestöd räknas som 0).",
                measure: mean_by_gender(at_start),
            },
            Indicator {
                key: "support_hours_now",
                label: "Boendestöd i dag, timmar per vecka (medel)".into(),
                how: "Samma personer, timmarna per vecka i dag.",
                measure: mean_by_gender(now),
            },
            Indicator {
                key: "support_hours_year",
                label: "Boendestöd 12 månader efter start, timmar per vecka (medel)".into(),
                how: "Bara personer vars plan startade för minst 12 månader sedan: timmarna per vecka 12 månader efter start.",
                measure: mean_by_gender(after_year),
            },
        ],
    });

    // Reaching the centre: first contact to first visit.
    let mut days_to_visit = Vec::new();
    let mut within = Vec::new();
    let mut counted = Vec::new();
    for p in people.all() {
        let records = &people.records[p];
        let Some(contact) = records.iter().filter_map(|r| r.first_contact_on).min() else {
            continue;
        };
        if !between(contact, from, to) {
            continue;
        }
        let visit = records.iter().filter_map(|r| r.first_visit_on).filter(|d| *d >= contact).min();
        match visit {
            Some(v) => {
                days_to_visit.push((people.gender[p], (v - contact).num_days() as f64));
                counted.push(p);
                if (v - contact).num_days() <= 10 {
                    within.push(p);
                }
            }
            // Still waiting, but the ten days are over: not within.
            None if (scope.today - contact).num_days() > 10 => counted.push(p),
            None => {}
        }
    }
    // Follow-ups held in the period, and plans running at its end.
    let mut follow_ups_all = Split::default();
    let mut follow_ups_on_time = Split::default();
    for f in &facts.follow_ups {
        if let Some(p) = people.person(f.participant_id) {
            follow_ups_all.add(people.gender[p], 1);
            if f.on_time {
                follow_ups_on_time.add(people.gender[p], 1);
            }
        }
    }
    let year_before_end = year_before(to);
    let mut running = Split::default();
    let mut fresh = Split::default();
    for (person, plan) in &plans {
        let Some(set) = plan.set_on else { continue };
        if set > to || plan.ended_on.is_some_and(|e| e <= to) {
            continue;
        }
        let latest = plan.renewed_on.filter(|r| *r <= to).unwrap_or(set).max(set);
        running.add(people.gender[*person], 1);
        if latest > year_before_end {
            fresh.add(people.gender[*person], 1);
        }
    }
    let with_sip = people.count(
        supported
            .iter()
            .copied()
            .filter(|&p| people.records[p].iter().any(|r| r.has_coordinated_plan)),
    );
    sections.push(Section {
        title: "Tillgänglighet, uppföljning och samordning",
        indicators: vec![
            Indicator {
                key: "within_10_days",
                label: "Första besök inom 10 dagar från första kontakt, andel (%)".into(),
                how: "Personer vars första kontakt ligger i perioden: andelen vars första besök kom inom 10 dagar. Den som ännu inte kommit räknas som inte inom 10 dagar när 10 dagar har gått, annars inte alls.",
                measure: Measure::Share {
                    part: people.count(within),
                    whole: people.count(counted),
                },
            },
            Indicator {
                key: "days_to_first_visit",
                label: "Dagar från första kontakt till första besök (medel)".into(),
                how: "Samma personer, de som har kommit: dagar från första kontakt till första besök.",
                measure: mean_by_gender(days_to_visit),
            },
            Indicator {
                key: "follow_ups_on_time",
                label: "Uppföljningar hållna i tid, andel (%)".into(),
                how: "Uppföljningar hållna under perioden: andelen som hölls senast det datum de var planerade till.",
                measure: Measure::Share {
                    part: follow_ups_on_time,
                    whole: follow_ups_all,
                },
            },
            Indicator {
                key: "plans_renewed",
                label: "Pågående planer fastställda eller förnyade senaste 12 månaderna, andel (%)".into(),
                how: "Planer som pågick periodens sista dag: andelen som fastställts eller förnyats under de 12 månaderna fram till den dagen (planens senaste förnyelse).",
                measure: Measure::Share { part: fresh, whole: running },
            },
            Indicator {
                key: "coordinated_plan",
                label: "Personer som fått stöd och har SIP, andel (%)".into(),
                how: "Av personerna som fått stöd under perioden: andelen med en samordnad individuell plan (SIP) i personakten.",
                measure: Measure::Share {
                    part: with_sip,
                    whole: people.count(supported.iter().copied()),
                },
            },
        ],
    });

    // Employers and placements (Team ISA workplaces).
    let placements: Vec<&(usize, &PlanFact)> = plans
        .iter()
        .filter(|(_, p)| p.team_isa && p.employer_id.is_some() && p.active_during(from, to))
        .collect();
    let employers: HashSet<i64> = placements.iter().filter_map(|(_, p)| p.employer_id).collect();
    let mut placement_split = Split::default();
    for (person, _) in &placements {
        placement_split.add(people.gender[*person], 1);
    }
    sections.push(Section {
        title: "Arbetsgivare och praktikplatser",
        indicators: vec![
            Indicator {
                key: "employers",
                label: "Arbetsgivare med praktikplats".into(),
                how: "Arbetsgivare i registret som varit arbetsplats för en Team ISA-plan som pågick under perioden. En arbetsgivare har inget kön: bara totalen visas.",
                measure: Measure::Total(employers.len() as i64),
            },
            Indicator {
                key: "placements",
                label: "Praktikplatser i bruk".into(),
                how: "Team ISA-planer med en arbetsgivare som pågick någon gång under perioden.",
                measure: Measure::Count(placement_split),
            },
        ],
    });
    sections
}

/// The default period: this year up to today.
pub fn this_year(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today), today)
}

// Reading the facts.

/// The participants with a visit (not undone) from `from` to `to`, one
/// statement per calendar year the period touches. A year the period covers
/// up to `today` needs no mask: nobody has a visit after today, and a row
/// exists only while a day of it is set, so every row that year is a visit
/// in the period. Otherwise the period's days of that year are a mask,
/// built once per statement (an InitPlan), not once per row.
async fn visited_between(db: &sqlx::PgPool, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<HashSet<i64>, sqlx::Error> {
    let mut visited = HashSet::default();
    for year in from.year()..=to.year() {
        let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
            continue;
        };
        let whole = from <= first && to >= last.min(today);
        let ids = sqlx::query_scalar!(
            r#"SELECT coalesce(array_agg(participant_id), '{}') AS "ids!" FROM visit_days
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
    units: Vec<i64>,
    version: i64,
    facts: std::sync::Arc<UnitFacts>,
}

/// Sets of units kept at once (each about a megabyte at ten thousand records).
const CACHED_UNIT_SETS: usize = 16;

impl FactCache {
    fn get(&self, units: &[i64], version: i64) -> Option<std::sync::Arc<UnitFacts>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .iter()
            .find(|e| e.units == units && e.version == version)
            .map(|e| e.facts.clone())
    }

    fn put(&self, units: Vec<i64>, version: i64, facts: std::sync::Arc<UnitFacts>) {
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
    let (version, visited, visited_last_year, follow_ups, last_visits, first_visits) = tokio::try_join!(
        sqlx::query_scalar!("SELECT version FROM fact_versions WHERE facts = 'indicators'").fetch_one(db),
        // Who visited in the period and a year earlier: one pass over the
        // people's visit days (migration 0007) instead of the visits themselves.
        visited_between(db, scope.from, scope.to, scope.today),
        visited_between(db, last_from, last_to, scope.today),
        load_follow_ups(db, scope),
        load_last_visits_after_work(db, scope),
        load_first_visits(db, scope),
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
    })
}

/// The first visit logged, for the records whose first visit nobody typed in.
async fn load_first_visits(db: &sqlx::PgPool, scope: &Scope) -> Result<HashMap<i64, NaiveDate>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(p.id), '{}') AS "id!", coalesce(array_agg(f.first), '{}') AS "first!: Vec<NaiveDate>"
           FROM participants p CROSS JOIN LATERAL (
               SELECT min(v.visit_on) AS first FROM visits v WHERE v.participant_id = p.id AND v.cancelled_at IS NULL) f
           WHERE p.unit_id = ANY($1) AND p.first_visit_on IS NULL AND f.first IS NOT NULL"#,
        &scope.units
    )
    .fetch_one(db)
    .await?;
    Ok(r.id.into_iter().zip(r.first).collect())
}

/// The last visit in the period on every record of the people who once left
/// a plan for work (to see who came back): a few people, read from the visits.
async fn load_last_visits_after_work(db: &sqlx::PgPool, scope: &Scope) -> Result<HashMap<i64, NaiveDate>, sqlx::Error> {
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
                   WHERE p.id = l.id AND p.unit_id = ANY($1) AND o.unit_id = ANY($1))) AS id
               FROM left_for_work l)
           SELECT coalesce(array_agg(r.id), '{}') AS "id!", coalesce(array_agg(l.last), '{}') AS "last!: Vec<NaiveDate>"
           FROM their_records r CROSS JOIN LATERAL (
               SELECT max(v.visit_on) AS last FROM visits v
               WHERE v.participant_id = r.id AND v.visit_on BETWEEN $2 AND $3 AND v.cancelled_at IS NULL) l
           WHERE l.last IS NOT NULL"#,
        &scope.units,
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
        r#"SELECT coalesce(array_agg(p.id), '{}') AS "id!",
                  coalesce(array_agg(person_key(p.identity_kind, p.identity_number, p.id)), '{}') AS "person!",
                  coalesce(array_agg(p.gender), '{}') AS "gender!",
                  coalesce(array_agg(p.updated_at), '{}') AS "changed!",
                  coalesce(array_agg(coalesce(p.first_contact_on, (p.created_at AT TIME ZONE 'Europe/Stockholm')::date)), '{}') AS "start_on!: Vec<NaiveDate>",
                  coalesce(array_agg(p.first_contact_on), '{}') AS "first_contact_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(p.first_visit_on), '{}') AS "first_visit_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(p.ended_on), '{}') AS "ended_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(p.has_coordinated_plan), '{}') AS "sip!"
           FROM participants p
           WHERE p.unit_id = ANY($1)"#,
        &scope.units
    )
    .fetch_one(db)
    .await?;
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
                ended_on: r.ended_on.get(i).copied().flatten(),
                has_coordinated_plan: r.sip.get(i).copied().unwrap_or(false),
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
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(participant_id), '{}') AS "participant_id!",
                  coalesce(array_agg(programme = 'team_isa'), '{}') AS "team_isa!",
                  coalesce(array_agg(set_on), '{}') AS "set_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(renewed_on), '{}') AS "renewed_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(ended_on), '{}') AS "ended_on!: Vec<Option<NaiveDate>>",
                  coalesce(array_agg(coalesce(outcome, '')), '{}') AS "outcome!",
                  coalesce(array_agg(coalesce(employer_id, 0)), '{}') AS "employer_id!"
           FROM plans WHERE unit_id = ANY($1) AND status <> 'draft'"#,
        &scope.units
    )
    .fetch_one(db)
    .await?;
    Ok((0..r.participant_id.len())
        .map(|i| PlanFact {
            participant_id: r.participant_id[i],
            team_isa: r.team_isa.get(i).copied().unwrap_or(false),
            set_on: r.set_on.get(i).copied().flatten(),
            renewed_on: r.renewed_on.get(i).copied().flatten(),
            ended_on: r.ended_on.get(i).copied().flatten(),
            outcome: r.outcome.get(i).and_then(|o| Outcome::parse(o)),
            employer_id: r.employer_id.get(i).copied().filter(|id| *id != 0),
        })
        .collect())
}

async fn load_follow_ups(db: &sqlx::PgPool, scope: &Scope) -> Result<Vec<FollowUpFact>, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT coalesce(array_agg(pl.participant_id), '{}') AS "participant_id!",
                  coalesce(array_agg(f.on_time), '{}') AS "on_time!: Vec<bool>"
           FROM follow_ups f JOIN plans pl ON pl.id = f.plan_id
           WHERE pl.unit_id = ANY($1) AND f.held_on BETWEEN $2 AND $3"#,
        &scope.units,
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
        r#"SELECT coalesce(array_agg(e.participant_id), '{}') AS "participant_id!",
                  coalesce(array_agg(e.valid_from), '{}') AS "valid_from!: Vec<NaiveDate>",
                  coalesce(array_agg(CASE WHEN e.has_support THEN coalesce(e.hours_per_week, 0) ELSE 0 END::float8), '{}') AS "hours!: Vec<f64>"
           FROM home_support_entries e
           WHERE e.participant_id IN (SELECT participant_id FROM plans WHERE unit_id = ANY($1) AND status <> 'draft')"#,
        &scope.units
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
