//! Merchant metadata: a small string → string map stored with the session and echoed back.

use std::collections::BTreeMap;

use super::Invalid;

const MAX_KEYS: usize = 20;
const MAX_KEY_CHARS: usize = 40;
const MAX_VALUE_CHARS: usize = 500;

/// Up to 20 keys of ≤ 40 characters with values of ≤ 500 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    /// Checks the limits.
    ///
    /// # Errors
    /// [`Invalid`] naming `metadata` or `metadata.<key>`.
    pub fn new(map: BTreeMap<String, String>) -> Result<Self, Invalid> {
        if map.len() > MAX_KEYS {
            return Err(Invalid::value(
                "metadata",
                format!("may have at most {MAX_KEYS} keys."),
            ));
        }
        for (k, v) in &map {
            if k.is_empty() || k.chars().count() > MAX_KEY_CHARS {
                return Err(Invalid::value(
                    "metadata",
                    format!("keys must be 1 to {MAX_KEY_CHARS} characters."),
                ));
            }
            if v.chars().count() > MAX_VALUE_CHARS {
                return Err(Invalid::value(
                    format!("metadata.{k}"),
                    format!("must be at most {MAX_VALUE_CHARS} characters."),
                ));
            }
        }
        Ok(Self(map))
    }

    /// The entries.
    #[must_use]
    pub const fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_offending_key() {
        let long = BTreeMap::from([("note".to_owned(), "x".repeat(501))]);
        assert_eq!(
            Metadata::new(long).err().map(|e| e.param),
            Some("metadata.note".to_owned())
        );
        let many: BTreeMap<_, _> = (0..21).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(Metadata::new(many).is_err());
        assert!(Metadata::new(BTreeMap::from([("order".to_owned(), "42".to_owned())])).is_ok());
    }
}
