//! The way in's choice lists: a code in the database and in forms, a Swedish
//! label on screen (GLOSSARY.md).

coded!(
    /// Where an outreach contact was made.
    OutreachPlace {
        HomeSupportVisit = "home_support_visit" => "Vid ett boendestödsbesök",
        Psychiatry = "psychiatry" => "Inom psykiatrin",
        SocialServices = "social_services" => "Inom socialtjänsten",
        MeetingPlace = "meeting_place" => "På en mötesplats",
        Home = "home" => "I hemmet",
        Other = "other" => "Annan plats",
    }
);

coded!(
    /// What came of an outreach contact.
    OutreachOutcome {
        Intake = "intake" => "Intresseanmälan gjord",
        Later = "later" => "Intresserad, hör av sig senare",
        Information = "information" => "Fick information",
        Declined = "declined" => "Tackade nej",
        NotReached = "not_reached" => "Fick inte kontakt",
    }
);

coded!(
    MeetingKind {
        InformationMeeting = "information_meeting" => "Informationsträff",
        StudyVisit = "study_visit" => "Studiebesök",
    }
);

coded!(
    IntakeStatus {
        Open = "open" => "Väntar",
        Registered = "registered" => "Registrerad som deltagare",
        Closed = "closed" => "Avslutad utan registrering",
    }
);

stored_as_code!(IntakeStatus);
