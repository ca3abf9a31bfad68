//! `X-WebPubSub-Metadata-<key>` request headers: per-message metadata for subprotocol clients.
//!
//! The prefix is matched case-insensitively and the key lower-cased; a repeated header or a comma list
//! keeps the last value, trimmed. The entry rules are `crate::metadata`'s.

use axum::http::HeaderMap;

use crate::error::RestError;
use crate::metadata::{check_entry, check_total, MetadataError};

const PREFIX: &str = "x-webpubsub-metadata-";

fn invalid(error: MetadataError) -> RestError {
  RestError::validation("metadata", error.to_string())
}

/// The metadata carried by the request headers, in first-seen key order.
pub fn from_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, RestError> {
  let mut metadata: Vec<(String, String)> = Vec::new();
  for (name, value) in headers {
    // Header names are already lower-case in `http`.
    let Some(key) = name.as_str().strip_prefix(PREFIX) else {
      continue;
    };
    let text = value
      .to_str()
      .map_err(|_| invalid(MetadataError::NonAsciiValue(key.to_owned())))?;
    let last = text.rsplit(',').next().unwrap_or_default().trim();
    check_entry(key, last).map_err(invalid)?;
    match metadata.iter_mut().find(|(existing, _)| existing == key) {
      Some(entry) => entry.1 = last.to_owned(),
      None => metadata.push((key.to_owned(), last.to_owned())),
    }
  }
  check_total(&metadata).map_err(invalid)?;
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
