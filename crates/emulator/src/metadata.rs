//! Per-message metadata (`X-WebPubSub-Metadata-<key>` REST headers and the `metadata` of client messages):
//! the rules both sources share (official emulator): keys are ASCII HTTP token characters of at most
//! 256 bytes, lower-cased; values ASCII of at most 1024 bytes; at most 8 KiB of keys and values in all.

const MAX_KEY_BYTES: usize = 256;
const MAX_VALUE_BYTES: usize = 1024;
const MAX_TOTAL_BYTES: usize = 8 * 1024;

/// Why metadata was refused; the text is the REST answer's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
  #[error("Invalid metadata key '{0}'.")]
  InvalidKey(String),
  #[error("The value of metadata '{0}' must be ASCII.")]
  NonAsciiValue(String),
  #[error("The value of metadata '{0}' is longer than {MAX_VALUE_BYTES} bytes.")]
  ValueTooLong(String),
  #[error("The metadata key '{0}' appears more than once.")]
  DuplicateKey(String),
  #[error("The metadata is larger than {MAX_TOTAL_BYTES} bytes.")]
  TooLarge,
}

fn is_token_char(c: char) -> bool {
  c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Checks one entry; `key` must already be lower-cased.
pub fn check_entry(key: &str, value: &str) -> Result<(), MetadataError> {
  if key.is_empty() || key.len() > MAX_KEY_BYTES || !key.chars().all(is_token_char) {
    return Err(MetadataError::InvalidKey(key.to_owned()));
  }
  if !value.is_ascii() {
    return Err(MetadataError::NonAsciiValue(key.to_owned()));
  }
  if value.len() > MAX_VALUE_BYTES {
    return Err(MetadataError::ValueTooLong(key.to_owned()));
  }
  Ok(())
}

/// Checks the size of all entries together.
pub fn check_total(entries: &[(String, String)]) -> Result<(), MetadataError> {
  let total: usize = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
  if total > MAX_TOTAL_BYTES {
    return Err(MetadataError::TooLarge);
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn entries_and_totals_are_bounded() {
    assert_eq!(check_entry("trace-id", "abc"), Ok(()));
    assert_eq!(
      check_entry("bad key", "v"),
      Err(MetadataError::InvalidKey("bad key".into()))
    );
    assert_eq!(
      check_entry("", "v"),
      Err(MetadataError::InvalidKey(String::new()))
    );
    assert_eq!(
      check_entry("k", "é"),
      Err(MetadataError::NonAsciiValue("k".into()))
    );
    assert_eq!(
      check_entry("k", &"v".repeat(1025)),
      Err(MetadataError::ValueTooLong("k".into()))
    );
    assert!(check_entry(&"k".repeat(257), "v").is_err());
    let big: Vec<_> = (0..9)
      .map(|i| (format!("k{i}"), "v".repeat(1000)))
      .collect();
    assert_eq!(check_total(&big), Err(MetadataError::TooLarge));
    assert_eq!(check_total(&big[..8]), Ok(()));
  }
}
