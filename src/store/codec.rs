//! Value encoding: compact postcard bytes. Postcard is not self-describing,
//! so any change to a stored type bumps the schema version (see `migrate`).

use serde::{de::DeserializeOwned, Serialize};

use super::StoreError;

/// Encodes a value for storage.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain data types into a Vec cannot fail.
    postcard::to_stdvec(value).expect("postcard encodes plain data")
}

/// Decodes a stored value; `what` names the record for the error message.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Decode { what: what.to_string(), detail: e.to_string() })
}
