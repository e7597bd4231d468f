//! The on-disk key layout. Every record lives in one sled tree so that a
//! single batch can change a record, its indexes and its totals atomically.
//!
//! Integers are big-endian so byte order is numeric order and a prefix scan
//! returns records sorted. Layout (`id` = u64, `day` = days since 0001-01-01
//! as u32, `ts` = unix seconds as i64 with the sign bit flipped):
//!
//! | key                               | value                     |
//! |-----------------------------------|---------------------------|
//! | `m:schema`                        | u32 schema version        |
//! | `m:workspace`                     | `WorkspaceMeta`           |
//! | `m:totals`                        | `StageTotals`             |
//! | `m:sync:` source                  | `SyncStatus`              |
//! | `a:` id                           | `Account`                 |
//! | `r:` id                           | `AccountRow` (derived)    |
//! | `ih` churned health id            | empty: default order      |
//! | `ik` stage health id              | empty: kanban columns     |
//! | `m:model`                         | `ModelStamp` of history   |
//! | `m:metrics`                       | metric names by slot      |
//! | `h:` id year(u16)                 | 366 score bytes (legacy)  |
//! | `hp` page(u32) year(u16)          | `Page<YearSeries>`: daily |
//! |                                   | scores of 16 accounts     |
//! |                                   | (compact: repeats counted)|
//! | `hq` page(u32) year(u16)          | `Page<YearInputs>`: their |
//! |                                   | daily health inputs (as   |
//! |                                   | runs: `series::runs`)     |
//! | `hn` page(u32) year(u16)          | `Page<YearInputs>`: the   |
//! |                                   | days the daily pass added |
//! |                                   | since the `hq` page was   |
//! |                                   | last written (read over   |
//! |                                   | it; see `store::pages`)   |
//! | `hs` id day                       | snapshot (legacy, removed |
//! |                                   | with its account)         |
//! | `g:` id                           | `ManualSignals`           |
//! | `ob` id signal NUL source         | `Observed`: one signal's  |
//! |                                   | dated values from a source|
//! | `rb` id                           | day (u32) from which the  |
//! |                                   | account's daily inputs and|
//! |                                   | scores are to be rebuilt  |
//! | `fl` id flag(u8)                  | follow-up id of a raised  |
//! |                                   | churn-risk flag (codes    |
//! |                                   | < 64) or lifecycle rule   |
//! |                                   | (64 and up)               |
//! | `t:` account id ticket id         | `Ticket`                  |
//! | `c:` account id contact id        | `Contact`                 |
//! | `n:` account id day id            | `NpsResponse`             |
//! | `sr` account id rating id         | `SurveyRating`: a CSAT or |
//! |                                   | CES answer from the CRM   |
//! | `tr` ticket id                    | `TicketRating`: the desk  |
//! |                                   | rating of that ticket (it |
//! |                                   | follows the ticket), with |
//! |                                   | the follow-up it raised   |
//! | `tc` ticket id                    | `Conversation`: the       |
//! |                                   | ticket's comments as last |
//! |                                   | read from the desk (kept  |
//! |                                   | for offline reading)      |
//! | `v:` account id ts id             | `Activity`                |
//! | `d:` account id deal id           | `Deal`                    |
//! | `f:` due-ts id                    | `FollowUp`                |
//! | `fi` id                           | due-ts of that follow-up  |
//! | `x:` source NUL external-id       | account id (8 bytes), or  |
//! |                                   | a child record's full key |
//! | `x:` source NUL `ticket/`id       | `ticket_slot`: account id |
//! |                                   | + its follow-up's due +   |
//! |                                   | its organization          |
//! | `xo` source NUL org id            | `OrgRecord`: what a       |
//! |                                   | support organization is   |
//! |                                   | matched on, and how it is |
//! | `xu` source NUL user id           | `UserRecord`: a support   |
//! |                                   | user's name, email, org   |
//! | `xk` source NUL object NUL id     | why a record was skipped: |
//! |                                   | read again next sync      |
//! | `xs` account id                   | `SupportOnly`: the account|
//! |                                   | is a support organization |
//! |                                   | of its own (no CRM match) |
//! | `al` account id                   | account id it was merged  |
//! |                                   | into (the old id resolves)|
//! | `s:` source NUL object            | sync cursor (JSON)        |
//! | `xr` account id source            | the account's external id |
//! |                                   | at that source            |
//! | `o:` id                           | `OutboxEntry`             |
//! | `hw` account id                   | `HealthValues` last queued|
//! |                                   | for the account's company |
//! |                                   | (`[health.write_back]`)   |
//! | `m:undo`                          | `UndoRecord` of the last  |
//! |                                   | action                    |
//! | `m:day`                           | day of the last full daily|
//! |                                   | pass (`m:daily` before)   |
//! | `dd` id                           | empty: the account's      |
//! |                                   | records changed since its |
//! |                                   | last scoring (set by every|
//! |                                   | batch that writes them)   |
//! | `td` ts id ticket                 | empty: when that ticket's |
//! |                                   | support rule may call for |
//! |                                   | something else            |
//! | `m:draft:` id                     | `Draft`: text kept when   |
//! |                                   | the cockpit was stopped   |
//! |                                   | mid-edit (never sent)     |
//!
//! `health` in index keys is the latest score, 255 when there is none, so
//! accounts without a score sort last.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::domain::{AccountId, Stage};

/// Schema version key.
pub const SCHEMA: &[u8] = b"m:schema";
/// Workspace description key.
pub const WORKSPACE: &[u8] = b"m:workspace";
/// Kanban totals key.
pub const TOTALS: &[u8] = b"m:totals";

/// Which model the stored history was scored with.
pub const MODEL_STAMP: &[u8] = b"m:model";
/// The metric names the daily inputs' metric slots hold, in slot order.
pub const METRIC_SLOTS: &[u8] = b"m:metrics";
/// The day the full daily health pass last ran. (Before the pass kept
/// `DIRTY` marks it was `m:daily`: a workspace written by an older cockpit
/// runs the full pass once, which starts the marks.)
pub const DAILY: &[u8] = b"m:day";
/// Accounts whose records changed since they were last scored.
pub const DIRTY: &[u8] = b"dd";
/// When a ticket's support rule could call for something else.
pub const DEADLINE: &[u8] = b"td";

/// Account records.
pub const ACCOUNT: &[u8] = b"a:";
/// Account rows (derived view of an account).
pub const ROW: &[u8] = b"r:";
/// Default-order index.
pub const BY_HEALTH: &[u8] = b"ih";
/// Kanban index.
pub const BY_STAGE: &[u8] = b"ik";
/// Compact yearly health series.
pub const SERIES: &[u8] = b"h:";
/// Daily scores, paged (see `store::pages`).
pub const SCORE_PAGE: &[u8] = b"hp";
/// Daily health inputs, paged.
pub const INPUT_PAGE: &[u8] = b"hq";
/// The days added to input pages since they were last written, paged.
pub const RECENT_PAGE: &[u8] = b"hn";
/// Health snapshots with factors (written by early versions).
pub const SNAPSHOT: &[u8] = b"hs";
/// Usage, billing and sentiment per account.
pub const MANUAL: &[u8] = b"g:";
/// Observed signals per account, signal and source.
pub const OBSERVED: &[u8] = b"ob";
/// Accounts whose history is to be rebuilt, from a day.
pub const REBUILD: &[u8] = b"rb";
/// Raised churn-risk flags and lifecycle rules per account.
pub const FLAG: &[u8] = b"fl";
/// Tickets by account.
pub const TICKET: &[u8] = b"t:";
/// Contacts by account.
pub const CONTACT: &[u8] = b"c:";
/// NPS answers by account.
pub const NPS: &[u8] = b"n:";
/// CSAT / CES survey answers by account.
pub const SURVEY_RATING: &[u8] = b"sr";
/// Desk ticket ratings by ticket.
pub const TICKET_RATING: &[u8] = b"tr";
/// Ticket conversations as last read from the desk, by ticket.
pub const CONVERSATION: &[u8] = b"tc";
/// Activities by account and time.
pub const ACTIVITY: &[u8] = b"v:";
/// Deals by account.
pub const DEAL: &[u8] = b"d:";
/// Follow-ups by due time.
pub const FOLLOW_UP: &[u8] = b"f:";
/// Follow-up id -> due time.
pub const FOLLOW_UP_ID: &[u8] = b"fi";

/// External id -> account id, per source.
pub const EXTERNAL: &[u8] = b"x:";
/// Sync cursors, per source and object.
pub const CURSOR: &[u8] = b"s:";
/// Account id -> its external id, per source (the reverse of `x:`).
pub const EXTERNAL_OF: &[u8] = b"xr";
/// Support organizations by source and id: their matching facts.
pub const ORG: &[u8] = b"xo";
/// Support users by source and id: name, email, organization.
pub const USER: &[u8] = b"xu";
/// Records a sync skipped, to read again at the next one.
pub const SKIPPED: &[u8] = b"xk";
/// Accounts that are a support organization of their own.
pub const SUPPORT_ONLY: &[u8] = b"xs";
/// Merged-away account id -> the account it now is.
pub const ALIAS: &[u8] = b"al";
/// Writes waiting for, or having reached, a vendor.
pub const OUTBOX: &[u8] = b"o:";
/// The health last queued for each account's company (write-back).
pub const HEALTH_WRITTEN: &[u8] = b"hw";
/// How to undo the last action (schema 6 and before; now `UNDO_HISTORY`).
pub const UNDO: &[u8] = b"m:undo";
/// The recent actions and how to undo each, by sequence (oldest first).
pub const UNDO_HISTORY: &[u8] = b"uh";
/// How many outbox entries the CSM discarded (never sent), as a u64.
pub const DISCARDED: &[u8] = b"m:discarded";
/// Drafts kept when the cockpit was stopped mid-edit, by id.
pub const DRAFT: &[u8] = b"m:draft:";

/// No score yet: sorts after every real score.
pub const NO_HEALTH: u8 = 255;

fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>());
    k.extend_from_slice(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// Days since the common era, as an order-preserving u32.
pub fn day(d: NaiveDate) -> [u8; 4] {
    (d.num_days_from_ce() as u32).to_be_bytes()
}

/// A timestamp as order-preserving bytes (sign bit flipped).
pub fn ts(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

/// The account whose health a record under this key feeds (tickets,
/// timeline, NPS, survey answers, contacts, deals, signals, the account
/// itself): a write to it marks the account for the next pass.
pub fn health_record_of(k: &[u8]) -> Option<AccountId> {
    const FEEDS: [&[u8]; 9] = [ACCOUNT, TICKET, ACTIVITY, NPS, SURVEY_RATING, MANUAL, OBSERVED, CONTACT, DEAL];
    let prefix = k.get(..2)?;
    if !FEEDS.contains(&prefix) {
        return None;
    }
    let id: [u8; 8] = k.get(2..10)?.try_into().ok()?;
    Some(AccountId(u64::from_be_bytes(id)))
}

/// A ticket's next support-rule moment: time, account, ticket (so a scan
/// up to now yields the accounts to look at).
pub fn deadline(at: DateTime<Utc>, id: AccountId, ticket: u64) -> Vec<u8> {
    // Rounded up to the second: a moment after `now` is never filed
    // inside a scan up to `now` (which would re-file it there forever).
    let secs = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
    let when = ((secs as u64) ^ (1 << 63)).to_be_bytes();
    key(DEADLINE, &[&when, &id.0.to_be_bytes(), &ticket.to_be_bytes()])
}

/// The first deadline key after `at` (the end of a scan up to `at`).
pub fn deadline_after(at: DateTime<Utc>) -> Vec<u8> {
    key(DEADLINE, &[&ts(at + chrono::Duration::seconds(1))])
}

/// The account of a deadline key.
pub fn deadline_account(k: &[u8]) -> Option<AccountId> {
    let id: [u8; 8] = k.get(10..18)?.try_into().ok()?;
    Some(AccountId(u64::from_be_bytes(id)))
}

/// `prefix` + account id.
pub fn with_id(prefix: &[u8], id: AccountId) -> Vec<u8> {
    key(prefix, &[&id.0.to_be_bytes()])
}

/// `prefix` + account id + child id.
pub fn child(prefix: &[u8], id: AccountId, child: u64) -> Vec<u8> {
    key(prefix, &[&id.0.to_be_bytes(), &child.to_be_bytes()])
}

/// Default-order index key: live accounts by health, churned ones last.
pub fn by_health(churned: bool, health: Option<u8>, id: AccountId) -> Vec<u8> {
    key(BY_HEALTH, &[&[churned as u8, health.unwrap_or(NO_HEALTH)], &id.0.to_be_bytes()])
}

/// Kanban index key.
pub fn by_stage(stage: Stage, health: Option<u8>, id: AccountId) -> Vec<u8> {
    key(BY_STAGE, &[&[stage.index() as u8, health.unwrap_or(NO_HEALTH)], &id.0.to_be_bytes()])
}

/// Prefix of one kanban column.
pub fn stage_prefix(stage: Stage) -> Vec<u8> {
    key(BY_STAGE, &[&[stage.index() as u8]])
}

/// The account id at the end of an index key.
pub fn trailing_id(k: &[u8]) -> Option<AccountId> {
    let tail: [u8; 8] = k.get(k.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(AccountId(u64::from_be_bytes(tail)))
}

/// Yearly series key.
pub fn series(id: AccountId, year: i32) -> Vec<u8> {
    key(SERIES, &[&id.0.to_be_bytes(), &(year as u16).to_be_bytes()])
}

/// Observed-signal key: account, signal, source.
pub fn observed(id: AccountId, signal: &str, source: &str) -> Vec<u8> {
    key(OBSERVED, &[&id.0.to_be_bytes(), signal.as_bytes(), &[0], source.as_bytes()])
}

/// Flag key.
pub fn flag(id: AccountId, flag: u8) -> Vec<u8> {
    key(FLAG, &[&id.0.to_be_bytes(), &[flag]])
}

/// Score page key.
pub fn score_page(page: u32, year: i32) -> Vec<u8> {
    key(SCORE_PAGE, &[&page.to_be_bytes(), &(year as u16).to_be_bytes()])
}

/// Input page key.
pub fn input_page(page: u32, year: i32) -> Vec<u8> {
    key(INPUT_PAGE, &[&page.to_be_bytes(), &(year as u16).to_be_bytes()])
}

/// Recent input days' page key.
pub fn recent_page(page: u32, year: i32) -> Vec<u8> {
    key(RECENT_PAGE, &[&page.to_be_bytes(), &(year as u16).to_be_bytes()])
}

/// The page and year of a page key.
pub fn split_page(k: &[u8]) -> Option<(u32, i32)> {
    let page = u32::from_be_bytes(k.get(2..6)?.try_into().ok()?);
    let year = u16::from_be_bytes(k.get(6..8)?.try_into().ok()?) as i32;
    Some((page, year))
}

/// Snapshot key.
pub fn snapshot(id: AccountId, d: NaiveDate) -> Vec<u8> {
    key(SNAPSHOT, &[&id.0.to_be_bytes(), &day(d)])
}

/// NPS key.
pub fn nps(id: AccountId, d: NaiveDate, answer: u64) -> Vec<u8> {
    key(NPS, &[&id.0.to_be_bytes(), &day(d), &answer.to_be_bytes()])
}

/// A desk ticket's rating key.
pub fn ticket_rating(ticket: u64) -> Vec<u8> {
    key(TICKET_RATING, &[&ticket.to_be_bytes()])
}

/// A ticket's kept conversation key.
pub fn conversation(ticket: u64) -> Vec<u8> {
    key(CONVERSATION, &[&ticket.to_be_bytes()])
}

/// Activity key.
pub fn activity(id: AccountId, at: DateTime<Utc>, activity: u64) -> Vec<u8> {
    key(ACTIVITY, &[&id.0.to_be_bytes(), &ts(at), &activity.to_be_bytes()])
}

/// Follow-up key (ordered by due time).
pub fn follow_up(due: DateTime<Utc>, id: u64) -> Vec<u8> {
    key(FOLLOW_UP, &[&ts(due), &id.to_be_bytes()])
}

/// External-id key: which account a vendor's record maps to.
pub fn external(source: &str, ext: &str) -> Vec<u8> {
    key(EXTERNAL, &[source.as_bytes(), &[0], ext.as_bytes()])
}

/// Reverse external-id key: an account's id at a source.
pub fn external_of(id: AccountId, source: &str) -> Vec<u8> {
    key(EXTERNAL_OF, &[&id.0.to_be_bytes(), source.as_bytes()])
}

/// Undo history key (ordered by sequence, so by when the action was made).
pub fn undo_entry(seq: u64) -> Vec<u8> {
    key(UNDO_HISTORY, &[&seq.to_be_bytes()])
}

/// Outbox entry key (ordered by id, so by creation).
pub fn outbox(id: u64) -> Vec<u8> {
    key(OUTBOX, &[&id.to_be_bytes()])
}

/// Cursor key of one source's object type.
pub fn cursor(source: &str, object: &str) -> Vec<u8> {
    key(CURSOR, &[source.as_bytes(), &[0], object.as_bytes()])
}

/// Last sync outcome of a source.
pub fn sync_status(source: &str) -> Vec<u8> {
    key(b"m:sync:", &[source.as_bytes()])
}

/// Follow-up key from a stored due time (as written by `ts`).
pub fn follow_up_at(due: [u8; 8], id: u64) -> Vec<u8> {
    key(FOLLOW_UP, &[&due, &id.to_be_bytes()])
}

/// Where a synced ticket lives, as its slot says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotValue {
    /// The account its record is filed under.
    pub account: AccountId,
    /// The due time (`ts`) of its follow-up, when it has one.
    pub due: Option<[u8; 8]>,
    /// Written by schema 1: the account id only; its follow-up has an `fi` entry.
    pub legacy: bool,
    /// The support organization it belongs to, when known.
    pub org: Option<u64>,
}

/// Where a synced ticket lives: its account id, then a tag, the due time
/// (`ts`) of its follow-up when it has one and its organization when it
/// has one (tag 0: neither, 1: due, 2: org, 3: due and org). The
/// follow-up is found from here without an `fi` entry, and the
/// organization tells which tickets move when an organization is matched
/// to another account. Values of 8 bytes (schema 1) hold the account id
/// only; their follow-ups have `fi` entries.
pub fn ticket_slot(account: AccountId, due: Option<[u8; 8]>, org: Option<u64>) -> Vec<u8> {
    let mut v = Vec::with_capacity(25);
    v.extend_from_slice(&account.0.to_be_bytes());
    v.push(u8::from(due.is_some()) | (u8::from(org.is_some()) << 1));
    if let Some(d) = due {
        v.extend_from_slice(&d);
    }
    if let Some(o) = org {
        v.extend_from_slice(&o.to_be_bytes());
    }
    v
}

/// Reads a `ticket_slot` value.
pub fn read_ticket_slot(v: &[u8]) -> Option<SlotValue> {
    let account = AccountId(u64::from_be_bytes(v.get(..8)?.try_into().ok()?));
    let Some(&tag) = v.get(8) else { return Some(SlotValue { account, due: None, legacy: true, org: None }) };
    if tag > 3 {
        return None;
    }
    let mut at = 9;
    let mut take = || -> Option<[u8; 8]> {
        let b: [u8; 8] = v.get(at..at + 8)?.try_into().ok()?;
        at += 8;
        Some(b)
    };
    let due = if tag & 1 == 1 { Some(take()?) } else { None };
    let org = if tag & 2 == 2 { Some(u64::from_be_bytes(take()?)) } else { None };
    (at == v.len()).then_some(SlotValue { account, due, legacy: false, org })
}

/// A support organization's record key.
pub fn org(source: &str, org: u64) -> Vec<u8> {
    key(ORG, &[source.as_bytes(), &[0], &org.to_be_bytes()])
}

/// Prefix of one source's organization records.
pub fn orgs_of(source: &str) -> Vec<u8> {
    key(ORG, &[source.as_bytes(), &[0]])
}

/// Prefix of the records of one source's object type it skipped.
pub fn skipped_of(source: &str, object: &str) -> Vec<u8> {
    key(SKIPPED, &[source.as_bytes(), &[0], object.as_bytes(), &[0]])
}

/// A skipped record's key.
pub fn skipped(source: &str, object: &str, id: &str) -> Vec<u8> {
    key(&skipped_of(source, object), &[id.as_bytes()])
}

/// A support user's record key.
pub fn user(source: &str, user: u64) -> Vec<u8> {
    key(USER, &[source.as_bytes(), &[0], &user.to_be_bytes()])
}

/// Kept draft key.
pub fn draft(id: u64) -> Vec<u8> {
    key(DRAFT, &[&id.to_be_bytes()])
}

/// Follow-up lookup key.
pub fn follow_up_id(id: u64) -> Vec<u8> {
    key(FOLLOW_UP_ID, &[&id.to_be_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_after_now_is_never_in_a_scan_up_to_now() {
        use chrono::TimeZone;
        let now = Utc.timestamp_opt(1_800_000_000, 400_000_000).unwrap();
        let end = deadline_after(now);
        for later_ns in [1, 100_000_000, 599_999_999, 600_000_000, 1_600_000_000] {
            let at = now + chrono::Duration::nanoseconds(later_ns);
            assert!(deadline(at, AccountId(1), 2) >= end, "{at} filed inside the scan up to {now}");
        }
        // A second or more before: in (within the same second it waits for
        // the next pass, never loops).
        for earlier_s in [1, 60] {
            let at = now - chrono::Duration::seconds(earlier_s);
            assert!(deadline(at, AccountId(1), 2) < end, "{at} left out of the scan up to {now}");
        }
        assert_eq!(deadline_account(&deadline(now, AccountId(9), 2)), Some(AccountId(9)));
    }
    use chrono::TimeZone;

    #[test]
    fn byte_order_is_value_order() {
        let a = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(ts(a) < ts(b), "negative timestamps sort first");
        assert!(by_health(false, Some(9), AccountId(500)) < by_health(false, Some(10), AccountId(1)));
        assert!(by_health(false, Some(100), AccountId(1)) < by_health(false, None, AccountId(0)));
        assert!(by_health(false, None, AccountId(9)) < by_health(true, Some(0), AccountId(0)));
        assert!(by_stage(Stage::Handover, None, AccountId(1)) < by_stage(Stage::Delivery, Some(0), AccountId(0)));
        let d = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        assert!(day(d) < day(d.succ_opt().unwrap()));
        assert_eq!(trailing_id(&by_stage(Stage::Expansion, Some(3), AccountId(42))), Some(AccountId(42)));
        let due = ts(b);
        let slot = |due, org| SlotValue { account: AccountId(7), due, legacy: false, org };
        for (d, o) in [(Some(due), None), (None, None), (None, Some(12)), (Some(due), Some(u64::MAX))] {
            assert_eq!(read_ticket_slot(&ticket_slot(AccountId(7), d, o)), Some(slot(d, o)));
        }
        assert_eq!(
            read_ticket_slot(&7u64.to_be_bytes()),
            Some(SlotValue { account: AccountId(7), due: None, legacy: true, org: None }),
            "schema 1"
        );
        assert_eq!(read_ticket_slot(&[1, 2, 3]), None);
        let mut long = ticket_slot(AccountId(7), Some(due), None);
        long.push(0);
        assert_eq!(read_ticket_slot(&long), None, "trailing bytes are not a slot");
        assert_eq!(read_ticket_slot(&[0, 0, 0, 0, 0, 0, 0, 7, 9]), None, "unknown tag");
        assert_eq!(follow_up_at(due, 3), follow_up(b, 3));
    }
}
