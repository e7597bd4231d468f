//! How the accounts table and the board share their width: pure sums over
//! a pane's inner width, so the layout rules are tested without drawing.

use crate::domain::Stage;

/// The widest the name column gets while other columns want the room.
pub const NAME_CAP: u16 = 30;
/// The narrowest name column (names are cut with "…" below their length).
pub const NAME_MIN: u16 = 12;
/// The narrowest follow-up column worth drawing.
pub const REASON_MIN: u16 = 11;
/// The narrowest card on the board: its band mark and the name.
pub const CARD_MIN: u16 = 14;

/// The accounts table's columns that change with the width (the others
/// are fixed: see `FIXED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableWidths {
    /// Name, with the domain when it shares its name.
    pub name: u16,
    /// Stage: the short form, or the full name when there is room.
    pub stage: u16,
    /// The account's first follow-up in the queue; 0 when not drawn.
    pub reason: u16,
}

/// Segment, ARR, health, renewal (a date for churned accounts), tickets
/// and last touch: each as wide as its widest value or its header with
/// the sort arrow.
pub const FIXED: [u16; 6] = [3, 6, 5, 10, 4, 6];

/// Shares `width` among the table's columns (one blank between each): the
/// name up to its cap, then the full stage names, then a follow-up column
/// with all that is left; a rest too small for it goes to the name.
pub fn table(width: u16) -> TableWidths {
    let fixed: u16 = FIXED.iter().sum::<u16>() + FIXED.len() as u16 + 1;
    let short = Stage::SHORT_WIDTH as u16;
    let avail = width.saturating_sub(fixed + short);
    let name = avail.clamp(NAME_MIN.min(avail), NAME_CAP);
    let mut rest = avail - name;
    let full = Stage::LABEL_WIDTH as u16 - short;
    let stage = if rest >= full {
        rest -= full;
        Stage::LABEL_WIDTH as u16
    } else {
        short
    };
    if rest > REASON_MIN {
        TableWidths { name, stage, reason: rest - 1 }
    } else {
        TableWidths { name: name + rest, stage, reason: 0 }
    }
}

/// How many of the board's nine columns fit `width` with cards of at
/// least `CARD_MIN` (each column also holds the separator after it).
pub fn board_columns(width: u16) -> usize {
    ((width / (CARD_MIN + 1)) as usize).clamp(1, Stage::ALL.len())
}

/// The first column drawn when `shown` fit: last frame's first column,
/// moved as little as keeps the `focused` column on screen.
pub fn board_first(prev: usize, focused: usize, shown: usize) -> usize {
    let last_first = Stage::ALL.len() - shown.min(Stage::ALL.len());
    let first = if focused < prev {
        focused
    } else if focused >= prev + shown {
        focused + 1 - shown
    } else {
        prev
    };
    first.min(last_first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(w: TableWidths) -> u16 {
        let cols = FIXED.len() as u16 + 2 + u16::from(w.reason > 0);
        FIXED.iter().sum::<u16>() + w.name + w.stage + w.reason + cols - 1
    }

    #[test]
    fn the_name_is_capped_and_the_rest_goes_to_stage_and_reasons() {
        // The accounts pane's inner width at 80, 120, 160 and 200 columns.
        let at = |w| table(w);
        assert_eq!(at(78), TableWidths { name: 27, stage: 10, reason: 0 });
        assert_eq!(at(70), TableWidths { name: 19, stage: 10, reason: 0 }, "less when narrow");
        assert_eq!(at(94), TableWidths { name: 38, stage: 15, reason: 0 }, "full stage names, a rest too small");
        assert_eq!(at(118), TableWidths { name: NAME_CAP, stage: 15, reason: 31 }, "the rest to the reasons");
        assert_eq!(at(198).reason, 111);
        for w in [40u16, 63, 70, 78, 90, 94, 98, 99, 118, 198] {
            let t = table(w);
            if w >= 63 {
                assert!(t.name >= NAME_MIN, "{w}: {t:?}");
                assert_eq!(total(t), w, "{w}: every column is used: {t:?}");
            }
            assert!(t.reason == 0 || (t.reason >= REASON_MIN && t.name == NAME_CAP), "{w}: {t:?}");
        }
        assert_eq!(table(0).name, 0);
    }

    #[test]
    fn cards_keep_their_width_and_the_window_follows_the_focus() {
        assert_eq!(board_columns(78), 5);
        assert_eq!(board_columns(118), 7);
        assert_eq!(board_columns(198), 9);
        assert_eq!(board_columns(500), 9);
        assert_eq!(board_columns(5), 1);
        for w in [78u16, 94, 118] {
            assert!(w / board_columns(w) as u16 > CARD_MIN, "{w}");
        }
        assert_eq!(board_first(0, 3, 5), 0);
        assert_eq!(board_first(0, 6, 5), 2, "scrolls just enough");
        assert_eq!(board_first(2, 1, 5), 1);
        assert_eq!(board_first(4, 8, 5), 4, "the last column ends the window");
        assert_eq!(board_first(7, 8, 5), 4, "never past the last column");
        assert_eq!(board_first(3, 8, 9), 0, "all shown");
    }
}
