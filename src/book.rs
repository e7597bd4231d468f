//! The book: account rows in memory with their sort, filter and kanban
//! indexes, built once and updated on change so no frame or keystroke
//! re-sorts the whole portfolio.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use crate::domain::text::sanitize;
use crate::domain::{AccountId, AccountRow, OutcomeKind, Stage, SupportOnly};
use crate::store::{StageTotals, Store, StoreError};

/// Cards a kanban column holds before the full book is loaded.
pub const FIRST_CARDS: usize = 60;

/// A column the accounts table can be sorted by. Whatever the key and
/// direction, churned accounts come last (and, by health, accounts without
/// a score just before them): reversing a sort reverses the live accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Lowest health first.
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

    /// Whether this key's natural (most useful first) order lists values
    /// ascending: lowest health, A-Z, soonest renewal, board order and the
    /// oldest touch first; the largest ARR and most tickets first otherwise.
    pub fn ascending(self) -> bool {
        !matches!(self, SortKey::Arr | SortKey::Tickets)
    }

    /// The arrow drawn after the sorted column's name, from the values'
    /// actual direction: ▲ ascending, ▼ descending, for every key.
    pub fn arrow(self, reverse: bool) -> &'static str {
        if self.ascending() != reverse {
            "▲"
        } else {
            "▼"
        }
    }

    /// The group a row sorts in, which no direction reverses: live
    /// accounts (0), then, by health, live accounts without a score (1),
    /// then churned accounts (2), which no longer need attention.
    pub fn tier(self, r: &AccountRow) -> u8 {
        match (r.stage == Stage::Churned, self, r.health) {
            (true, _, _) => 2,
            (false, SortKey::Health, None) => 1,
            _ => 0,
        }
    }

    /// Compares two rows in this key's natural (most useful first) order,
    /// ties broken by id so the order is total and stable. For health it
    /// is the store's default-order index: live by score, no score, churned.
    pub fn compare(self, a: &AccountRow, b: &AccountRow) -> Ordering {
        self.tier(a).cmp(&self.tier(b)).then_with(|| self.values(a, b)).then(a.id.cmp(&b.id))
    }

    /// The key's values alone, in its natural order.
    fn values(self, a: &AccountRow, b: &AccountRow) -> Ordering {
        match self {
            SortKey::Health => a.health.cmp(&b.health),
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Arr => b.arr.cmp(&a.arr),
            SortKey::Renewal => a.renewal_date.cmp(&b.renewal_date),
            SortKey::Stage => a.stage.cmp(&b.stage),
            SortKey::Tickets => b.open_tickets.cmp(&a.open_tickets),
            // Never touched sorts first: it is the longest without a touch.
            SortKey::LastTouch => a.last_touch.cmp(&b.last_touch),
        }
    }
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
    /// What tells apart the accounts that share a name with another (see
    /// `tags`): found once when the whole book loads, not per frame.
    tags: HashMap<AccountId, String>,
    /// The day each churned account churned, when an outcome says so.
    churned_on: HashMap<AccountId, NaiveDate>,
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
/// order, the first cards of every kanban column, the totals, the accounts
/// that are a support organization of their own and the churn days of the
/// churned accounts among them.
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
    /// The day each churned account of `rows` churned, when known.
    pub churned_on: Vec<(AccountId, NaiveDate)>,
    /// What tells apart accounts sharing a name, when `rows` is the whole
    /// book (else the whole book's load finds them).
    pub tags: Vec<(AccountId, String)>,
}

/// The tags of the groups of accounts sharing a name, from their domains
/// (a point read per account in a group).
fn read_tags(store: &Store, groups: Vec<Vec<AccountId>>) -> Result<HashMap<AccountId, String>, StoreError> {
    let mut out = HashMap::new();
    for group in groups {
        let mut domains = Vec::with_capacity(group.len());
        for id in group {
            domains.push((id, store.account(id)?.map(|a| a.domain).unwrap_or_default()));
        }
        out.extend(tags(&domains));
    }
    Ok(out)
}

/// The day a churned account churned, from its recorded outcome.
fn churn_day(store: &Store, id: AccountId) -> Result<Option<NaiveDate>, StoreError> {
    let outcome = store.account(id)?.and_then(|a| a.outcome);
    Ok(outcome.filter(|o| o.kind == OutcomeKind::Churned).map(|o| o.on))
}

/// The churn days of the churned accounts among `rows` (a point read each).
fn churn_days<'a>(
    store: &Store,
    rows: impl Iterator<Item = &'a AccountRow>,
) -> Result<Vec<(AccountId, NaiveDate)>, StoreError> {
    let mut days = Vec::new();
    for r in rows.filter(|r| r.stage == Stage::Churned) {
        if let Some(on) = churn_day(store, r.id)? {
            days.push((r.id, on));
        }
    }
    Ok(days)
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
        let churned_on = churn_days(store, rows.iter())?;
        let tags = if rows.len() as u64 >= totals.accounts() {
            let groups = Book::new(rows.clone(), totals, true).same_names();
            read_tags(store, groups)?.into_iter().collect()
        } else {
            Vec::new()
        };
        Ok(FirstPage { rows, totals, support, page, churned_on, tags })
    }
}

/// Table order of two row indexes under a sort key and direction: the
/// direction reverses the order inside each tier, never the tiers.
fn order(rows: &[AccountRow], hay: &Haystacks, sort: SortKey, reverse: bool, a: u32, b: u32) -> Ordering {
    let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
    let tiers = sort.tier(ra).cmp(&sort.tier(rb));
    if tiers != Ordering::Equal {
        return tiers;
    }
    let o = match sort {
        SortKey::Name => hay.get(a).cmp(hay.get(b)),
        _ => sort.values(ra, rb),
    }
    .then(ra.id.cmp(&rb.id));
    if reverse {
        o.reverse()
    } else {
        o
    }
}

/// Reverses a forward order inside each run of one tier, which is what
/// `order` with `reverse` gives, without sorting again.
fn reverse_within_tiers(list: &mut [u32], rows: &[AccountRow], key: SortKey) {
    let mut start = 0;
    while start < list.len() {
        let tier = key.tier(&rows[list[start] as usize]);
        let len = list[start..].iter().take_while(|&&r| key.tier(&rows[r as usize]) == tier).count();
        list[start..start + len].reverse();
        start += len;
    }
}

/// How an account is told apart from the others of the same name: its
/// domain when that is its own within the group, else its id.
pub fn tags(group: &[(AccountId, String)]) -> Vec<(AccountId, String)> {
    group
        .iter()
        .map(|(id, domain)| {
            let domain = domain.trim();
            let shared = group.iter().filter(|(_, d)| d.trim().eq_ignore_ascii_case(domain)).count() > 1;
            let tag = if domain.is_empty() || shared { format!("#{}", id.0) } else { sanitize(domain).into_owned() };
            (*id, tag)
        })
        .collect()
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
            tags: HashMap::new(),
            churned_on: HashMap::new(),
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
        book.churned_on = churn_days(store, book.rows.iter())?.into_iter().collect();
        let groups = book.same_names();
        book.tags = read_tags(store, groups)?;
        Ok(book)
    }

    /// The groups of accounts that share a name (ignoring case), in name
    /// order. The name order is kept for the table: live accounts by name,
    /// then churned ones by name; merging the two runs lines up equal
    /// names, so finding them costs one pass.
    pub fn same_names(&mut self) -> Vec<Vec<AccountId>> {
        self.forward_order(SortKey::Name);
        let (rows, hay) = (&self.rows, &self.haystack);
        let name = |r: u32| {
            let text = hay.get(r);
            &text[..text.find('\0').unwrap_or(text.len())]
        };
        let order = &self.orders[&SortKey::Name];
        let split = order.iter().position(|&r| rows[r as usize].stage == Stage::Churned).unwrap_or(order.len());
        let (mut live, mut churned) = (order[..split].iter().peekable(), order[split..].iter().peekable());
        let merged = std::iter::from_fn(|| match (live.peek(), churned.peek()) {
            (Some(&&a), Some(&&b)) if name(b) < name(a) => churned.next(),
            (Some(_), _) => live.next(),
            (None, _) => churned.next(),
        });
        let mut groups = Vec::new();
        let mut group: Vec<u32> = Vec::new();
        let mut close = |group: &mut Vec<u32>| {
            if group.len() > 1 {
                groups.push(group.iter().map(|&g| rows[g as usize].id).collect());
            }
            group.clear();
        };
        for &r in merged {
            if group.last().is_some_and(|&g| name(g) != name(r)) {
                close(&mut group);
            }
            group.push(r);
        }
        close(&mut group);
        groups
    }

    /// What tells an account apart from others of the same name (its
    /// domain, or its id), when it shares its name.
    pub fn tag(&self, id: AccountId) -> Option<&str> {
        self.tags.get(&id).map(String::as_str)
    }

    /// An account's name as every pane draws it: "Acme (acme.io)" when
    /// another account has the same name.
    pub fn display_name<'a>(&self, id: AccountId, name: &'a str) -> Cow<'a, str> {
        match self.tag(id) {
            Some(tag) => Cow::Owned(format!("{name} ({tag})")),
            None => Cow::Borrowed(name),
        }
    }

    /// The day a churned account churned, when an outcome recorded it.
    pub fn churned_on(&self, id: AccountId) -> Option<NaiveDate> {
        self.churned_on.get(&id).copied()
    }

    /// Records the day an account churned (an outcome recorded while the
    /// book is loaded), or forgets it.
    pub fn set_churned_on(&mut self, id: AccountId, on: Option<NaiveDate>) {
        match on {
            Some(on) => self.churned_on.insert(id, on),
            None => self.churned_on.remove(&id),
        };
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
        book.churned_on = first.churned_on.into_iter().collect();
        book.tags = first.tags.into_iter().collect();
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
            reverse_within_tiers(&mut sorted, &self.rows, self.sort);
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
        if new_stage != Stage::Churned {
            self.churned_on.remove(&new.id);
        }
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

    /// A book with churned and unscored accounts among live ones, each
    /// key's values spread so every sort has something to order.
    fn mixed() -> Book {
        let mut rows = Vec::new();
        for id in 1..=12u64 {
            let stage = match id % 4 {
                0 => Stage::Churned,
                1 => Stage::Adoption,
                2 => Stage::RenewalPrep,
                _ => Stage::Onboarding,
            };
            let health = if id % 5 == 0 { None } else { Some((id * 37 % 100) as u8) };
            let mut r = row(id, &format!("N{:02}", 13 - id), health, stage, id * 1000 % 7000);
            r.last_touch = (id % 3 != 0).then(|| chrono::Utc::now() - chrono::Duration::days(id as i64 * 5 % 11));
            rows.push(r);
        }
        let mut totals = StageTotals::default();
        rows.iter().for_each(|r| totals.add(r));
        Book::new(rows, totals, true)
    }

    #[test]
    fn churned_accounts_come_last_in_every_sort_and_direction() {
        let mut b = mixed();
        for key in SortKey::ALL {
            for reverse in [false, true] {
                b.set_sort(key, reverse);
                let stages: Vec<Stage> = b.view_slice(0, 100).map(|r| r.stage).collect();
                let first_churned = stages.iter().position(|s| *s == Stage::Churned).unwrap();
                assert!(
                    stages[first_churned..].iter().all(|s| *s == Stage::Churned),
                    "{key:?} reverse={reverse}: {stages:?}"
                );
                assert_eq!(stages.len() - first_churned, 3, "{key:?} reverse={reverse}");
                // The live rows are exactly reversed by the direction.
                let live = |b: &Book| -> Vec<u64> {
                    b.view_slice(0, 100).filter(|r| r.stage != Stage::Churned).map(|r| r.id.0).collect()
                };
                let this = live(&b);
                b.set_sort(key, !reverse);
                let mut other = live(&b);
                other.reverse();
                if key == SortKey::Health {
                    // Unscored live accounts stay after the scored ones both ways.
                    let scored = |v: &[u64]| -> Vec<u64> { v.iter().copied().filter(|id| id % 5 != 0).collect() };
                    assert_eq!(scored(&this), scored(&other), "health reverse={reverse}");
                    assert_eq!(this.last().map(|id| id % 5), Some(0), "no score last, reverse={reverse}");
                } else {
                    assert_eq!(this, other, "{key:?} reverse={reverse}");
                }
                b.set_sort(key, reverse);
            }
        }
    }

    #[test]
    fn an_update_keeps_churned_last_in_a_reversed_sort() {
        let mut b = mixed();
        b.precompute_orders();
        b.set_sort(SortKey::Arr, true);
        let mut r = b.row(AccountId(5)).unwrap().clone();
        r.stage = Stage::Churned;
        r.arr = 1;
        b.update_row(r);
        let stages: Vec<Stage> = b.view_slice(0, 100).map(|r| r.stage).collect();
        assert_eq!(&stages[8..], &[Stage::Churned; 4], "{stages:?}");
        let arrs: Vec<u64> = b.view_slice(0, 8).map(|r| r.arr).collect();
        assert!(arrs.windows(2).all(|w| w[0] <= w[1]), "reversed ARR ascends: {arrs:?}");
    }

    /// The arrow says which way the live values run, read off the rows.
    #[test]
    fn the_arrow_means_ascending_values_for_every_key() {
        let mut b = mixed();
        for key in SortKey::ALL {
            for reverse in [false, true] {
                b.set_sort(key, reverse);
                let live: Vec<&AccountRow> = b.view_slice(0, 100).filter(|r| key.tier(r) == 0).collect::<Vec<_>>();
                let first_last = |v: &[&AccountRow]| -> Ordering {
                    let (a, z) = (v[0], v[v.len() - 1]);
                    match key {
                        SortKey::Health => a.health.cmp(&z.health),
                        SortKey::Name => a.name.cmp(&z.name),
                        SortKey::Arr => a.arr.cmp(&z.arr),
                        SortKey::Renewal => a.renewal_date.cmp(&z.renewal_date),
                        SortKey::Stage => a.stage.cmp(&z.stage),
                        SortKey::Tickets => a.open_tickets.cmp(&z.open_tickets),
                        SortKey::LastTouch => a.last_touch.cmp(&z.last_touch),
                    }
                };
                let want = if key.arrow(reverse) == "▲" { Ordering::Less } else { Ordering::Greater };
                assert_eq!(first_last(&live), want, "{key:?} reverse={reverse} arrow {}", key.arrow(reverse));
            }
        }
        assert_eq!(SortKey::Health.arrow(false), "▲");
        assert_eq!(SortKey::Arr.arrow(false), "▼");
        assert_eq!(SortKey::Arr.arrow(true), "▲");
        assert_eq!(SortKey::Tickets.arrow(false), "▼");
    }

    #[test]
    fn accounts_sharing_a_name_are_found_and_told_apart() {
        let rows = vec![
            row(1, "Acme", Some(80), Stage::Adoption, 10),
            row(2, "Bolt", Some(20), Stage::Adoption, 30),
            row(3, "ACME", Some(50), Stage::Onboarding, 20),
            row(4, "Acme Corp", Some(50), Stage::RenewalPrep, 5),
            row(5, "Bolt", None, Stage::Churned, 5),
            row(6, "acme", None, Stage::Churned, 5),
        ];
        let mut totals = StageTotals::default();
        rows.iter().for_each(|r| totals.add(r));
        let mut b = Book::new(rows, totals, true);
        let mut groups = b.same_names();
        groups.iter_mut().for_each(|g| g.sort());
        assert_eq!(groups, vec![vec![AccountId(1), AccountId(3), AccountId(6)], vec![AccountId(2), AccountId(5)]]);
        let tagged = tags(&[
            (AccountId(1), "acme.io".into()),
            (AccountId(3), "acme.com".into()),
            (AccountId(6), "ACME.io".into()),
            (AccountId(7), " ".into()),
        ]);
        let tagged: Vec<&str> = tagged.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(tagged, vec!["#1", "acme.com", "#6", "#7"], "a domain shared or missing falls back to the id");
        b.tags = [(AccountId(1), "acme.io".to_string())].into_iter().collect();
        assert_eq!(b.display_name(AccountId(1), "Acme"), "Acme (acme.io)");
        assert_eq!(b.display_name(AccountId(4), "Acme Corp"), "Acme Corp");
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
