//! `X-WebPubSub-Metadata-<key>` request headers: per-message metadata for subprotocol clients.
//!
//! Rules (official emulator): prefix matched case-insensitively, key lower-cased; a repeated
//! header or a comma list keeps the last value, trimmed; keys are HTTP token characters, ASCII;
//! key at most 256 bytes, value at most 1024 bytes, all metadata at most 8 KiB.

use axum::http::HeaderMap;

use crate::error::RestError;

const PREFIX: &str = "x-webpubsub-metadata-";
const MAX_KEY_BYTES: usize = 256;
const MAX_VALUE_BYTES: usize = 1024;
const MAX_TOTAL_BYTES: usize = 8 * 1024;

fn is_token_char(c: char) -> bool {
  c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn invalid(message: impl Into<String>) -> RestError {
  RestError::validation("metadata", message)
}

/// The metadata carried by the request headers, in first-seen key order.
pub fn from_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, RestError> {
  let mut metadata: Vec<(String, String)> = Vec::new();
  for (name, value) in headers {
    // Header names are already lower-case in `http`.
    let Some(key) = name.as_str().strip_prefix(PREFIX) else {
      continue;
    };
    if key.is_empty() || key.len() > MAX_KEY_BYTES || !key.chars().all(is_token_char) {
      return Err(invalid(format!("Invalid metadata key '{key}'.")));
    }
    let text = value
      .to_str()
      .map_err(|_| invalid(format!("The value of metadata '{key}' must be ASCII.")))?;
    let last = text.rsplit(',').next().unwrap_or_default().trim();
    if last.len() > MAX_VALUE_BYTES {
      return Err(invalid(format!(
        "The value of metadata '{key}' is longer than {MAX_VALUE_BYTES} bytes."
      )));
    }
    match metadata.iter_mut().find(|(existing, _)| existing == key) {
      Some(entry) => entry.1 = last.to_owned(),
      None => metadata.push((key.to_owned(), last.to_owned())),
    }
  }
  let total: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
  if total > MAX_TOTAL_BYTES {
    return Err(invalid(format!(
      "The metadata is larger than {MAX_TOTAL_BYTES} bytes."
    )));
  }
  Ok(metadata)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn last_value_wins_and_keys_are_lower_cased() {
    let mut headers = HeaderMap::new();
    headers.append("X-WebPubSub-Metadata-Trace", "a, b ".parse().unwrap());
    headers.append("x-webpubsub-metadata-trace", "c".parse().unwrap());
    headers.append("x-webpubsub-metadata-Other", "1".parse().unwrap());
    headers.append("content-type", "text/plain".parse().unwrap());
    let metadata = from_headers(&headers).unwrap();
    assert_eq!(
      metadata,
      vec![
        ("trace".to_owned(), "c".to_owned()),
        ("other".to_owned(), "1".to_owned())
      ]
    );
  }

  #[test]
  fn limits_are_enforced() {
    let mut headers = HeaderMap::new();
    headers.append("x-webpubsub-metadata-k", "v".repeat(1025).parse().unwrap());
    assert!(from_headers(&headers).is_err());
    let mut headers = HeaderMap::new();
    for i in 0..9 {
      headers.append(
        axum::http::HeaderName::try_from(format!("x-webpubsub-metadata-k{i}")).unwrap(),
        "v".repeat(1000).parse().unwrap(),
      );
    }
    assert!(from_headers(&headers).is_err());
  }
}
