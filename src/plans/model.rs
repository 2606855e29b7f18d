//! The plan's choice lists: codes in the database and in forms, Swedish
//! labels on screen (GLOSSARY.md).

coded!(
    /// Utfall: how a plan ended.
    Outcome {
        Employment = "employment" => "Anställning",
        Studies = "studies" => "Studier",
        Internship = "internship" => "Praktik",
        LabourMarketMeasure = "labour_market_measure" => "Arbetsmarknadsåtgärd",
        ReinforcedCooperation = "reinforced_cooperation" => "Förstärkt samarbete (Försäkringskassan/Arbetsförmedlingen)",
        BackToDayActivity = "back_to_day_activity" => "Åter till dagverksamhet",
        DroppedOut = "dropped_out" => "Avbrott",
        Moved = "moved" => "Flyttat",
        Other = "other" => "Annat",
    }
);

coded!(
    /// DOMAIN.md: the methods used in the plans.
    Method {
        SupportedEmployment = "supported_employment" => "Supported Employment",
        Ips = "ips" => "IPS",
        Esl = "esl" => "ESL",
        LowArousal = "low_arousal" => "Lågaffektivt bemötande",
    }
);

coded!(
    ActivityStatus {
        Planned = "planned" => "Planerad",
        Ongoing = "ongoing" => "Pågår",
        Done = "done" => "Klar",
        Cancelled = "cancelled" => "Avbruten",
    }
);

stored_as_code!(ActivityStatus);

coded!(
    /// How far the person has come towards a goal, noted at a follow-up.
    Progress {
        NotStarted = "not_started" => "Inte påbörjat",
        Some = "some" => "Viss framgång",
        Clear = "clear" => "Tydlig framgång",
        Reached = "reached" => "Uppnått",
    }
);

coded!(
    ReminderKind {
        FollowUp = "follow_up" => "Uppföljning",
        Renewal = "renewal" => "Förnyelse",
        TwoYearLimit = "two_year_limit" => "Närmar sig två år",
        EmploymentSupportEnd = "employment_support_end" => "Stöd vid arbete slutar",
    }
);

/// Monday first, as Swedish calendars have it; the bit is stored in `plans.weekdays`.
pub const WEEKDAYS: [(u8, &str); 7] = [
    (1, "Måndag"),
    (2, "Tisdag"),
    (3, "Onsdag"),
    (4, "Torsdag"),
    (5, "Fredag"),
    (6, "Lördag"),
    (7, "Söndag"),
];

/// The bit for weekday `n` (1 = Monday … 7 = Sunday).
pub fn weekday_bit(n: u8) -> i16 {
    1 << (n - 1)
}

/// "Mån, tis, ons" for a stored bit set.
pub fn weekdays_text(bits: i16) -> String {
    let names: Vec<String> = WEEKDAYS
        .iter()
        .filter(|(n, _)| bits & weekday_bit(*n) != 0)
        .map(|(_, name)| name.chars().take(3).collect::<String>().to_lowercase())
        .collect();
    if names.is_empty() { "–".into() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_round_trip_through_bits() {
        assert_eq!(weekdays_text(31), "mån, tis, ons, tor, fre");
        assert_eq!(weekdays_text(weekday_bit(1) | weekday_bit(3)), "mån, ons");
        assert_eq!(weekdays_text(0), "–");
        assert_eq!(weekdays_text(weekday_bit(6) | weekday_bit(7)), "lör, sön");
        assert_eq!(Outcome::label_of("studies"), "Studier");
    }
}
