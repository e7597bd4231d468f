//! Properties that must hold for any input.

use chrono::NaiveDate;
use cockpit::book::{Book, SortKey};
use cockpit::domain::text::sanitize;
use cockpit::domain::{AccountId, AccountRow, Segment, Stage};
use cockpit::store::StageTotals;
use proptest::prelude::*;

proptest! {
    /// Whatever an API sends, nothing that can drive a terminal survives,
    /// and cleaning twice changes nothing.
    #[test]
    fn sanitized_text_has_no_control_characters(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\\u{202a}-\\u{202e}a-z\\[\\];]*") {
        let clean = sanitize(&s);
        prop_assert!(!clean.chars().any(|c| c.is_control()));
        prop_assert!(!clean.contains('\u{202e}'), "bidi override kept");
        let twice = sanitize(&clean).into_owned();
        prop_assert_eq!(twice.as_str(), clean.as_ref());
    }

    /// After any sequence of row updates, every index equals a fresh build.
    #[test]
    fn book_indexes_survive_updates(
        healths in proptest::collection::vec(proptest::option::of(0u8..=100), 1..40),
        updates in proptest::collection::vec((0usize..40, 0usize..9, proptest::option::of(0u8..=100)), 0..30),
        sort in 0usize..7,
        reverse in any::<bool>(),
        filter in "[a-c]{0,2}",
    ) {
        let rows: Vec<AccountRow> = healths.iter().enumerate().map(|(i, h)| row(i as u64, *h)).collect();
        let mut totals = StageTotals::default();
        rows.iter().for_each(|r| totals.add(r));
        let mut book = Book::new(rows.clone(), totals, true);
        book.precompute_orders();
        book.set_sort(SortKey::ALL[sort], reverse);
        book.set_filter(&filter);
        let mut current = rows;
        for (i, stage, health) in updates {
            let i = i % current.len();
            current[i].stage = Stage::ALL[stage];
            current[i].health = health;
            book.update_row(current[i].clone());
        }
        let mut totals = StageTotals::default();
        current.iter().for_each(|r| totals.add(r));
        let mut fresh = Book::new(current, totals, true);
        fresh.set_sort(SortKey::ALL[sort], reverse);
        fresh.set_filter(&filter);
        let ids = |b: &Book| b.view_slice(0, usize::MAX).map(|r| r.id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&book), ids(&fresh));
        prop_assert_eq!(book.totals(), fresh.totals());
        for s in Stage::ALL {
            let a: Vec<_> = book.column_slice(s, 0, usize::MAX).map(|r| r.id).collect();
            let b: Vec<_> = fresh.column_slice(s, 0, usize::MAX).map(|r| r.id).collect();
            prop_assert_eq!(a, b);
        }
        // Switching to another sort uses the cached order, which must also be right.
        let other = SortKey::ALL[(sort + 3) % 7];
        book.set_sort(other, false);
        fresh.set_sort(other, false);
        prop_assert_eq!(ids(&book), ids(&fresh));
    }
}

fn row(id: u64, health: Option<u8>) -> AccountRow {
    let names = ["ab", "bc", "ca", "abc", "cab"];
    AccountRow {
        id: AccountId(id),
        name: format!("{} {id}", names[id as usize % names.len()]),
        segment: Segment::ALL[id as usize % 3],
        arr: (id * 7919) % 1000,
        stage: Stage::ALL[id as usize % 9],
        renewal_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Duration::days((id * 37 % 300) as i64),
        health,
        health_7d_ago: None,
        health_30d_ago: None,
        open_tickets: (id % 4) as u32,
        last_touch: None,
    }
}
