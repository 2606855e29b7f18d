//! The partner register's choice list (GLOSSARY.md: samverkanspart).

coded!(
    /// The kind of organisation. A consent without a named organisation
    /// covers every partner of its kind (but "Annan organisation" must be named).
    PartnerKind {
        SocialInsurance = "social_insurance" => "Försäkringskassan",
        EmploymentService = "employment_service" => "Arbetsförmedlingen",
        Psychiatry = "psychiatry" => "Psykiatrin",
        HomeSupport = "home_support" => "Boendestöd",
        SocialServices = "social_services" => "Socialtjänsten",
        PrimaryCare = "primary_care" => "Primärvården",
        Employer = "employer" => "Arbetsgivare",
        Other = "other" => "Annan organisation",
    }
);

coded!(
    /// Which form a partner contact was recorded by.
    ContactVia {
        FollowUp = "follow_up" => "Uppföljning",
        JointPlan = "joint_plan" => "Samordnad plan",
        Journal = "journal" => "Journalanteckning (samverkan)",
        Placement = "placement" => "Lärandeplats",
        EmploymentSupport = "employment_support" => "Stöd vid arbete",
    }
);

stored_as_code!(PartnerKind);
stored_as_code!(ContactVia);
