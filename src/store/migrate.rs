//! Schema versions and the migrations between them.

use super::{keys, StoreError};

/// The schema this binary writes.
pub const CURRENT: u32 = 6;

/// One step: upgrades a tree from version `from` to `from + 1`.
type Step = fn(&sled::Tree) -> Result<(), StoreError>;

/// Steps indexed by the version they upgrade from.
const STEPS: &[(u32, Step)] = &[
    (1, outbox_watch_states),
    (2, mark_own_accounts),
    (3, bad_rating_follow_ups),
    (4, history_as_runs),
    (5, recent_input_days),
];

/// v2 appends two outbox states (`Watching`, `Settled`). Postcard numbers
/// variants in order, so every v1 entry reads as it is: nothing to rewrite.
/// The bump is what keeps an older cockpit from misreading the new states.
fn outbox_watch_states(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v4 appends a follow-up kind (`BadRating`) and adds survey answers and
/// ticket ratings under keys of their own (`sr`, `tr`). Postcard numbers
/// variants in order, so every v3 record reads as it is: nothing to
/// rewrite. The bump keeps an older cockpit from misreading the new kind.
fn bad_rating_follow_ups(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v5 writes a year of daily inputs as runs and scores compact (see
/// `series`). Pages written before read as they are and are rewritten in
/// the new layout when next touched: nothing to rewrite now. The bump keeps
/// an older cockpit from reading the new pages as empty years, and its daily
/// pass from overwriting a year's inputs with one day.
fn history_as_runs(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v6 writes the day the daily pass adds to a page of inputs in a page of
/// recent days (`hn`, see `pages`), read over the year's page. Year pages
/// written before read as they are: nothing to rewrite. The bump keeps an
/// older cockpit from showing and rescoring years without their last days.
fn recent_input_days(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v3 marks the accounts a support organization has of its own (`xs`):
/// before, an organization that matched no CRM account became an account
/// with nothing to say so. Such an account is one an organization links
/// to and no CRM source knows (its only source ids are `org/` ones). Where
/// several organizations share one, the lowest id owns it; the others move
/// off at the next sync.
fn mark_own_accounts(tree: &sled::Tree) -> Result<(), StoreError> {
    use std::collections::BTreeMap;
    let mut owner: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    // A seek per source, then its `org/` links only.
    for source in super::sources_under(tree, keys::EXTERNAL)? {
        let prefix = keys::external(&source, "org/");
        for kv in tree.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let org = std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|o| o.parse().ok());
            let (Some(org), Ok(acc)) = (org, <[u8; 8]>::try_from(v.as_ref())) else { continue };
            let acc = u64::from_be_bytes(acc);
            if owner.get(&acc).is_none_or(|(_, o)| org < *o) {
                owner.insert(acc, (source.clone(), org));
            }
        }
    }
    // Workspaces from before the reverse id map (`xr`) say which source
    // knows an account only in the forward map: a CRM company there is a
    // numeric id pointing at the account.
    let mut without_xr = false;
    for acc in owner.keys() {
        let id = crate::domain::AccountId(*acc);
        without_xr |= tree.scan_prefix(keys::with_id(keys::EXTERNAL_OF, id)).next().is_none();
    }
    let mut companies = std::collections::BTreeSet::new();
    if without_xr {
        for kv in tree.scan_prefix(keys::EXTERNAL) {
            let (k, v) = kv?;
            let Some(nul) = k.iter().position(|b| *b == 0) else { continue };
            let ext = &k[nul + 1..];
            if !ext.is_empty() && ext.iter().all(u8::is_ascii_digit) {
                if let Ok(acc) = <[u8; 8]>::try_from(v.as_ref()) {
                    companies.insert(u64::from_be_bytes(acc));
                }
            }
        }
    }
    let mut marked = 0;
    for (acc, (source, org)) in owner {
        let id = crate::domain::AccountId(acc);
        let mark_key = keys::with_id(keys::SUPPORT_ONLY, id);
        if tree.contains_key(&mark_key)? || !tree.contains_key(keys::with_id(keys::ACCOUNT, id))? {
            continue;
        }
        let crm = companies.contains(&acc)
            || tree
                .scan_prefix(keys::with_id(keys::EXTERNAL_OF, id))
                .values()
                .any(|v| v.is_ok_and(|v| !v.starts_with(b"org/")));
        if crm {
            continue;
        }
        let mark = crate::domain::SupportOnly { source, org, link: crate::domain::OrgLink::Unmatched };
        tree.insert(mark_key, super::codec::encode(&mark))?;
        marked += 1;
    }
    tracing::info!(marked, "accounts of their own marked");
    Ok(())
}

/// Reads the schema version, initialises a new store, refuses a newer one,
/// and runs the steps that bring an older one up to date. `existing` says
/// the database was already on disk: then a missing version means sled
/// could not read the data back, and starting afresh would hide the loss.
pub fn run(tree: &sled::Tree, existing: bool) -> Result<u32, StoreError> {
    let found = match tree.get(keys::SCHEMA)? {
        Some(v) => {
            let bytes: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Decode {
                what: "schema version".into(),
                detail: format!("{} bytes, expected 4", v.len()),
            })?;
            u32::from_be_bytes(bytes)
        }
        None if existing => {
            return Err(StoreError::Corrupt {
                path: Default::default(),
                detail: "its records could not be read back".into(),
            })
        }
        None => {
            tree.insert(keys::SCHEMA, &CURRENT.to_be_bytes())?;
            return Ok(CURRENT);
        }
    };
    if found > CURRENT {
        return Err(StoreError::NewerSchema { found, supported: CURRENT });
    }
    let mut version = found;
    while version < CURRENT {
        let step = STEPS
            .iter()
            .find(|(from, _)| *from == version)
            .map(|(_, s)| *s)
            .ok_or(StoreError::NoMigration { from: version })?;
        step(tree)?;
        version += 1;
        tree.insert(keys::SCHEMA, &version.to_be_bytes())?;
        tracing::info!(version, "migrated workspace schema");
    }
    Ok(version)
}
