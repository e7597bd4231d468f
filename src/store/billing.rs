//! What a billing source keeps besides observations, in the id map of its
//! source (`x:` source NUL ...): each matched customer's account
//! (`cus_...` -> account id, so a later run that reads only what changed
//! still sums every customer of an account), and each involuntary
//! cancellation already put on a timeline (`churn/` subscription id -> the
//! activity's key, so it is recorded once).

use super::{keys, Batch, Result, Store};
use crate::domain::{AccountId, Activity};

/// The id-map prefix of recorded involuntary cancellations.
const CHURN: &str = "churn/";

impl Store {
    /// Every customer of a billing source matched to an account, with it.
    pub fn billing_links(&self, source: &str) -> Result<Vec<(String, AccountId)>> {
        let prefix = keys::external(source, "");
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let ext = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if ext.starts_with(CHURN) || ext.contains('/') {
                continue;
            }
            if let Some(id) = keys::trailing_id(&v) {
                out.push((ext, id));
            }
        }
        Ok(out)
    }

    /// Whether the involuntary cancellation of `subscription` is already on a timeline.
    pub fn churn_recorded(&self, source: &str, subscription: &str) -> Result<bool> {
        Ok(self.tree.contains_key(keys::external(source, &format!("{CHURN}{subscription}")))?)
    }
}

impl Batch {
    /// Links a billing customer to its account.
    pub fn put_billing_link(&mut self, source: &str, customer: &str, id: AccountId) {
        self.insert(keys::external(source, customer), id.0.to_be_bytes().to_vec());
    }

    /// Forgets a billing customer's link (deleted, or matching no account now).
    pub fn remove_billing_link(&mut self, source: &str, customer: &str) {
        self.remove(keys::external(source, customer));
    }

    /// Puts an involuntary cancellation on the account's timeline, once.
    pub fn put_churn(&mut self, source: &str, subscription: &str, a: &Activity) {
        self.put_activity(a);
        self.insert(
            keys::external(source, &format!("{CHURN}{subscription}")),
            keys::activity(a.account_id, a.at, a.id),
        );
    }
}
