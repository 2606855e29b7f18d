//! Brukarundersökning (issue 19, point 6; DOMAIN.md from seed 003): the
//! satisfaction index (nöjdhetsindex) above 80 for both women and men, the
//! index on "staff are competent" above 80, and at least 70 % who know where
//! to turn with suggestions and complaints. An answer on the scale 1–5 counts
//! 0, 25, 50, 75 or 100; an index is the mean of a group's answers. A group
//! of fewer than five answers is not shown.

/// The targets.
pub const SATISFACTION_TARGET: f64 = 80.0;
pub const COMPETENCE_TARGET: f64 = 80.0;
pub const KNOWS_WHERE_TO_COMPLAIN_TARGET: f64 = 70.0;

/// Fewer answers than this in a group and its figure is not shown.
pub const SMALLEST_GROUP: usize = 5;

/// An answer on the scale 1–5 as points 0–100; `None` off the scale.
pub fn points(answer: i16) -> Option<f64> {
    (1..=5).contains(&answer).then(|| f64::from(answer - 1) * 25.0)
}

/// A group's figure: the index (or the share in per cent), or too few answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    Value {
        value: f64,
        answers: usize,
    },
    TooFew {
        answers: usize,
    },
    /// Hidden so that a small group cannot be worked out from the others: "..".
    Hidden,
}

impl Figure {
    /// The mean of the answers on the scale, as an index 0–100.
    pub fn index(answers: &[i16]) -> Figure {
        let points: Vec<f64> = answers.iter().filter_map(|a| points(*a)).collect();
        Figure::of(points.iter().sum::<f64>(), points.len())
    }

    /// The share answering yes, in per cent.
    pub fn share(answers: &[bool]) -> Figure {
        let yes = answers.iter().filter(|a| **a).count() as f64;
        Figure::of(yes * 100.0, answers.len())
    }

    fn of(sum: f64, answers: usize) -> Figure {
        if answers < SMALLEST_GROUP {
            Figure::TooFew { answers }
        } else {
            Figure::Value {
                value: (sum / answers as f64 * 10.0).round() / 10.0,
                answers,
            }
        }
    }

    /// Whether the figure reaches its target (a group too small does not).
    pub fn reaches(self, target: f64) -> bool {
        matches!(self, Figure::Value { value, .. } if value >= target)
    }

    pub fn text(self) -> String {
        match self {
            Figure::Value { value, .. } if value.fract() == 0.0 => format!("{value:.0}"),
            Figure::Value { value, .. } => format!("{value:.1}").replace('.', ","),
            Figure::TooFew { answers: 0 } => "–".into(),
            Figure::TooFew { .. } => "För få svar".into(),
            Figure::Hidden => "..".into(),
        }
    }
}

/// The figures of women, men, other or unstated, and all: a group of fewer
/// than five is not shown, and neither is the figure of all when the groups
/// not shown hold between one and four answers together (it would give them
/// away from the groups shown).
pub fn by_group(groups: [Figure; 3], all: Figure) -> [Figure; 4] {
    let hidden: usize = groups
        .iter()
        .map(|g| match g {
            Figure::TooFew { answers } => *answers,
            _ => 0,
        })
        .sum();
    let all = if (1..SMALLEST_GROUP).contains(&hidden) {
        Figure::Hidden
    } else {
        all
    };
    [groups[0], groups[1], groups[2], all]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_counts_nought_to_a_hundred() {
        assert_eq!(points(1), Some(0.0));
        assert_eq!(points(5), Some(100.0));
        assert_eq!(points(0), None);
        assert_eq!(points(6), None);
    }

    #[test]
    fn an_index_is_the_mean_and_a_small_group_is_not_shown() {
        assert_eq!(Figure::index(&[5, 5, 4, 4, 5]), Figure::Value { value: 90.0, answers: 5 });
        assert_eq!(Figure::index(&[5, 5, 5, 5]), Figure::TooFew { answers: 4 });
        assert!(Figure::index(&[5, 5, 4, 4, 5]).reaches(SATISFACTION_TARGET));
        assert!(!Figure::index(&[4, 4, 4, 4, 4]).reaches(SATISFACTION_TARGET), "75 is under 80");
        assert!(!Figure::index(&[5, 5, 5, 5]).reaches(SATISFACTION_TARGET), "too few never reaches");
    }

    #[test]
    fn all_is_hidden_when_it_would_give_a_small_group_away() {
        let five = Figure::index(&[5, 5, 4, 4, 5]);
        let one = Figure::index(&[1]);
        let none = Figure::index(&[]);
        assert_eq!(by_group([five, five, one], five)[3], Figure::Hidden);
        assert_eq!(by_group([five, five, none], five)[3], five, "an empty group gives nothing away");
        let four = Figure::index(&[1, 2, 3, 4]);
        assert_eq!(by_group([five, four, one], five)[3], five, "five hidden answers together");
        assert_eq!(none.text(), "–");
        assert_eq!(Figure::Hidden.text(), "..");
    }

    #[test]
    fn a_share_is_in_per_cent() {
        assert_eq!(Figure::share(&[true, true, true, false, false, true, true]).text(), "71,4");
        assert!(Figure::share(&[true, true, true, false, false, true, true]).reaches(KNOWS_WHERE_TO_COMPLAIN_TARGET));
        assert_eq!(Figure::share(&[true; 3]).text(), "För få svar");
    }
}
