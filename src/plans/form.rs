//! The plan form as typed, and its checks. Rules that need the database
//! (capacity, the two-year limit over other plans) are checked by the handler.

use super::model::{Method, WEEKDAYS, weekday_bit};
use crate::domain::plans::{self as rules, Programme, WeeklyHours};
use crate::ids::EmployerId;
use crate::web::form::{FieldErrors, optional_text, required_date};
use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct PlanForm {
    pub programme: String,
    pub start_on: String,
    pub planned_end_on: String,
    pub weekly_hours: String,
    pub weekdays: Vec<String>,
    pub methods: Vec<String>,
    pub participation: String,
    pub summary: String,
    pub employer_id: String,
    pub new_employer_name: String,
    pub new_employer_org: String,
    pub new_employer_contact: String,
    pub supervisor: String,
    pub tasks: String,
    pub version: String,
}

/// A new employer typed into the plan form (created with the plan).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEmployer {
    pub name: String,
    pub organisation_number: Option<String>,
    pub contact_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmployerChoice {
    None,
    Existing(EmployerId),
    New(NewEmployer),
}

/// The checked plan.
#[derive(Clone, Debug)]
pub struct PlanFields {
    pub programme: Programme,
    pub start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    pub weekly_hours: WeeklyHours,
    pub weekdays: i16,
    pub methods: Vec<String>,
    pub participation: String,
    pub summary: String,
    pub employer: EmployerChoice,
    pub supervisor: String,
    pub tasks: String,
}

/// An organisation number as 10 digits, with or without the dash; stored as NNNNNN-NNNN.
pub fn organisation_number(value: &str) -> Result<Option<String>, &'static str> {
    let digits: String = value.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.is_empty() {
        return Ok(None);
    }
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Skriv organisationsnumret som NNNNNN-NNNN.");
    }
    Ok(Some(format!("{}-{}", &digits[..6], &digits[6..])))
}

impl PlanForm {
    pub fn weekday_checked(&self, n: &u8) -> bool {
        self.weekdays.iter().any(|w| w == &n.to_string())
    }

    pub fn method_checked(&self, code: &str) -> bool {
        self.methods.iter().any(|m| m == code)
    }

    /// Checks everything that needs only the form and the person's birth date.
    pub fn validate(&self, birth_date: NaiveDate, errors: &mut FieldErrors) -> Option<PlanFields> {
        let programme = Programme::parse(&self.programme);
        if programme.is_none() {
            errors.add("programme", "Välj förstegsträning eller Team ISA.");
        }
        let start_on = required_date(&self.start_on).map_err(|m| errors.add("start_on", m)).ok();
        let planned_end_on = required_date(&self.planned_end_on)
            .map_err(|m| errors.add("planned_end_on", m))
            .ok();
        if let (Some(start), Some(end)) = (start_on, planned_end_on)
            && end < start
        {
            errors.add("planned_end_on", "Planerat slut kan inte vara före start.");
        }
        if let (Some(Programme::TeamIsa), Some(start)) = (programme, start_on)
            && let Err(message) = rules::team_isa_age_allowed(birth_date, start)
        {
            errors.add("start_on", message);
        }
        let weekly_hours = WeeklyHours::parse(&self.weekly_hours)
            .map_err(|m| errors.add("weekly_hours", m))
            .ok();
        let mut weekdays: i16 = 0;
        for day in &self.weekdays {
            match day.parse::<u8>().ok().filter(|n| WEEKDAYS.iter().any(|(w, _)| w == n)) {
                Some(n) => weekdays |= weekday_bit(n),
                None => errors.add("weekdays", "Välj veckodagar i listan."),
            }
        }
        if weekdays == 0 {
            errors.add("weekdays", "Välj minst en veckodag.");
        }
        let mut methods = Vec::new();
        for code in &self.methods {
            match Method::parse(code) {
                Some(m) if !methods.contains(&m.code().to_string()) => methods.push(m.code().to_string()),
                Some(_) => {}
                None => errors.add("methods", "Välj metoder i listan."),
            }
        }
        let participation = optional_text(&self.participation, 2000)
            .map_err(|m| errors.add("participation", m))
            .ok();
        let summary = optional_text(&self.summary, 20000).map_err(|m| errors.add("summary", m)).ok();
        let supervisor = optional_text(&self.supervisor, 200).map_err(|m| errors.add("supervisor", m)).ok();
        let tasks = optional_text(&self.tasks, 2000).map_err(|m| errors.add("tasks", m)).ok();
        let employer = self.employer(programme, errors);
        Some(PlanFields {
            programme: programme?,
            start_on: start_on?,
            planned_end_on: planned_end_on?,
            weekly_hours: weekly_hours?,
            weekdays,
            methods,
            participation: participation?,
            summary: summary?,
            employer: employer?,
            supervisor: supervisor?,
            tasks: tasks?,
        })
        .filter(|_| errors.is_empty())
    }

    fn employer(&self, programme: Option<Programme>, errors: &mut FieldErrors) -> Option<EmployerChoice> {
        let new_name = self.new_employer_name.trim();
        let existing = self.employer_id.trim();
        let typed_new = !new_name.is_empty() || !self.new_employer_org.trim().is_empty() || !self.new_employer_contact.trim().is_empty();
        if programme != Some(Programme::TeamIsa) {
            if !existing.is_empty() || typed_new {
                errors.add("employer_id", "Arbetsplats anges bara för Team ISA.");
                return None;
            }
            return Some(EmployerChoice::None);
        }
        if typed_new {
            if !existing.is_empty() {
                errors.add("employer_id", "Välj en arbetsgivare i listan eller lägg till en ny, inte båda.");
                return None;
            }
            let name = crate::web::form::required_text(new_name, "arbetsgivarens namn", 200)
                .map_err(|m| errors.add("new_employer_name", m))
                .ok();
            let org = organisation_number(&self.new_employer_org)
                .map_err(|m| errors.add("new_employer_org", m))
                .ok();
            let contact = optional_text(&self.new_employer_contact, 200)
                .map_err(|m| errors.add("new_employer_contact", m))
                .ok();
            return Some(EmployerChoice::New(NewEmployer {
                name: name?,
                organisation_number: org?,
                contact_name: contact?,
            }));
        }
        if existing.is_empty() {
            return Some(EmployerChoice::None);
        }
        match existing.parse::<EmployerId>() {
            Ok(id) => Some(EmployerChoice::Existing(id)),
            Err(_) => {
                errors.add("employer_id", "Välj en arbetsgivare i listan.");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn form() -> PlanForm {
        PlanForm {
            programme: "first_step".into(),
            start_on: "2026-03-02".into(),
            planned_end_on: "2026-12-31".into(),
            weekly_hours: "4,5".into(),
            weekdays: vec!["1".into(), "3".into()],
            methods: vec!["ips".into()],
            ..PlanForm::default()
        }
    }

    #[test]
    fn a_plan_is_checked_field_by_field() {
        let mut errors = FieldErrors::default();
        let fields = form().validate(d(1990, 1, 1), &mut errors).unwrap();
        assert_eq!(fields.weekly_hours.hundredths(), 450);
        assert_eq!(fields.weekdays, 0b101);
        assert_eq!(fields.employer, EmployerChoice::None);

        let mut errors = FieldErrors::default();
        let bad = PlanForm {
            weekly_hours: "3".into(),
            planned_end_on: "2026-03-01".into(),
            weekdays: vec![],
            methods: vec!["magic".into()],
            ..form()
        };
        assert!(bad.validate(d(1990, 1, 1), &mut errors).is_none());
        assert_eq!(errors.get("weekly_hours"), "Minst 4 timmar per vecka.");
        assert!(errors.has("planned_end_on"));
        assert!(errors.has("weekdays"));
        assert!(errors.has("methods"));
    }

    #[test]
    fn team_isa_checks_age_and_takes_a_workplace() {
        let mut errors = FieldErrors::default();
        let isa = PlanForm {
            programme: "team_isa".into(),
            new_employer_name: "Bageriet AB".into(),
            new_employer_org: "5561234567".into(),
            ..form()
        };
        let fields = isa.validate(d(2000, 1, 1), &mut errors).unwrap();
        assert_eq!(
            fields.employer,
            EmployerChoice::New(NewEmployer {
                name: "Bageriet AB".into(),
                organisation_number: Some("556123-4567".into()),
                contact_name: String::new()
            })
        );
        let mut errors = FieldErrors::default();
        assert!(isa.validate(d(1980, 1, 1), &mut errors).is_none());
        assert!(errors.get("start_on").contains("18–35"));
        // A workplace on a förstegsträning plan is refused.
        let mut errors = FieldErrors::default();
        let wrong = PlanForm {
            employer_id: "3".into(),
            ..form()
        };
        assert!(wrong.validate(d(1990, 1, 1), &mut errors).is_none());
        assert!(errors.has("employer_id"));
    }

    #[test]
    fn organisation_numbers_are_normalised() {
        assert_eq!(organisation_number("556123-4567"), Ok(Some("556123-4567".into())));
        assert_eq!(organisation_number(" 5561234567 "), Ok(Some("556123-4567".into())));
        assert_eq!(organisation_number(""), Ok(None));
        assert!(organisation_number("55612-34567x").is_err());
        assert!(organisation_number("123").is_err());
    }
}
