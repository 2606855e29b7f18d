//! The sections of the indicator page, each computed from the period's
//! `Context`: every figure defined once, with its "så räknas det".

use super::*;
use crate::ids::EmployerId;

/// Personer och insatser.
pub(super) fn people_and_efforts(ctx: &Context) -> Section {
    let Context {
        people,
        plans,
        supported,
        supported_last_year,
        ..
    } = ctx;
    let (from, to) = (ctx.scope.from, ctx.scope.to);
    let (last_from, last_to) = ctx.scope.last_year();

    let first_start = |p: usize| people.records[p].iter().map(|r| r.start_on).min();
    let new_people = people.all().filter(|&p| first_start(p).is_some_and(|d| between(d, from, to)));
    let ended_people = people.all().filter(|&p| {
        let records = &people.records[p];
        records.iter().all(|r| r.ended_by(to).is_some())
            && records
                .iter()
                .filter_map(|r| r.ended_by(to))
                .max()
                .is_some_and(|d| between(d, from, to))
    });
    // Plans, each once, behind the person's own record of the plan.
    let plan_split = |from: NaiveDate, to: NaiveDate| {
        let mut counted = Counted::default();
        for (person, plan) in plans.iter().filter(|(_, p)| p.active_during(from, to)) {
            counted.add(people.gender[*person], plan.participant_id);
        }
        counted
    };

    Section {
        title: "Personer och insatser",
        indicators: vec![
            Indicator {
                key: "supported",
                label: "Personer som fått stöd".into(),
                how: "Källa: incheckningar i receptionen som inte ångrats, och fastställda planer. Med räknas: personer med minst ett besök under perioden, eller med en plan för förstegsträning eller Team ISA som var fastställd och inte avslutad någon dag under perioden. Personakter med samma person- eller samordningsnummer är en person, även på olika enheter; könet är det på den senast ändrade personakten. Period: besöksdagen, och planens dagar från fastställd dag till avslutsdag.",
                measure: Measure::Count(people.count(supported.iter().copied())),
            },
            Indicator {
                key: "supported_last_year",
                label: "Personer som fått stöd, samma period i fjol".into(),
                how: "Som ”Personer som fått stöd”, för samma datum ett år tidigare.",
                measure: Measure::Count(people.count(supported_last_year.iter().copied())),
            },
            Indicator {
                key: "new",
                label: "Nya personer".into(),
                how: "Källa: personaktens ”Första kontakt”, eller den dag personakten lades upp när första kontakten inte är känd. Med räknas: personer vars tidigaste sådana datum, över alla deras personakter, ligger i perioden.",
                measure: Measure::Count(people.count(new_people)),
            },
            Indicator {
                key: "ended",
                label: "Avslutade personer".into(),
                how: "Källa: personaktens statushistorik (avslut och återkomst, med datum). Med räknas: personer vars alla personakter var avslutade periodens sista dag, där det senaste avslutet ligger i perioden. Den som avslutats och sedan kommit tillbaka räknas inte.",
                measure: Measure::Count(people.count(ended_people)),
            },
            Indicator {
                key: "efforts",
                label: "Insatser (planer) under perioden".into(),
                how: "Källa: fastställda planer för förstegsträning och Team ISA. Med räknas: varje plan som var fastställd och inte avslutad någon dag under perioden; en person med två planer räknas två gånger. Period: planens dagar från fastställd dag till avslutsdag. Målet är oförändrat eller fler än samma period i fjol.",
                measure: Measure::Count(plan_split(from, to)),
            },
            Indicator {
                key: "efforts_last_year",
                label: "Insatser (planer), samma period i fjol".into(),
                how: "Som ”Insatser (planer) under perioden”, för samma datum ett år tidigare.",
                measure: Measure::Count(plan_split(last_from, last_to)),
            },
        ],
    }
}

/// Utfall.
pub(super) fn outcomes(ctx: &Context) -> Section {
    let Context { people, plans, .. } = ctx;
    let (from, to) = (ctx.scope.from, ctx.scope.to);

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
    for (person, plan) in plans.iter() {
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
    Section {
        title: "Utfall",
        indicators: vec![
            Indicator {
                key: "moved_on",
                label: "Gått vidare till arbete, studier, praktik eller arbetsmarknadsåtgärd".into(),
                how: "Källa: planens avslut (avslutsdag och utfall). Med räknas: personer med en plan som avslutades under perioden med utfallet anställning, studier, praktik eller arbetsmarknadsåtgärd. Period: planens avslutsdag.",
                measure: Measure::Count(with_outcome(&MOVED_ON)),
            },
            Indicator {
                key: "employment",
                label: "Fått arbete".into(),
                how: "Källa: planens avslut (avslutsdag och utfall). Med räknas: personer med en plan som avslutades under perioden med utfallet anställning. Period: planens avslutsdag. Målet är minst 20 personer per år.",
                measure: Measure::Count(with_outcome(&[Outcome::Employment])),
            },
            Indicator {
                key: "reinforced_cooperation",
                label: "Gått vidare till förstärkt samarbete".into(),
                how: "Källa: planens avslut (avslutsdag och utfall). Med räknas: personer med en plan som avslutades under perioden med utfallet förstärkt samarbete med Försäkringskassan/Arbetsförmedlingen. Period: planens avslutsdag.",
                measure: Measure::Count(with_outcome(&[Outcome::ReinforcedCooperation])),
            },
            Indicator {
                key: "ended_plans",
                label: "Avslutade planer, alla utfall".into(),
                how: "Källa: planens avslut (avslutsdag och utfall). Med räknas: personer med en plan som avslutades under perioden, oavsett utfall. Period: planens avslutsdag.",
                measure: Measure::Count(people.count(ended_plans.iter().map(|(person, _)| *person))),
            },
            Indicator {
                key: "months_before_moving_on",
                label: "Tid i insatsen innan man gått vidare, månader (medel)".into(),
                how: "Källa: planens fastställda dag och avslut. Med räknas: planer som avslutades under perioden med utfallet anställning, studier, praktik eller arbetsmarknadsåtgärd. Värde: tiden från fastställd dag till avslutsdag i månader (30,44 dagar), medel per kön. Förväntat: 3–10 månader.",
                measure: time_before_moving_on,
            },
            Indicator {
                key: "came_back",
                label: "Kom tillbaka efter att ha gått till arbete".into(),
                how: "Källa: planers avslut och incheckningar. Med räknas: personer som tidigare avslutat en plan med utfallet anställning och som efter det avslutet har haft ett besök, eller fått en ny plan fastställd, under perioden.",
                measure: Measure::Count(people.count(came_back)),
            },
        ],
    }
}

/// Boendestöd för personer med plan, over a fixed window (DOMAIN.md:
/// effektmål): the hours at the start of an effort against the hours 12
/// months later, or at its end if sooner.
pub(super) fn home_support(ctx: &Context) -> Section {
    let Context { facts, people, plans, .. } = ctx;
    let (from, to) = (ctx.scope.from, ctx.scope.to);

    let mut support_of: HashMap<usize, Vec<&SupportEntry>> = HashMap::default();
    for e in &facts.support {
        if let Some(p) = people.person(e.participant_id) {
            support_of.entry(p).or_default().push(e);
        }
    }
    // Each person's first effort whose window closed in the period: set on
    // `start`, compared on `end` (12 months later, or the plan's end).
    let mut window: HashMap<usize, (NaiveDate, NaiveDate)> = HashMap::default();
    for (person, plan) in plans.iter() {
        let Some(start) = plan.set_on else { continue };
        let end = support_window_end(start, plan.ended_on);
        if !between(end, from, to) {
            continue;
        }
        let kept = window.entry(*person).or_insert((start, end));
        if start < kept.0 {
            *kept = (start, end);
        }
    }
    let mut at_start = Vec::new();
    let mut at_end = Vec::new();
    let (mut less, mut same, mut more) = (Vec::new(), Vec::new(), Vec::new());
    for (person, (start, end)) in &window {
        let entries = support_of.get(person).map(Vec::as_slice).unwrap_or(&[]);
        let g = people.gender[*person];
        // Without a value recorded at the start, there is nothing to compare.
        let Some(before) = support_on(entries, *start) else { continue };
        let after = support_on(entries, *end).unwrap_or(before);
        at_start.push((g, before));
        at_end.push((g, after));
        if after < before {
            less.push(*person);
        } else if after > before {
            more.push(*person);
        } else {
            same.push(*person);
        }
    }
    Section {
        title: "Boendestöd för personer med plan",
        indicators: vec![
            Indicator {
                key: "support_less",
                label: "Personer med mindre boendestöd 12 månader efter start (eller vid avslut)".into(),
                how: SUPPORT_WINDOW,
                measure: Measure::Count(people.count(less.iter().copied())),
            },
            Indicator {
                key: "support_same",
                label: "… lika mycket boendestöd".into(),
                how: "Samma urval som raden om mindre boendestöd: samma antal timmar per vecka vid jämförelsedagen som vid start (också inget båda gångerna).",
                measure: Measure::Count(people.count(same.iter().copied())),
            },
            Indicator {
                key: "support_more",
                label: "… mer boendestöd".into(),
                how: "Samma urval som raden om mindre boendestöd: fler timmar per vecka vid jämförelsedagen än vid start.",
                measure: Measure::Count(people.count(more.iter().copied())),
            },
            Indicator {
                key: "support_hours_start",
                label: "Boendestöd vid start, timmar per vecka (medel)".into(),
                how: "Samma urval som raden om mindre boendestöd: medel av timmarna per vecka den dag planen fastställdes (inget boendestöd räknas som 0).",
                measure: mean_by_gender(at_start),
            },
            Indicator {
                key: "support_hours_after",
                label: "Boendestöd 12 månader efter start (eller vid avslut), timmar per vecka (medel)".into(),
                how: "Samma urval som raden om mindre boendestöd: medel av timmarna per vecka på jämförelsedagen (inget boendestöd räknas som 0).",
                measure: mean_by_gender(at_end),
            },
        ],
    }
}

const SUPPORT_WINDOW: &str = "Källa: boendestöd i personakten (timmar per vecka, med datum från när uppgiften gäller; rättade värden räknas inte) och fastställda planer. Varje plan har en jämförelsedag: 12 månader efter den dag planen fastställdes, eller den dag planen avslutades om det var tidigare. Med räknas personer med en plan vars jämförelsedag ligger i perioden (har en person flera sådana planer räknas den tidigaste) och som har en uppgift om boendestöd (även inget) från startdagen eller tidigare. Timmarna på jämförelsedagen jämförs med timmarna på startdagen. Uppgifter efter jämförelsedagen påverkar inte siffran. (Summan av de tre raderna visas inte: den skulle avslöja dolda små tal.)";

/// The day an effort's boendestöd is compared with its start: 12 months
/// after the plan was set, or the day it ended if sooner.
pub(super) fn support_window_end(set_on: NaiveDate, ended_on: Option<NaiveDate>) -> NaiveDate {
    let year_later = set_on + Months::new(12);
    ended_on.map_or(year_later, |end| end.min(year_later))
}

/// Tillgänglighet, uppföljning och samordning.
pub(super) fn reaching_and_following_up(ctx: &Context) -> Section {
    let Context {
        scope,
        facts,
        people,
        plans,
        supported,
        ..
    } = ctx;
    let (from, to) = (ctx.scope.from, ctx.scope.to);

    // Reaching the centre: first contact to first visit.
    let mut days_to_visit = Vec::new();
    let mut within = Vec::new();
    let mut counted = Vec::new();
    // Registered in the period with the first contact marked unknown: left out, and said so.
    let mut unknown_contact = 0;
    for p in people.all() {
        let records = &people.records[p];
        let Some(contact) = records.iter().filter_map(|r| r.first_contact_on).min() else {
            if records.iter().map(|r| r.start_on).min().is_some_and(|s| between(s, from, to)) {
                unknown_contact += 1;
            }
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
    for (person, plan) in plans.iter() {
        let Some(set) = plan.set_on else { continue };
        if set > to || plan.ended_on.is_some_and(|e| e <= to) {
            continue;
        }
        let latest = plan.renewed_by(to).unwrap_or(set).max(set);
        running.add(people.gender[*person], 1);
        if latest > year_before_end {
            fresh.add(people.gender[*person], 1);
        }
    }
    let with_sip = people.count(
        supported
            .iter()
            .copied()
            .filter(|&p| people.records[p].iter().any(|r| r.has_coordinated_plan_by(to))),
    );
    Section {
        title: "Tillgänglighet, uppföljning och samordning",
        indicators: vec![
            Indicator {
                key: "within_10_days",
                label: match unknown_contact {
                    0 => "Första besök inom 10 dagar från första kontakt, andel (%)".into(),
                    n => {
                        let n = if n < crate::reports::suppression::SMALLEST_SHOWN {
                            "<5".into()
                        } else {
                            n.to_string()
                        };
                        format!("Första besök inom 10 dagar från första kontakt, andel (%); {n} med okänd första kontakt räknas inte")
                    }
                },
                how: "Källa: personaktens ”Första kontakt” och ”Första besök” (eller den första incheckningen när första besöket inte är ifyllt). Med räknas: personer vars första kontakt ligger i perioden och som har kommit, eller som inte har kommit fast 10 dagar har gått; personer utan känd första kontakt räknas inte (hur många står i raden). Värde: andelen vars första besök kom inom 10 dagar från första kontakten. Period: första kontaktens dag. Siffran för en avslutad period kan ändras under de 10 dagarna efter periodens slut, medan de sista besöken kommer in.",
                measure: Measure::Share {
                    part: people.count(within).split,
                    whole: people.count(counted).split,
                },
            },
            Indicator {
                key: "days_to_first_visit",
                label: "Dagar från första kontakt till första besök (medel)".into(),
                how: "Källa och urval som raden ovan, de som har kommit. Värde: dagar från första kontakt till första besök, medel per kön.",
                measure: mean_by_gender(days_to_visit),
            },
            Indicator {
                key: "follow_ups_on_time",
                label: "Uppföljningar hållna i tid, andel (%)".into(),
                how: "Källa: registrerade uppföljningar (hållen dag, planerad dag, sammanfattning). Med räknas: uppföljningar hållna under perioden, efter könet på den person planen gäller. Värde: andelen som hölls senast den dag de var planerade till och har en skriven sammanfattning. Period: den dag uppföljningen hölls.",
                measure: Measure::Share {
                    part: follow_ups_on_time,
                    whole: follow_ups_all,
                },
            },
            Indicator {
                key: "plans_renewed",
                label: "Pågående planer fastställda eller förnyade senaste 12 månaderna, andel (%)".into(),
                how: "Källa: planens fastställda dag och dess förnyelser (med skriven genomgång). Med räknas: planer som pågick periodens sista dag. Värde: andelen som fastställts eller förnyats under de 12 månaderna fram till den dagen, räknat från den senaste förnyelsen den dagen eller tidigare.",
                measure: Measure::Share {
                    part: fresh,
                    whole: running,
                },
            },
            Indicator {
                key: "coordinated_plan",
                label: "Personer som fått stöd och har SIP, andel (%)".into(),
                how: "Källa: personaktens uppgift om SIP (samordnad individuell plan) och dess datum. Med räknas: personerna som fått stöd under perioden (se ”Personer som fått stöd”). Värde: andelen som hade en SIP periodens sista dag; en SIP utan datum räknas som funnen hela tiden.",
                measure: Measure::Share {
                    part: with_sip.split,
                    whole: people.count(supported.iter().copied()).split,
                },
            },
        ],
    }
}

/// Arbetsgivare och praktikplatser.
pub(super) fn employers_and_placements(ctx: &Context) -> Section {
    let Context { people, plans, .. } = ctx;
    let (from, to) = (ctx.scope.from, ctx.scope.to);

    // Employers and placements (Team ISA workplaces).
    let placements: Vec<&(usize, &PlanFact)> = plans
        .iter()
        .filter(|(_, p)| p.team_isa && p.active_during(from, to) && p.employer_during(to).is_some())
        .collect();
    // With the lärandeplatser of the period: each person at each employer once.
    let mut places: Vec<(usize, EmployerId, crate::ids::ParticipantId)> = placements
        .iter()
        .filter_map(|(person, p)| p.employer_during(to).map(|e| (*person, e, p.participant_id)))
        .collect();
    places.extend(ctx.facts.placements.iter().filter_map(|pl| {
        people
            .person(pl.participant_id)
            .map(|person| (person, pl.employer_id, pl.participant_id))
    }));
    places.sort_unstable_by_key(|(person, employer, _)| (*person, *employer));
    places.dedup_by_key(|(person, employer, _)| (*person, *employer));
    let mut employers: HashSet<EmployerId> = places.iter().map(|(_, e, _)| *e).collect();
    employers.extend(ctx.facts.forum_employers.iter().copied());
    let mut placement_split = Counted::default();
    for (person, _, participant) in &places {
        placement_split.add(people.gender[*person], *participant);
    }
    Section {
        title: "Arbetsgivare och praktikplatser",
        indicators: vec![
            Indicator {
                key: "employers",
                label: "Arbetsgivare som varit involverade".into(),
                how: "Källa: arbetsgivarregistret, Team ISA-planernas arbetsplats (med ändringar över tid), lärandeplatserna och forumträffarna. Med räknas: arbetsgivare som var arbetsplats för en Team ISA-plan som pågick någon gång under perioden (enligt arbetsplatsen planens sista dag i perioden), hade en lärandeplats som pågick under perioden, eller var med på en forumträff under perioden. En arbetsgivare har inget kön: bara totalen visas.",
                measure: Measure::Total(employers.len() as i64),
            },
            Indicator {
                key: "placements",
                label: "Praktik- och lärandeplatser i bruk".into(),
                how: "Källa: Team ISA-planer och deras arbetsplats (med ändringar över tid) och lärandeplatserna. Med räknas: varje person hos varje arbetsgivare där personen under perioden hade en pågående Team ISA-plan med arbetsplatsen (planens sista dag i perioden) eller en pågående lärandeplats; samma person hos samma arbetsgivare räknas en gång.",
                measure: Measure::Count(placement_split),
            },
        ],
    }
}
