//! Small numbers identify people. A count from 1 to 4 is shown as "<5"
//! (primary suppression). When the total is shown, a hidden cell could be
//! worked out by subtracting the shown ones from it; so further cells are
//! hidden (secondary suppression, shown as "..") until the hidden cells
//! together hold at least five, smallest first. A zero is shown: it points
//! at nobody, unless it has to be hidden to protect another cell.

use crate::attendance::statistics::Split;

/// What a cell of a count shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Value(i64),
    /// 1–4: "<5".
    Small,
    /// Hidden so that a small cell cannot be worked out from the total: "..".
    Secondary,
}

impl Shown {
    pub fn text(self) -> String {
        match self {
            Shown::Value(n) => n.to_string(),
            Shown::Small => "<5".into(),
            Shown::Secondary => "..".into(),
        }
    }

    pub fn value(self) -> Option<i64> {
        match self {
            Shown::Value(n) => Some(n),
            _ => None,
        }
    }
}

pub const SMALLEST_SHOWN: i64 = 5;

fn is_small(n: i64) -> bool {
    (1..SMALLEST_SHOWN).contains(&n)
}

/// The cells women, men, annat/ej angivet and total of a count, as shown.
pub fn suppress(split: &Split) -> [Shown; 4] {
    let values = [split.women, split.men, split.other];
    let total = split.total();
    let mut shown: [Shown; 3] = values.map(|n| if is_small(n) { Shown::Small } else { Shown::Value(n) });
    let total_shown = if is_small(total) { Shown::Small } else { Shown::Value(total) };
    if matches!(total_shown, Shown::Value(_)) {
        loop {
            let hidden: Vec<usize> = (0..3).filter(|&i| !matches!(shown[i], Shown::Value(_))).collect();
            if hidden.is_empty() || hidden.iter().map(|&i| values[i]).sum::<i64>() >= SMALLEST_SHOWN {
                break;
            }
            // Hide the smallest cell still shown (the first of equals).
            let Some(next) = (0..3).filter(|&i| matches!(shown[i], Shown::Value(_))).min_by_key(|&i| values[i]) else {
                break;
            };
            shown[next] = Shown::Secondary;
        }
    }
    [shown[0], shown[1], shown[2], total_shown]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(women: i64, men: i64, other: i64) -> Split {
        Split { women, men, other }
    }

    fn texts(s: &Split) -> [String; 4] {
        suppress(s).map(Shown::text)
    }

    #[test]
    fn counts_of_five_and_more_and_zeros_are_shown() {
        assert_eq!(texts(&split(5, 12, 0)), ["5", "12", "0", "17"]);
        assert_eq!(texts(&split(0, 0, 0)), ["0", "0", "0", "0"]);
    }

    #[test]
    fn one_to_four_show_as_under_five() {
        // The total is small too: nothing can be worked out.
        assert_eq!(texts(&split(3, 0, 0)), ["<5", "0", "0", "<5"]);
        assert_eq!(texts(&split(1, 2, 1)), ["<5", "<5", "<5", "<5"]);
    }

    #[test]
    fn a_second_cell_is_hidden_when_the_total_would_give_the_small_one_away() {
        // 15 − 12 − 0 would give the 3: the smallest other cell (the 0) is
        // hidden, and as the hidden ones still hold fewer than five, the 12 too.
        assert_eq!(texts(&split(3, 12, 0)), ["<5", "..", "..", "15"]);
        // 3 + 7: hiding the 7 leaves 10 hidden, enough; the 20 stays.
        assert_eq!(texts(&split(3, 20, 7)), ["<5", "20", "..", "30"]);
        // Two small cells that together reach five need no more.
        assert_eq!(texts(&split(3, 2, 40)), ["<5", "<5", "40", "45"]);
        // Two small cells under five together: one more is hidden.
        assert_eq!(texts(&split(1, 2, 40)), ["<5", "<5", "..", "43"]);
    }

    #[test]
    fn no_hidden_cell_can_be_worked_out_from_what_is_shown() {
        // Every combination up to 12 per cell: whenever the total is shown,
        // the hidden cells hold at least five together, so none of them can
        // be pinned to a number under five.
        for w in 0..12 {
            for m in 0..12 {
                for o in 0..12 {
                    let s = split(w, m, o);
                    let shown = suppress(&s);
                    let values = [w, m, o];
                    let hidden: Vec<i64> = (0..3).filter(|&i| shown[i].value().is_none()).map(|i| values[i]).collect();
                    for i in 0..3 {
                        if is_small(values[i]) {
                            assert!(shown[i].value().is_none(), "{s:?}");
                        }
                    }
                    if shown[3].value().is_some() && !hidden.is_empty() {
                        assert!(hidden.len() >= 2, "{s:?}: a single hidden cell is the total minus the others");
                        assert!(hidden.iter().sum::<i64>() >= SMALLEST_SHOWN, "{s:?}");
                    }
                }
            }
        }
    }
}
