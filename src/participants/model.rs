//! The participant's choice lists: each a code in the database and in forms,
//! and a Swedish label on screen (GLOSSARY.md).

coded!(
    /// For statistics only; set by staff, never derived from the number.
    Gender {
        Woman = "woman" => "Kvinna",
        Man = "man" => "Man",
        OtherOrUnstated = "other_or_unstated" => "Annat eller ej angivet",
    }
);

coded!(
    /// Kontaktväg: how the person came to the centre.
    ReferralSource {
        OwnInitiative = "self" => "Egen",
        Relative = "relative" => "Anhörig",
        Representative = "representative" => "Företrädare",
        Psychiatry = "psychiatry" => "Psykiatrin",
        PrimaryCare = "primary_care" => "Primärvården",
        SocialServices = "social_services" => "Socialtjänst/annan utförare",
        HomeSupport = "home_support" => "Boendestöd",
        Other = "other" => "Annat",
    }
);

coded!(
    ParticipantStatus {
        Active = "active" => "Aktiv",
        Dormant = "dormant" => "Vilande",
        Ended = "ended" => "Avslutad",
    }
);

coded!(
    /// Avslutsorsak: why a participant's record was ended.
    EndReason {
        MovedOn = "moved_on" => "Gått vidare (arbete, studier, annan verksamhet)",
        OwnChoice = "own_choice" => "Eget val",
        MovedAway = "moved_away" => "Flyttat",
        NoContact = "no_contact" => "Ingen kontakt",
        OtherEffort = "other_effort" => "Annan insats",
        Deceased = "deceased" => "Avliden",
        Other = "other" => "Annat",
    }
);

coded!(
    NoteType {
        Event = "event" => "Händelse",
        Conversation = "conversation" => "Samtal",
        FollowUp = "follow_up" => "Uppföljning",
        Cooperation = "cooperation" => "Samverkan",
        Other = "other" => "Övrigt",
        Disputed = "disputed" => "Den enskilde anser uppgiften oriktig",
    }
);

coded!(
    /// Samtycke: who the centre may be in contact with.
    ConsentScope {
        HomeSupport = "home_support" => "Boendestöd",
        SocialInsurance = "social_insurance" => "Försäkringskassan",
        EmploymentService = "employment_service" => "Arbetsförmedlingen",
        Psychiatry = "psychiatry" => "Psykiatrin",
        PrimaryCare = "primary_care" => "Primärvården",
        SocialServices = "social_services" => "Socialtjänsten",
        Employer = "employer" => "Arbetsgivare",
        Relatives = "relatives" => "Närstående",
        Other = "other" => "Annat",
    }
);

coded!(
    RelativeKind {
        Relative = "relative" => "Närstående",
        Representative = "representative" => "Företrädare",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.code()), Some(*g));
        }
        assert_eq!(ReferralSource::label_of("psychiatry"), "Psykiatrin");
        assert_eq!(EndReason::parse("nonsense"), None);
    }
}

stored_as_code!(ParticipantStatus);
