//! Typed ids: one type per entity, so that a plan's id can't be passed where a
//! participant's goes. They travel from the route (`Path`, forms) to the query
//! unchanged; in SQL they are the `bigint` primary keys (`sqlx(transparent)`).
//! Bound in `query!` as `id as _`; read back as `id AS "id: PlanId"`.

/// Declares id types: `Copy`, ordered, hashable, shown as the bare number,
/// parsed from paths and forms, stored as `bigint`.
macro_rules! decl_id {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type, serde::Deserialize, serde::Serialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The number itself, for where a plain integer is wanted (URLs, logs).
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )+};
}

decl_id! {
    /// A staff account (användare).
    UserId,
    /// A centre (enhet).
    UnitId,
    /// A person served (deltagare); the personakt.
    ParticipantId,
    /// A plan for förstegsträning or Team ISA.
    PlanId,
    /// A goal or sub-goal of a plan.
    GoalId,
    /// An activity of a plan (planaktivitet), not a group activity.
    PlanActivityId,
    /// A bedömning av arbetsförmåga.
    AssessmentId,
    /// An uppföljning.
    FollowUpId,
    /// A place in the waiting list (kö).
    QueueEntryId,
    /// A journalanteckning.
    JournalNoteId,
    /// A samtycke.
    ConsentId,
    /// A närstående.
    RelativeId,
    /// A besök at the centre.
    VisitId,
    /// A gruppaktivitet.
    GroupActivityId,
    /// An arbetsgivare.
    EmployerId,
    /// An uppsökande contact with someone not (yet) registered.
    OutreachContactId,
    /// An informationsträff or studiebesök.
    InformationMeetingId,
    /// An intresseanmälan.
    IntakeId,
    /// A samverkanspartner (an organisation of the register).
    PartnerId,
    /// One contact with a partner about a person (`partner_contacts`).
    PartnerContactId,
    /// A lärandeplats at an employer.
    PlacementId,
    /// A period of stöd vid arbete.
    SupportId,
    /// A unit's brukarundersökning of a year.
    SurveyId,
    /// A påminnelse.
    ReminderId,
    /// A stretch of Yngre Lotsen time in a unit's calendar.
    YoungAdultPeriodId,
    /// Text typed into a form and not yet saved (ej sparad text).
    DraftId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_show_as_bare_numbers() {
        let id: PlanId = "42".parse().unwrap();
        assert_eq!(id, PlanId(42));
        assert_eq!(id.to_string(), "42");
        assert!("4 2".parse::<PlanId>().is_err());
        assert!("abc".parse::<ParticipantId>().is_err());
    }
}
