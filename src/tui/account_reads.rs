//! The accounts read for the screen, one part of the app's state: the
//! selected account's health as last read (and whether a change made it
//! stale), the reads asked of the reader thread by number (an answer to an
//! older ask is dropped), the tickets of the accounts read lately, and the
//! queue action waiting for its items' tickets.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::action::Action;
use super::reads::{AccountView, HealthView, Read, TicketView};
use crate::domain::AccountId;

/// Tickets kept for this many accounts at most.
pub const TICKETS_KEPT: usize = 256;

/// What an account read brought, for the app to act on.
#[derive(Debug)]
pub struct Arrived {
    /// What could not be read, for a toast.
    pub trouble: Option<String>,
    /// The queue action that waited for tickets, with the items it was
    /// on: it runs again if the CSM is still on them.
    pub awaiting: Option<(Action, Vec<u64>)>,
}

/// The health shown, the reads on their way and the tickets read.
#[derive(Debug)]
pub struct AccountReads {
    /// The selected account's health, as last read.
    health: Option<HealthView>,
    /// The health shown is older than a change the writer answered: it
    /// stays on screen until the reread arrives.
    stale: bool,
    /// Account reads asked, by the number of the latest.
    reading: HashMap<AccountId, u64>,
    /// The number of the next read.
    next_read: u64,
    /// The tickets of the accounts read lately (the selected ones, those of
    /// marked items), with their requesters named, oldest first.
    tickets: VecDeque<(AccountId, Vec<TicketView>)>,
    /// A queue action waiting for its items' tickets to be read, with
    /// the items (follow-up ids) it was on.
    awaiting: Option<(Action, Vec<u64>)>,
}

impl Default for AccountReads {
    fn default() -> Self {
        AccountReads {
            health: None,
            stale: false,
            reading: HashMap::new(),
            next_read: 1,
            tickets: VecDeque::new(),
            awaiting: None,
        }
    }
}

impl AccountReads {
    /// The health last read, whoever it is of.
    pub fn shown(&self) -> Option<&HealthView> {
        self.health.as_ref()
    }

    /// The health of `selected`, once read.
    pub fn of(&self, selected: Option<AccountId>) -> Option<&HealthView> {
        self.health.as_ref().filter(|h| Some(h.id) == selected)
    }

    /// Whether selecting the account needs a read: its health is not the
    /// one shown (or is stale), and no read of it is on its way.
    pub fn needs_read(&self, id: AccountId) -> bool {
        let current = self.health.as_ref().is_some_and(|h| h.id == id) && !self.stale;
        !current && !self.reading.contains_key(&id)
    }

    /// Numbers a read of the account (a newer ask wins); the read to ask for.
    pub fn ask(&mut self, id: AccountId, now: DateTime<Utc>) -> Read {
        let seq = self.next_read;
        self.next_read += 1;
        self.reading.insert(id, seq);
        Read::Account { id, now, seq }
    }

    /// The account changed on disk: its tickets are forgotten and its
    /// health shown goes stale. Whether it must be read again (it is the
    /// selected one, or a read of it is on its way).
    pub fn changed(&mut self, id: AccountId, selected: Option<AccountId>) -> bool {
        self.tickets.retain(|(a, _)| *a != id);
        if self.health.as_ref().is_some_and(|h| h.id == id) {
            self.stale = true;
        }
        selected == Some(id) || self.reading.contains_key(&id)
    }

    /// A new book was loaded: scores may have moved, so everything shown is
    /// read again as it is selected.
    pub fn book_loaded(&mut self) {
        self.stale = true;
        self.tickets.clear();
    }

    /// Shows the health kept from the last session until the read of it
    /// (already asked) lands.
    pub fn kept(&mut self, health: HealthView) {
        self.health = Some(health);
        self.stale = true;
    }

    /// Whether a read of the account is on its way.
    pub fn is_reading(&self, id: AccountId) -> bool {
        self.reading.contains_key(&id)
    }

    /// The tickets read of an account, if it was read lately.
    pub fn tickets_of(&self, id: AccountId) -> Option<&[TicketView]> {
        self.tickets.iter().rev().find(|(a, _)| *a == id).map(|(_, t)| t.as_slice())
    }

    /// Keeps the tickets another read brought (the account view's).
    pub fn keep_tickets(&mut self, id: AccountId, tickets: Vec<TicketView>) {
        self.tickets.retain(|(a, _)| *a != id);
        if self.tickets.len() >= TICKETS_KEPT {
            self.tickets.pop_front();
        }
        self.tickets.push_back((id, tickets));
    }

    /// Keeps `action` on `items` until the tickets asked for arrive.
    pub fn wait(&mut self, action: Action, items: Vec<u64>) {
        self.awaiting = Some((action, items));
    }

    /// Takes an account read's answer numbered `seq`: its tickets are kept,
    /// and its health shown when it is `selected`'s. `None` when a newer
    /// read of it is on its way (the answer is dropped).
    pub fn arrived(&mut self, view: AccountView, seq: u64, selected: Option<AccountId>) -> Option<Arrived> {
        let id = view.health.id;
        if self.reading.get(&id) != Some(&seq) {
            return None;
        }
        self.reading.remove(&id);
        self.tickets.retain(|(a, _)| *a != id);
        if self.tickets.len() >= TICKETS_KEPT {
            self.tickets.pop_front();
        }
        self.tickets.push_back((id, view.tickets));
        if selected == Some(id) {
            self.health = Some(view.health);
            self.stale = false;
        }
        Some(Arrived { trouble: view.trouble, awaiting: self.awaiting.take() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    /// What a read of `id` brings: its health, no tickets.
    fn view(id: AccountId) -> AccountView {
        let health =
            HealthView { id, history: Default::default(), explanation: None, sentiment: None, timeline: Vec::new() };
        AccountView { health, tickets: Vec::new(), trouble: None }
    }

    fn seq(read: Read) -> u64 {
        match read {
            Read::Account { seq, .. } => seq,
            other => panic!("not an account read: {other:?}"),
        }
    }

    #[test]
    fn an_answer_to_an_older_ask_is_dropped() {
        let mut reads = AccountReads::default();
        let a = AccountId(1);
        let first = seq(reads.ask(a, now()));
        let second = seq(reads.ask(a, now()));
        assert!(reads.arrived(view(a), first, Some(a)).is_none(), "a newer read is on its way");
        assert!(reads.shown().is_none());
        assert!(reads.is_reading(a));
        assert!(reads.arrived(view(a), second, Some(a)).is_some());
        assert_eq!(reads.of(Some(a)).map(|h| h.id), Some(a));
        assert!(!reads.is_reading(a) && !reads.needs_read(a), "shown and current");
    }

    #[test]
    fn a_change_makes_the_health_shown_stale_and_asks_again_only_for_the_selected() {
        let mut reads = AccountReads::default();
        let (a, b) = (AccountId(1), AccountId(2));
        let s = seq(reads.ask(a, now()));
        reads.arrived(view(a), s, Some(a)).unwrap();
        assert!(reads.tickets_of(a).is_some());
        assert!(!reads.changed(b, Some(a)), "neither selected nor being read");
        assert!(reads.changed(a, Some(a)));
        assert!(reads.tickets_of(a).is_none(), "its tickets are read again");
        assert!(reads.needs_read(a), "stale: selecting it again reads it");
        assert_eq!(reads.of(Some(a)).map(|h| h.id), Some(a), "it stays on screen meanwhile");
    }

    #[test]
    fn an_account_not_selected_brings_its_tickets_and_the_waiting_action_but_not_its_health() {
        let mut reads = AccountReads::default();
        let (a, b) = (AccountId(1), AccountId(2));
        reads.wait(Action::Reply, vec![7]);
        let s = seq(reads.ask(b, now()));
        let arrived = reads.arrived(view(b), s, Some(a)).unwrap();
        assert_eq!(arrived.awaiting, Some((Action::Reply, vec![7])));
        assert!(reads.tickets_of(b).is_some());
        assert!(reads.shown().is_none());
    }

    #[test]
    fn tickets_are_kept_for_the_latest_accounts_only() {
        let mut reads = AccountReads::default();
        for n in 0..=TICKETS_KEPT as u64 {
            let id = AccountId(n);
            let s = seq(reads.ask(id, now()));
            reads.arrived(view(id), s, None).unwrap();
        }
        assert!(reads.tickets_of(AccountId(0)).is_none(), "the oldest went");
        assert!(reads.tickets_of(AccountId(1)).is_some());
        assert!(reads.tickets_of(AccountId(TICKETS_KEPT as u64)).is_some());
    }
}
