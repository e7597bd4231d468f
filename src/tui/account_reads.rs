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
const TICKETS_KEPT: usize = 256;

/// What an account read brought, for the app to act on.
#[derive(Debug)]
pub struct Arrived {
    /// What could not be read, for a toast.
    pub trouble: Option<String>,
    /// The queue action that waited for tickets: it runs again now.
    pub awaiting: Option<Action>,
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
    /// A queue action waiting for its items' tickets to be read.
    awaiting: Option<Action>,
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

    /// Whether a read of the account is on its way.
    pub fn is_reading(&self, id: AccountId) -> bool {
        self.reading.contains_key(&id)
    }

    /// The tickets read of an account, if it was read lately.
    pub fn tickets_of(&self, id: AccountId) -> Option<&[TicketView]> {
        self.tickets.iter().rev().find(|(a, _)| *a == id).map(|(_, t)| t.as_slice())
    }

    /// Keeps `action` until the tickets asked for arrive.
    pub fn wait(&mut self, action: Action) {
        self.awaiting = Some(action);
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
