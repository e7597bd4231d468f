//! A page of a CRM's accounts: new and changed companies, links of its
//! records to accounts that already exist, and the companies it removed.

use super::{IngestCounts, Page};
use crate::domain::{Account, AccountId};
use crate::store::pages::PageCache;
use crate::store::{keys, Batch, Observe, Result, Store};

/// Writes one page of a source's accounts (accounts carry ids already
/// resolved with `Store::external_id` / `Store::next_id`), `links` of its
/// records to accounts that already exist, the records it removed, its
/// cursor and the page's `observed` signals (a company's mapped
/// properties and their history) in a single batch: after a crash the
/// cursor never runs ahead of (or behind) the records.
pub fn accounts(
    store: &Store,
    page: &Page<'_, (String, Account), String>,
    links: &[(String, AccountId)],
    mut observed: Observe<'_>,
) -> Result<IngestCounts> {
    let Page { source, records: upserts, removed: removals, cursor } = *page;
    let _w = store.write_lock();
    let mut totals = store.stage_totals()?;
    let mut counts = IngestCounts::default();
    let mut b = Batch::default();
    // A stage moved here and not yet in the CRM stays as moved.
    let held = if upserts.is_empty() { Default::default() } else { store.stage_moves_in_flight()? };
    for (ext, id) in links {
        b.link_external(source, ext, *id);
    }
    for (ext, account) in upserts {
        let old = store.account(account.id)?;
        let held_stage = held.contains(&account.id).then(|| old.as_ref().map(|o| o.stage)).flatten();
        let kept;
        let account = match held_stage {
            Some(stage) if stage != account.stage => {
                kept = Account { stage, ..account.clone() };
                &kept
            }
            _ => account,
        };
        if !counts.tally(old.as_ref(), account) {
            continue;
        }
        if old.is_none() {
            // A new account's past is arriving: its year is rebuilt.
            observed.mark_year(account.id);
        }
        let old_row = if old.is_some() { store.row(account.id)? } else { None };
        // The row's derived figures (health, tickets, touch) do not depend
        // on the account's own fields: keep them, refresh the rest.
        let row = match &old_row {
            Some(r) => r.with_account(account),
            None => crate::domain::rollup::derive_row(account, &Default::default(), &[], &[]),
        };
        b.put_account(account);
        b.put_row(old_row.as_ref(), &row, &mut totals);
        b.link_external(source, ext, account.id);
    }
    let mut pages = PageCache::default();
    for ext in removals {
        let Some(id) = store.external_id(source, ext)? else { continue };
        counts.removed += 1;
        pages.remove(store, id)?;
        remove_account(store, &mut b, source, ext, id, &mut totals)?;
    }
    pages.flush_into(&mut b);
    observed.flush_into(&mut b)?;
    b.put_totals(&totals);
    b.put_cursor(source, cursor);
    store.apply(b)?;
    Ok(counts)
}

/// The writes that take an account the CRM removed out of the workspace,
/// with what it owns (its pages of history are the caller's).
fn remove_account(
    store: &Store,
    b: &mut Batch,
    source: &str,
    ext: &str,
    id: AccountId,
    totals: &mut crate::store::StageTotals,
) -> Result<()> {
    if let Some(old_row) = store.row(id)? {
        b.remove_row(&old_row, totals);
    }
    b.remove(keys::with_id(keys::ACCOUNT, id));
    b.unlink_external(source, ext, id);
    // Tickets and support users' contacts belong to the desk's
    // organization, not to the CRM record: they stay until matching
    // moves them to the organization's next account.
    let owned = [
        keys::NPS,
        keys::ACTIVITY,
        keys::DEAL,
        keys::SNAPSHOT,
        keys::SERIES,
        keys::MANUAL,
        keys::OBSERVED,
        keys::REBUILD,
        keys::HEALTH_WRITTEN,
        keys::SURVEY_RATING,
    ];
    for prefix in owned {
        for k in store.keys_under(&keys::with_id(prefix, id)) {
            b.remove(k?.to_vec());
        }
    }
    for c in store.contacts(id)? {
        if crate::sync::zendesk::desk_user_of(c.id).is_none() {
            b.remove(keys::child(keys::CONTACT, id, c.id));
        }
    }
    // Its raised items leave the queue with it.
    for kv in store.entries_under(&keys::with_id(keys::FLAG, id)) {
        let (k, v) = kv?;
        if let Some(f) = <[u8; 8]>::try_from(v.as_ref()).ok().map(u64::from_be_bytes) {
            if let Some(f) = store.follow_up(f)? {
                b.remove_follow_up(&f);
            }
        }
        b.remove(k.to_vec());
    }
    Ok(())
}

#[cfg(test)]
impl Store {
    /// `accounts` with today's observations, for the store's own tests
    /// that predate this module (store/observed.rs).
    pub(crate) fn ingest_accounts(
        &self,
        source: &str,
        upserts: &[(String, Account)],
        links: &[(String, AccountId)],
        removals: &[String],
        cursor: Option<(&str, &[u8])>,
    ) -> Result<IngestCounts> {
        let page = Page { source, records: upserts, removed: removals, cursor };
        accounts(self, &page, links, self.observe(chrono::Utc::now().date_naive()))
    }
}
