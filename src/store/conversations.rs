//! Ticket conversations kept for offline reading: a ticket's comments as
//! last read from the desk, under the ticket (like its rating, so they
//! follow it wherever matching moves it). Written only through the writer
//! (`engine::writer`), read by the screen's reader thread.

use super::{keys, Batch, Result, Store};
use crate::domain::conversation::Conversation;

impl Store {
    /// The ticket's conversation as last kept, if it was ever read.
    pub fn conversation(&self, ticket: u64) -> Result<Option<Conversation>> {
        self.get(&keys::conversation(ticket), "ticket conversation")
    }

    /// Keeps a conversation as read now, replacing the copy kept before,
    /// and flushes it: it must read offline even after a crash.
    pub fn keep_conversation(&self, conversation: &Conversation) -> Result<()> {
        let mut b = Batch::default();
        b.put_conversation(conversation);
        self.apply(b)?;
        self.flush()
    }
}

impl Batch {
    /// Stores a ticket's conversation.
    pub fn put_conversation(&mut self, c: &Conversation) {
        self.insert(keys::conversation(c.ticket), super::codec::encode(c));
    }
}
