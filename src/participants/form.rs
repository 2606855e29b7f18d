//! The participant form: what was typed (kept as typed for a refused form),
//! its validation into `ParticipantFields`, and the difference between two
//! saved versions (shown when a stale edit is refused).

use super::identity::{self, IdentityKind};
use super::model::{Gender, ReferralSource};
use crate::ids::UnitId;
use crate::web::form::{FieldErrors, optional_date, optional_text, required_text, yes_no};
use chrono::NaiveDate;
use serde::Deserialize;

/// The centre serves adults (DOMAIN.md).
pub const MIN_AGE: i32 = 18;

#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct ParticipantForm {
    pub unit_id: String,
    pub first_name: String,
    pub last_name: String,
    pub identity_kind: String,
    pub identity_number: String,
    pub birth_date: String,
    pub gender: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub resident: String,
    pub non_resident_reason: String,
    pub referral_source: String,
    pub first_contact_on: String,
    /// "yes": the date of the first contact is not known (and stays empty).
    pub first_contact_unknown: String,
    pub first_visit_on: String,
    pub has_coordinated_plan: String,
    pub coordinated_plan_on: String,
    pub coordinated_plan_lead: String,
    pub coordinated_plan_next_follow_up: String,
    /// The version the edit started from (edits only).
    pub version: String,
    /// The intresseanmälan the person is registered from (new registrations only).
    pub intake_id: String,
}

/// A participant's own fields, validated; the same shape as a row of
/// `participant_versions`, so two versions can be compared.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticipantFields {
    pub first_name: String,
    pub last_name: String,
    pub identity_kind: String,
    pub identity_number: Option<String>,
    pub birth_date: NaiveDate,
    pub gender: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub resident: bool,
    pub non_resident_reason: String,
    pub referral_source: String,
    pub first_contact_on: Option<NaiveDate>,
    pub first_visit_on: Option<NaiveDate>,
    pub has_coordinated_plan: bool,
    pub coordinated_plan_on: Option<NaiveDate>,
    pub coordinated_plan_lead: String,
    pub coordinated_plan_next_follow_up: Option<NaiveDate>,
}

/// Shown instead of a protected person's address and contact details.
pub const PROTECTED: &str = "Skyddad uppgift";

impl ParticipantFields {
    /// The fields as someone not named on a person with protected identity
    /// sees them: address and contact details replaced, where there are any.
    pub fn hide_contact(&mut self) {
        for field in [&mut self.phone, &mut self.email, &mut self.address] {
            if !field.is_empty() {
                *field = PROTECTED.to_string();
            }
        }
    }
}

fn date_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

impl ParticipantForm {
    /// The form filled from a saved participant, for editing.
    pub fn from_fields(f: &ParticipantFields, unit_id: UnitId, version: i32) -> Self {
        let identity_number = match IdentityKind::parse(&f.identity_kind) {
            Some(k) if k.is_validated() => identity::formatted(&f.identity_kind, f.identity_number.as_deref()),
            _ => f.identity_number.clone().unwrap_or_default(),
        };
        ParticipantForm {
            unit_id: unit_id.to_string(),
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            identity_kind: f.identity_kind.clone(),
            identity_number,
            birth_date: f.birth_date.to_string(),
            gender: f.gender.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
            address: f.address.clone(),
            resident: if f.resident { "yes" } else { "no" }.into(),
            non_resident_reason: f.non_resident_reason.clone(),
            referral_source: f.referral_source.clone(),
            first_contact_on: date_text(f.first_contact_on),
            first_contact_unknown: if f.first_contact_on.is_none() { "yes" } else { "" }.into(),
            first_visit_on: date_text(f.first_visit_on),
            has_coordinated_plan: if f.has_coordinated_plan { "yes" } else { "no" }.into(),
            coordinated_plan_on: date_text(f.coordinated_plan_on),
            coordinated_plan_lead: f.coordinated_plan_lead.clone(),
            coordinated_plan_next_follow_up: date_text(f.coordinated_plan_next_follow_up),
            version: version.to_string(),
            intake_id: String::new(),
        }
    }

    /// Checks every field; each problem becomes a Swedish message next to its field.
    pub fn validate(&self, today: NaiveDate, errors: &mut FieldErrors) -> Option<ParticipantFields> {
        let first_name = required_text(&self.first_name, "förnamn", 100)
            .map_err(|m| errors.add("first_name", m))
            .ok();
        let last_name = required_text(&self.last_name, "efternamn", 100)
            .map_err(|m| errors.add("last_name", m))
            .ok();

        let kind = IdentityKind::parse(&self.identity_kind);
        if kind.is_none() {
            errors.add("identity_kind", "Välj typ av nummer.");
        }
        let typed_birth = optional_date(&self.birth_date)
            .map_err(|m| errors.add("birth_date", m))
            .ok()
            .flatten();
        let (identity_number, birth_date) = match kind {
            Some(k) if k.is_validated() => match identity::check(k, &self.identity_number, today) {
                Ok(checked) => (Some(checked.digits), Some(checked.birth_date)),
                Err(message) => {
                    errors.add("identity_number", message);
                    (None, None)
                }
            },
            Some(IdentityKind::Reservnummer) => {
                let number = self.identity_number.trim();
                if number.is_empty() {
                    errors.add("identity_number", "Fyll i reservnumret.");
                } else if number.chars().count() > 20 {
                    errors.add("identity_number", "Högst 20 tecken.");
                }
                if typed_birth.is_none() && !errors.has("birth_date") {
                    errors.add("birth_date", "Fyll i födelsedatum (ÅÅÅÅ-MM-DD).");
                }
                (Some(number.to_string()), typed_birth)
            }
            Some(IdentityKind::None) => {
                if typed_birth.is_none() && !errors.has("birth_date") {
                    errors.add("birth_date", "Fyll i födelsedatum (ÅÅÅÅ-MM-DD).");
                }
                (None, typed_birth)
            }
            _ => (None, None),
        };
        if let Some(birth) = birth_date {
            let field = if kind.is_some_and(IdentityKind::is_validated) {
                "identity_number"
            } else {
                "birth_date"
            };
            if birth > today {
                errors.add(field, "Födelsedatumet ligger i framtiden.");
            } else if identity::age_on(birth, today) < MIN_AGE {
                errors.add(field, "Personen är under 18 år. Lotsen tar bara emot vuxna.");
            }
        }

        if Gender::parse(&self.gender).is_none() {
            // The number may suggest, never decide: the user still chooses.
            match identity_number.as_deref().and_then(identity::suggested_gender) {
                Some(suggested) => errors.add(
                    "gender",
                    format!(
                        "Välj kön för statistiken. Numret tyder på ”{}”, men välj det personen själv uppger.",
                        suggested.label().to_lowercase()
                    ),
                ),
                None => errors.add("gender", "Välj kön för statistiken (eller ”annat eller ej angivet”)."),
            }
        }
        let phone = optional_text(&self.phone, 40).map_err(|m| errors.add("phone", m)).ok();
        let email = optional_text(&self.email, 254).map_err(|m| errors.add("email", m)).ok();
        let address = optional_text(&self.address, 300).map_err(|m| errors.add("address", m)).ok();

        let resident = yes_no(&self.resident);
        if resident.is_none() {
            errors.add("resident", "Ange om personen är folkbokförd i kommunen.");
        }
        let non_resident_reason = optional_text(&self.non_resident_reason, 500)
            .map_err(|m| errors.add("non_resident_reason", m))
            .ok();
        if resident == Some(false) && non_resident_reason.as_deref().is_some_and(str::is_empty) {
            errors.add(
                "non_resident_reason",
                "Skriv skälet till undantaget när personen inte är folkbokförd i kommunen.",
            );
        }
        if ReferralSource::parse(&self.referral_source).is_none() {
            errors.add("referral_source", "Välj kontaktväg.");
        }
        let first_contact_on = optional_date(&self.first_contact_on)
            .map_err(|m| errors.add("first_contact_on", m))
            .ok()
            .flatten();
        // Required, or said to be unknown: never left to default to a day.
        let unknown = self.first_contact_unknown == "yes";
        match first_contact_on {
            None if !unknown && !errors.has("first_contact_on") => errors.add(
                "first_contact_on",
                "Fyll i datum för första kontakt, eller markera att det är okänt.",
            ),
            Some(_) if unknown => errors.add("first_contact_on", "Fyll i ett datum eller markera okänt, inte båda."),
            Some(d) if d > today => errors.add("first_contact_on", "Datumet kan inte ligga i framtiden."),
            Some(d) if birth_date.is_some_and(|b| d < b) => {
                errors.add("first_contact_on", "Första kontakten kan inte vara före födelsedagen.")
            }
            _ => {}
        }
        let first_visit_on = optional_date(&self.first_visit_on)
            .map_err(|m| errors.add("first_visit_on", m))
            .ok()
            .flatten();
        if first_visit_on.is_some_and(|d| d > today) {
            errors.add("first_visit_on", "Datumet kan inte ligga i framtiden.");
        }
        if let (Some(contact), Some(visit)) = (first_contact_on, first_visit_on)
            && visit < contact
        {
            errors.add("first_visit_on", "Första besöket kan inte vara före första kontakten.");
        }

        let has_coordinated_plan = yes_no(&self.has_coordinated_plan).unwrap_or(false);
        let coordinated_plan_on = optional_date(&self.coordinated_plan_on)
            .map_err(|m| errors.add("coordinated_plan_on", m))
            .ok()
            .flatten();
        let coordinated_plan_lead = optional_text(&self.coordinated_plan_lead, 200)
            .map_err(|m| errors.add("coordinated_plan_lead", m))
            .ok();
        let coordinated_plan_next_follow_up = optional_date(&self.coordinated_plan_next_follow_up)
            .map_err(|m| errors.add("coordinated_plan_next_follow_up", m))
            .ok()
            .flatten();
        if !has_coordinated_plan && (coordinated_plan_on.is_some() || coordinated_plan_next_follow_up.is_some()) {
            errors.add(
                "has_coordinated_plan",
                "Markera att personen har en SIP om du fyller i datum för den.",
            );
        }

        if !errors.is_empty() {
            return None;
        }
        Some(ParticipantFields {
            first_name: first_name?,
            last_name: last_name?,
            identity_kind: kind?.code().to_string(),
            identity_number,
            birth_date: birth_date?,
            gender: self.gender.clone(),
            phone: phone?,
            email: email?,
            address: address?,
            resident: resident?,
            non_resident_reason: if resident? { String::new() } else { non_resident_reason? },
            referral_source: self.referral_source.clone(),
            first_contact_on,
            first_visit_on,
            has_coordinated_plan,
            coordinated_plan_on,
            coordinated_plan_lead: coordinated_plan_lead?,
            coordinated_plan_next_follow_up,
        })
    }
}

/// One field that differs between two versions, for the conflict message.
#[derive(Debug, PartialEq)]
pub struct Change {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// The fields of one version in the words of the form, in its order. The
/// number is masked: a version page and a conflict message are no place to
/// spell it out.
pub fn described(f: &ParticipantFields) -> Vec<(&'static str, String)> {
    let yes = |b: bool| if b { "Ja" } else { "Nej" }.to_string();
    vec![
        ("Förnamn", f.first_name.clone()),
        ("Efternamn", f.last_name.clone()),
        (
            "Typ av nummer",
            IdentityKind::parse(&f.identity_kind).map(|k| k.label()).unwrap_or("").into(),
        ),
        ("Nummer", identity::masked(&f.identity_kind, f.identity_number.as_deref())),
        ("Födelsedatum", f.birth_date.to_string()),
        ("Kön", Gender::label_of(&f.gender).into()),
        ("Telefon", f.phone.clone()),
        ("E-post", f.email.clone()),
        ("Adress", f.address.clone()),
        ("Folkbokförd i kommunen", yes(f.resident)),
        ("Skäl till undantag", f.non_resident_reason.clone()),
        ("Kontaktväg", ReferralSource::label_of(&f.referral_source).into()),
        (
            "Första kontakt",
            f.first_contact_on.map_or_else(|| "Okänt".into(), |d| d.to_string()),
        ),
        ("Första besök", date_text(f.first_visit_on)),
        ("SIP", yes(f.has_coordinated_plan)),
        ("SIP upprättad", date_text(f.coordinated_plan_on)),
        ("Planeringsansvarig", f.coordinated_plan_lead.clone()),
        ("Nästa uppföljning av SIP", date_text(f.coordinated_plan_next_follow_up)),
    ]
}

/// What changed from `before` to `after`, in the words of the form.
pub fn changes(before: &ParticipantFields, after: &ParticipantFields) -> Vec<Change> {
    described(before)
        .into_iter()
        .zip(described(after))
        .filter(|((_, b), (_, a))| b != a)
        .map(|((field, before), (_, after))| Change { field, before, after })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn filled() -> ParticipantForm {
        ParticipantForm {
            unit_id: "1".into(),
            first_name: "Anna".into(),
            last_name: "Berg".into(),
            identity_kind: "personnummer".into(),
            identity_number: "640823-3234".into(),
            gender: "woman".into(),
            resident: "yes".into(),
            referral_source: "psychiatry".into(),
            has_coordinated_plan: "no".into(),
            first_contact_on: "2026-11-02".into(),
            ..ParticipantForm::default()
        }
    }

    #[test]
    fn a_complete_form_gives_fields_with_the_birth_date_from_the_number() {
        let mut errors = FieldErrors::default();
        let fields = filled().validate(today(), &mut errors).unwrap();
        assert_eq!(fields.identity_number.as_deref(), Some("196408233234"));
        assert_eq!(fields.birth_date, NaiveDate::from_ymd_opt(1964, 8, 23).unwrap());
    }

    #[test]
    fn under_18_is_refused_whether_from_the_number_or_typed() {
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            identity_kind: "none".into(),
            identity_number: String::new(),
            birth_date: "2008-11-23".into(),
            ..filled()
        };
        assert!(form.validate(today(), &mut errors).is_none());
        assert_eq!(errors.get("birth_date"), "Personen är under 18 år. Lotsen tar bara emot vuxna.");
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            birth_date: "2008-11-22".into(),
            ..form
        };
        assert!(form.validate(today(), &mut errors).is_some(), "18 today is fine: {errors:?}");
    }

    #[test]
    fn a_missing_gender_is_asked_for_with_the_number_as_a_hint_only() {
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            gender: String::new(),
            ..filled()
        };
        assert!(form.validate(today(), &mut errors).is_none(), "never derived silently");
        assert!(errors.get("gender").contains("Numret tyder på ”man”"), "{}", errors.get("gender"));
    }

    #[test]
    fn no_number_needs_a_typed_birth_date() {
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            identity_kind: "none".into(),
            identity_number: String::new(),
            ..filled()
        };
        assert!(form.validate(today(), &mut errors).is_none());
        assert_eq!(errors.get("birth_date"), "Fyll i födelsedatum (ÅÅÅÅ-MM-DD).");
    }

    #[test]
    fn not_resident_needs_a_reason() {
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            resident: "no".into(),
            ..filled()
        };
        assert!(form.validate(today(), &mut errors).is_none());
        assert_eq!(
            errors.get("non_resident_reason"),
            "Skriv skälet till undantaget när personen inte är folkbokförd i kommunen."
        );
        let mut errors = FieldErrors::default();
        let form = ParticipantForm {
            non_resident_reason: "Överenskommet med förvaltningen".into(),
            ..form
        };
        assert!(form.validate(today(), &mut errors).is_some());
    }

    #[test]
    fn changes_name_the_fields_that_differ() {
        let mut errors = FieldErrors::default();
        let before = filled().validate(today(), &mut errors).unwrap();
        let after = ParticipantFields {
            phone: "070-123 45 67".into(),
            ..before.clone()
        };
        assert_eq!(
            changes(&before, &after),
            vec![Change {
                field: "Telefon",
                before: String::new(),
                after: "070-123 45 67".into()
            }]
        );
    }
}
