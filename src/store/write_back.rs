//! What was last written back to an account's CRM company. Queueing the
//! writes after the daily pass is `engine::write_back`.

use super::{keys, Result, Store};
use crate::domain::write_back::HealthValues;
use crate::domain::AccountId;

impl Store {
    /// The health last queued for an account's company, if any.
    pub fn health_written(&self, id: AccountId) -> Result<Option<HealthValues>> {
        self.get(&keys::with_id(keys::HEALTH_WRITTEN, id), "health written back")
    }
}
