//! The book: account rows in memory with their sort, filter and kanban
//! indexes, built once and updated on change so no frame or keystroke
//! re-sorts the whole portfolio.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;

use crate::domain::text::sanitize;
use crate::domain::{AccountId, AccountRow, Stage, SupportOnly};
use crate::store::{StageTotals, Store, StoreError};

/// Cards a kanban column holds before the full book is loaded.
pub const FIRST_CARDS: usize = 60;

/// A column the accounts table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Lowest health first; accounts without a score, then churned ones, last.
    Health,
    /// Name A-Z.
    Name,
    /// Largest ARR first.
    Arr,
    /// Soonest renewal first.
    Renewal,
    /// Board order.
    Stage,
    /// Most open tickets first.
    Tickets,
    /// Longest without a touch first.
    LastTouch,
}

impl SortKey {
    /// Every key, in the order `sort_next` cycles them.
    pub const ALL: [SortKey; 7] = [
        SortKey::Health,
        SortKey::Name,
        SortKey::Arr,
        SortKey::Renewal,
        SortKey::Stage,
        SortKey::Tickets,
        SortKey::LastTouch,
    ];

    /// Label for the pane title.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Name => "name",
            SortKey::Arr => "ARR",
            SortKey::Renewal => "renewal",
            SortKey::Stage => "stage",
            SortKey::Tickets => "tickets",
            SortKey::LastTouch => "last touch",
        }
    }

    /// Parses a CLI value.
    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.label().eq_ignore_ascii_case(s) || k.cli() == s)
    }

    /// The CLI spelling.
    pub fn cli(self) -> &'static str {
        match self {
            SortKey::LastTouch => "last_touch",
            SortKey::Arr => "arr",
            k => k.label(),
        }
    }

    /// The next key in the cycle.
    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    /// Compares two rows in this key's natural (most useful first) order,
    /// ties broken by id so the order is total and stable.
    pub fn compare(self, a: &AccountRow, b: &AccountRow) -> Ordering {
        let primary = match self {
            SortKey::Health => health_rank(a).cmp(&health_rank(b)),
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Arr => b.arr.cmp(&a.arr),
            SortKey::Renewal => a.renewal_date.cmp(&b.renewal_date),
            SortKey::Stage => a.stage.cmp(&b.stage),
            SortKey::Tickets => b.open_tickets.cmp(&a.open_tickets),
            // Never touched sorts first: it is the longest without a touch.
            SortKey::LastTouch => a.last_touch.cmp(&b.last_touch),
        };
        primary.then(a.id.cmp(&b.id))
    }
}

/// The default triage order: live accounts by health (no score last), then
/// churned ones, which no longer need attention. Matches the store's index.
fn health_rank(r: &AccountRow) -> (bool, u8) {
    (r.stage == Stage::Churned, r.health.unwrap_or(u8::MAX))
}

/// Kanban order inside a column: the same as the store's stage index.
fn column_order(a: &AccountRow, b: &AccountRow) -> Ordering {
    SortKey::Health.compare(a, b)
}

/// The in-memory book with its indexes.
#[derive(Debug, Clone)]
pub struct Book {
    /// In id order: an account's position is found by binary search (a
    /// map from id to position cost 2 MB at 100,000 accounts).
    rows: Vec<AccountRow>,
    haystack: Haystacks,
    totals: StageTotals,
    complete: bool,
    sort: SortKey,
    reverse: bool,
    sorted: Vec<u32>,
    /// Forward orders already computed, per key: switching sort is a copy.
    orders: HashMap<SortKey, Vec<u32>>,
    filter: String,
    view: Vec<u32>,
    columns: [Vec<u32>; 9],
    /// Accounts that are a support organization of their own, and why.
    support: HashMap<AccountId, SupportOnly>,
}

/// Lower-case search text per row, in one contiguous buffer so a filter
/// scan reads memory in order. Each text starts with the name and a NUL, so
/// it also serves as the name sort key without allocating per comparison.
#[derive(Debug, Clone, Default)]
struct Haystacks {
    text: String,
    spans: Vec<(u32, u32)>,
}

impl Haystacks {
    fn build(row: &AccountRow) -> String {
        format!("{}\0{} {}", row.name, row.segment.label(), row.stage.label()).to_lowercase()
    }

    /// Room for the texts of `rows`, as near their length as can be told
    /// without building them (lower-casing rarely changes a length).
    fn with_capacity(rows: &[AccountRow]) -> Haystacks {
        let bytes = rows.iter().map(|r| r.name.len() + 2 + r.segment.label().len() + r.stage.label().len());
        Haystacks { text: String::with_capacity(bytes.sum()), spans: Vec::with_capacity(rows.len()) }
    }

    fn push(&mut self, row: &AccountRow) {
        let start = self.text.len() as u32;
        self.text.push_str(&Haystacks::build(row));
        self.spans.push((start, self.text.len() as u32));
    }

    /// Replaces a row's text; the old bytes stay unused until the next load.
    fn set(&mut self, r: u32, row: &AccountRow) {
        self.set_text(r, &Haystacks::build(row));
    }

    /// Replaces a row's text with `text` (already lower-case or not).
    fn set_text(&mut self, r: u32, text: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(&text.to_lowercase());
        self.spans[r as usize] = (start, self.text.len() as u32);
    }

    fn get(&self, r: u32) -> &str {
        let (a, b) = self.spans[r as usize];
        &self.text[a as usize..b as usize]
    }
}

/// What the first frame's book is made of: the first page of the default
/// order, the first cards of every kanban column, the totals and the
/// accounts that are a support organization of their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstPage {
    /// The page's rows, then the cards not on it.
    pub rows: Vec<AccountRow>,
    /// Count and ARR per column, of the whole book.
    pub totals: StageTotals,
    /// The support organizations of their own.
    pub support: Vec<(AccountId, SupportOnly)>,
    /// Rows of the default order on the page.
    pub page: usize,
}

impl FirstPage {
    /// Reads the first `page` rows of the default order and the first
    /// cards of every column.
    pub fn read(store: &Store, page: usize) -> Result<FirstPage, StoreError> {
        let mut rows = store.first_rows(page)?;
        let mut seen: std::collections::HashSet<AccountId> = rows.iter().map(|r| r.id).collect();
        for stage in Stage::ALL {
            for r in store.stage_rows(stage, FIRST_CARDS)? {
                if seen.insert(r.id) {
                    rows.push(r);
                }
            }
        }
        let totals = store.stage_totals()?;
        let support = store.support_only_accounts()?.into_iter().collect();
        Ok(FirstPage { rows, totals, support, page })
    }
}

/// Table order of two row indexes under a sort key and direction.
fn order(rows: &[AccountRow], hay: &Haystacks, sort: SortKey, reverse: bool, a: u32, b: u32) -> Ordering {
    let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
    let o = match sort {
        SortKey::Name => hay.get(a).cmp(hay.get(b)).then(ra.id.cmp(&rb.id)),
        _ => sort.compare(ra, rb),
    };
    if reverse {
        o.reverse()
    } else {
        o
    }
}

impl Book {
    /// A book over `rows`; `complete` says whether these are all the accounts.
    pub fn new(rows: Vec<AccountRow>, totals: StageTotals, complete: bool) -> Book {
        let mut rows = rows;
        rows.sort_unstable_by_key(|r| r.id);
        for r in &mut rows {
            // Names come from outside: make them safe once, not per frame.
            if let std::borrow::Cow::Owned(clean) = sanitize(&r.name) {
                r.name = clean;
            }
        }
        let mut haystack = Haystacks::with_capacity(&rows);
        rows.iter().for_each(|r| haystack.push(r));
        let mut book = Book {
            rows,
            haystack,
            totals,
            complete,
            sort: SortKey::Health,
            reverse: false,
            sorted: Vec::new(),
            orders: HashMap::new(),
            filter: String::new(),
            view: Vec::new(),
            columns: Default::default(),
            support: HashMap::new(),
        };
        book.resort();
        book.rebuild_columns();
        book
    }

    /// Loads the whole book from the store.
    pub fn load(store: &Store) -> Result<Book, StoreError> {
        let totals = store.stage_totals()?;
        // The totals count the rows: room for them all at once, not a
        // vector doubled (and copied) on the way there.
        let mut rows = Vec::with_capacity(usize::try_from(totals.accounts()).unwrap_or(0));
        for row in store.rows() {
            rows.push(row?);
        }
        let mut book = Book::new(rows, totals, true);
        book.set_support(store.support_only_accounts()?.into_iter().collect());
        Ok(book)
    }

    /// Marks the accounts that are a support organization of their own
    /// (a filter finds them by "support" and "ambiguous").
    pub fn set_support(&mut self, support: HashMap<AccountId, SupportOnly>) {
        for (id, mark) in &support {
            if let Some(r) = self.position(*id) {
                let row = &self.rows[r as usize];
                let text = format!("{} {}", Haystacks::build(row), mark.link.label());
                self.haystack.set_text(r, &text);
            }
        }
        self.support = support;
    }

    /// Why an account is a support organization of its own, if it is one.
    pub fn support_only(&self, id: AccountId) -> Option<&SupportOnly> {
        self.support.get(&id)
    }

    /// Loads what the first frame needs: the first `page` rows of the
    /// default order and the first cards of every kanban column.
    pub fn load_first(store: &Store, page: usize) -> Result<Book, StoreError> {
        Ok(Book::first(FirstPage::read(store, page)?))
    }

    /// The book of the first frame, before the rest loads.
    pub fn first(first: FirstPage) -> Book {
        let complete = first.rows.len() as u64 >= first.totals.accounts();
        let mut book = Book::new(first.rows, first.totals, complete);
        book.set_support(first.support.into_iter().collect());
        if !complete {
            // Only the first page belongs in the table until the rest loads.
            book.sorted.truncate(first.page);
            book.view = book.sorted.clone();
        }
        book
    }

    /// Whether every account is loaded.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Accounts in the workspace (loaded or not).
    pub fn total(&self) -> u64 {
        self.totals.accounts().max(self.rows.len() as u64)
    }

    /// Count and ARR per stage.
    pub fn totals(&self) -> &StageTotals {
        &self.totals
    }

    /// The current sort key and direction.
    pub fn sort(&self) -> (SortKey, bool) {
        (self.sort, self.reverse)
    }

    /// The current filter text.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Rows the table shows, in order.
    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// The row at a table position.
    pub fn view_row(&self, i: usize) -> Option<&AccountRow> {
        self.view.get(i).map(|&r| &self.rows[r as usize])
    }

    /// Rows of the table from `start`, at most `len` of them.
    pub fn view_slice(&self, start: usize, len: usize) -> impl Iterator<Item = &AccountRow> {
        self.view.iter().skip(start).take(len).map(|&r| &self.rows[r as usize])
    }

    /// An account's index in `rows`.
    fn position(&self, id: AccountId) -> Option<u32> {
        self.rows.binary_search_by_key(&id, |r| r.id).ok().map(|i| i as u32)
    }

    /// Where an account sits in the table, if it passes the filter.
    pub fn view_position(&self, id: AccountId) -> Option<usize> {
        let r = self.position(id)?;
        self.view.iter().position(|&v| v == r)
    }

    /// An account's row by id.
    pub fn row(&self, id: AccountId) -> Option<&AccountRow> {
        self.position(id).map(|r| &self.rows[r as usize])
    }

    /// Cards loaded in a kanban column.
    pub fn column_len(&self, stage: Stage) -> usize {
        self.columns[stage.index()].len()
    }

    /// The card at a position of a kanban column.
    pub fn column_row(&self, stage: Stage, i: usize) -> Option<&AccountRow> {
        self.columns[stage.index()].get(i).map(|&r| &self.rows[r as usize])
    }

    /// Cards of a column from `start`, at most `len`.
    pub fn column_slice(&self, stage: Stage, start: usize, len: usize) -> impl Iterator<Item = &AccountRow> {
        self.columns[stage.index()].iter().skip(start).take(len).map(|&r| &self.rows[r as usize])
    }

    /// Where an account sits in its kanban column.
    pub fn column_position(&self, id: AccountId) -> Option<(Stage, usize)> {
        let row = self.row(id)?;
        let col = &self.columns[row.stage.index()];
        col.binary_search_by(|&r| column_order(&self.rows[r as usize], row)).ok().map(|i| (row.stage, i))
    }

    /// Sorts the table by `key`; the same key again flips the direction.
    pub fn set_sort(&mut self, key: SortKey, reverse: bool) {
        if (key, reverse) != (self.sort, self.reverse) {
            self.sort = key;
            self.reverse = reverse;
            self.resort();
        }
    }

    /// Filters the table to rows whose name, segment or stage contains
    /// `text` (case-insensitive).
    pub fn set_filter(&mut self, text: &str) {
        let needle = text.to_lowercase();
        let narrowing = !self.filter.is_empty() && needle.starts_with(&self.filter.to_lowercase());
        self.filter = text.to_string();
        // Typing one more character can only narrow: scan the view, not the book.
        let source = if narrowing { std::mem::take(&mut self.view) } else { self.sorted.clone() };
        self.view = if needle.is_empty() {
            source
        } else {
            // One searcher for the whole scan: building one per row costs more than the search.
            let finder = memchr::memmem::Finder::new(needle.as_bytes());
            source.into_iter().filter(|&r| finder.find(self.haystack.get(r).as_bytes()).is_some()).collect()
        };
    }

    /// Computes every sort order up front (off the UI thread), so a sort
    /// keystroke never sorts the whole book.
    pub fn precompute_orders(&mut self) {
        for key in SortKey::ALL {
            self.forward_order(key);
        }
    }

    fn forward_order(&mut self, key: SortKey) -> &Vec<u32> {
        let (rows, hay) = (&self.rows, &self.haystack);
        self.orders.entry(key).or_insert_with(|| {
            let mut v: Vec<u32> = (0..rows.len() as u32).collect();
            v.sort_unstable_by(|&a, &b| order(rows, hay, key, false, a, b));
            v
        })
    }

    fn resort(&mut self) {
        let mut sorted = self.forward_order(self.sort).clone();
        if self.reverse {
            sorted.reverse();
        }
        self.sorted = sorted;
        let f = self.filter.clone();
        self.filter.clear();
        self.set_filter(&f);
    }

    fn rebuild_columns(&mut self) {
        let mut columns: [Vec<u32>; 9] = Default::default();
        for (i, r) in self.rows.iter().enumerate() {
            columns[r.stage.index()].push(i as u32);
        }
        for col in &mut columns {
            col.sort_unstable_by(|&a, &b| column_order(&self.rows[a as usize], &self.rows[b as usize]));
        }
        self.columns = columns;
    }

    fn insert_sorted(list: &mut Vec<u32>, r: u32, cmp: impl Fn(u32, u32) -> Ordering) {
        let at = list.binary_search_by(|&x| cmp(x, r)).unwrap_or_else(|e| e);
        list.insert(at, r);
    }

    /// Replaces one account's row and moves it in every index.
    pub fn update_row(&mut self, row: AccountRow) {
        let Some(r) = self.position(row.id) else {
            return;
        };
        let old = std::mem::replace(&mut self.rows[r as usize], row);
        let new = &self.rows[r as usize];
        self.totals.remove(&old);
        self.totals.add(new);
        match self.support.get(&new.id) {
            Some(mark) => self.haystack.set_text(r, &format!("{} {}", Haystacks::build(new), mark.link.label())),
            None => self.haystack.set(r, new),
        }
        let new_stage = new.stage;
        for list in [&mut self.sorted, &mut self.view, &mut self.columns[old.stage.index()]] {
            list.retain(|&x| x != r);
        }
        let (rows, hay) = (&self.rows, &self.haystack);
        let (sort, reverse) = (self.sort, self.reverse);
        let cmp = |a: u32, b: u32| order(rows, hay, sort, reverse, a, b);
        Book::insert_sorted(&mut self.sorted, r, cmp);
        for (key, list) in self.orders.iter_mut() {
            list.retain(|&x| x != r);
            let key = *key;
            Book::insert_sorted(list, r, |a, b| order(rows, hay, key, false, a, b));
        }
        let needle = self.filter.to_lowercase();
        if needle.is_empty() || self.haystack.get(r).contains(&needle) {
            Book::insert_sorted(&mut self.view, r, cmp);
        }
        Book::insert_sorted(&mut self.columns[new_stage.index()], r, |a, b| {
            column_order(&rows[a as usize], &rows[b as usize])
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Segment;
    use chrono::NaiveDate;

    fn row(id: u64, name: &str, health: Option<u8>, stage: Stage, arr: u64) -> AccountRow {
        AccountRow {
            id: AccountId(id),
            name: name.into(),
            segment: Segment::Smb,
            arr,
            stage,
            renewal_date: NaiveDate::from_ymd_opt(2027, 1, id as u32).unwrap(),
            health,
            health_7d_ago: None,
            health_30d_ago: None,
            open_tickets: id as u32 % 3,
            last_touch: None,
        }
    }

    fn book() -> Book {
        let rows = vec![
            row(1, "Acme", Some(80), Stage::Adoption, 10),
            row(2, "Bolt", Some(20), Stage::Adoption, 30),
            row(3, "Cinder \u{1b}[31m", None, Stage::Onboarding, 20),
            row(4, "Acorn", Some(50), Stage::RenewalPrep, 5),
        ];
        let mut totals = StageTotals::default();
        rows.iter().for_each(|r| totals.add(r));
        Book::new(rows, totals, true)
    }

    fn ids(b: &Book) -> Vec<u64> {
        b.view_slice(0, 100).map(|r| r.id.0).collect()
    }

    #[test]
    fn default_order_is_worst_health_first() {
        let b = book();
        assert_eq!(ids(&b), vec![2, 4, 1, 3]);
        assert_eq!(b.row(AccountId(3)).unwrap().name, "Cinder ", "names are sanitized on load");
    }

    #[test]
    fn sorting_and_reversing() {
        let mut b = book();
        b.set_sort(SortKey::Arr, false);
        assert_eq!(ids(&b), vec![2, 3, 1, 4]);
        b.set_sort(SortKey::Arr, true);
        assert_eq!(ids(&b), vec![4, 1, 3, 2]);
        b.set_sort(SortKey::Name, false);
        assert_eq!(ids(&b), vec![1, 4, 2, 3]);
        assert_eq!(SortKey::LastTouch.next(), SortKey::Health);
        assert_eq!(SortKey::parse("last_touch"), Some(SortKey::LastTouch));
    }

    #[test]
    fn filtering_narrows_and_widens() {
        let mut b = book();
        b.set_filter("ac");
        assert_eq!(ids(&b), vec![4, 1]);
        b.set_filter("acm");
        assert_eq!(ids(&b), vec![1]);
        b.set_filter("a");
        assert_eq!(ids(&b), vec![2, 4, 1, 3], "'a' matches stage names too");
        b.set_filter("onboarding");
        assert_eq!(ids(&b), vec![3]);
        b.set_filter("");
        assert_eq!(b.view_len(), 4);
        assert_eq!(b.view_position(AccountId(1)), Some(2));
    }

    #[test]
    fn kanban_columns_and_updates() {
        let mut b = book();
        b.precompute_orders();
        assert_eq!(b.column_len(Stage::Adoption), 2);
        assert_eq!(b.column_row(Stage::Adoption, 0).unwrap().id, AccountId(2));
        assert_eq!(b.column_position(AccountId(1)), Some((Stage::Adoption, 1)));
        let mut moved = b.row(AccountId(2)).unwrap().clone();
        moved.stage = Stage::Expansion;
        b.update_row(moved);
        assert_eq!(b.column_len(Stage::Adoption), 1);
        assert_eq!(b.column_position(AccountId(2)), Some((Stage::Expansion, 0)));
        assert_eq!(b.totals().count[Stage::Expansion.index()], 1);
        assert_eq!(b.totals().arr[Stage::Adoption.index()], 10);
        assert_eq!(ids(&b), vec![2, 4, 1, 3], "table order kept");
        b.set_filter("expansion");
        assert_eq!(ids(&b), vec![2]);
        b.set_filter("");
        b.set_sort(SortKey::Stage, false);
        assert_eq!(ids(&b), vec![3, 1, 2, 4], "cached orders follow the update");
    }

    #[test]
    fn rows_in_any_order_are_found_by_id() {
        // The first page comes in health order, not id order.
        let rows: Vec<AccountRow> = [7u64, 3, 9, 1, 5]
            .iter()
            .map(|&id| row(id, &format!("N{id}"), Some(90 - id as u8), Stage::Adoption, id))
            .collect();
        let mut totals = StageTotals::default();
        rows.iter().for_each(|r| totals.add(r));
        let mut b = Book::new(rows, totals, true);
        for id in [1u64, 3, 5, 7, 9] {
            assert_eq!(b.row(AccountId(id)).map(|r| r.name.as_str()), Some(format!("N{id}").as_str()));
        }
        assert!(b.row(AccountId(4)).is_none() && b.row(AccountId(10)).is_none());
        assert_eq!(ids(&b), vec![9, 7, 5, 3, 1], "health order");
        assert_eq!(b.view_position(AccountId(3)), Some(3));
        let mut r = b.row(AccountId(9)).unwrap().clone();
        r.health = Some(99);
        b.update_row(r);
        assert_eq!(ids(&b), vec![7, 5, 3, 1, 9]);
        b.update_row(row(4, "not in the book", None, Stage::Adoption, 1));
        assert_eq!(b.view_len(), 5);
    }
}
