//! Reading many accounts' records in id order: one forward-only cursor per
//! kind of record, so the daily pass reads each account's records once
//! with one seek per kind a step, not one seek per kind per account.

use sled::IVec;

use super::{keys, Result};
use crate::domain::AccountId;

/// The records under one prefix (`prefix` + account id + ...), account by
/// account.
pub(super) struct Cursor {
    iter: sled::Iter,
    prefix: &'static [u8],
    peeked: Option<(IVec, IVec)>,
    done: bool,
}

impl Cursor {
    /// A cursor at the first record of `from` (or the next account's).
    pub(super) fn new(tree: &sled::Tree, prefix: &'static [u8], from: AccountId) -> Cursor {
        Cursor { iter: tree.range(keys::with_id(prefix, from)..), prefix, peeked: None, done: false }
    }

    /// The records of `id`, in key order. Asked in ascending id order; the
    /// records of accounts not asked for are passed over.
    pub(super) fn take(&mut self, id: AccountId) -> Result<Vec<(IVec, IVec)>> {
        let mut out = Vec::new();
        loop {
            if self.peeked.is_none() {
                if self.done {
                    break;
                }
                match self.iter.next() {
                    Some(kv) => self.peeked = Some(kv?),
                    None => {
                        self.done = true;
                        break;
                    }
                }
            }
            let Some((k, _)) = &self.peeked else { break };
            if !k.starts_with(self.prefix) {
                self.done = true;
                self.peeked = None;
                break;
            }
            let Some(at) = k.get(self.prefix.len()..self.prefix.len() + 8) else {
                self.peeked = None;
                continue;
            };
            let at = u64::from_be_bytes(at.try_into().unwrap_or_default());
            if at < id.0 {
                self.peeked = None;
                continue;
            }
            if at > id.0 {
                break;
            }
            out.extend(self.peeked.take());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_each_accounts_records_once_in_order_and_passes_over_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("t").unwrap();
        for (acc, n) in [(1u64, 2u8), (2, 1), (3, 0), (5, 3), (9, 1)] {
            for i in 0..n {
                tree.insert(keys::child(keys::TICKET, AccountId(acc), i as u64), vec![i]).unwrap();
            }
        }
        // Another prefix right after: never read as tickets.
        tree.insert(keys::with_id(b"tz", AccountId(1)), vec![7]).unwrap();
        let mut c = Cursor::new(&tree, keys::TICKET, AccountId(2));
        let got = |v: Vec<(IVec, IVec)>| v.into_iter().map(|(_, v)| v[0]).collect::<Vec<u8>>();
        assert_eq!(got(c.take(AccountId(2)).unwrap()), vec![0]);
        assert_eq!(got(c.take(AccountId(3)).unwrap()), Vec::<u8>::new());
        assert_eq!(got(c.take(AccountId(4)).unwrap()), Vec::<u8>::new());
        // Account 5 is passed over on the way to 9.
        assert_eq!(got(c.take(AccountId(9)).unwrap()), vec![0]);
        assert_eq!(got(c.take(AccountId(10)).unwrap()), Vec::<u8>::new());
        let mut from_start = Cursor::new(&tree, keys::TICKET, AccountId(0));
        assert_eq!(got(from_start.take(AccountId(1)).unwrap()), vec![0, 1]);
        assert_eq!(got(from_start.take(AccountId(5)).unwrap()), vec![0, 1, 2]);
    }
}
