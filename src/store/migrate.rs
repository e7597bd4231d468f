//! Schema versions and the migrations between them.

use super::{keys, StoreError};

/// The schema this binary writes.
pub const CURRENT: u32 = 2;

/// One step: upgrades a tree from version `from` to `from + 1`.
type Step = fn(&sled::Tree) -> Result<(), StoreError>;

/// Steps indexed by the version they upgrade from.
const STEPS: &[(u32, Step)] = &[(1, outbox_watch_states)];

/// v2 appends two outbox states (`Watching`, `Settled`). Postcard numbers
/// variants in order, so every v1 entry reads as it is: nothing to rewrite.
/// The bump is what keeps an older cockpit from misreading the new states.
fn outbox_watch_states(_: &sled::Tree) -> Result<(), StoreError> {
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
