//! Abuse-protection validation (CloudEvents webhook spec §4): before the first event to a handler URL
//! the emulator asks the handler, with `OPTIONS` and `WebHook-Request-Origin`, whether it accepts
//! events from this origin. Results are cached per URL and origin: success for a minute, failure
//! with a backoff growing from 1 s to 1 min; an event waits for a pending validation only when no
//! earlier result is known.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use super::cloudevents::{AWPS_VERSION, REQUEST_ORIGIN_HEADER};

/// Bound of one validation request.
pub const VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a successful validation is trusted.
const VALID_FOR: Duration = Duration::from_secs(60);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const ALLOWED_ORIGIN_HEADER: &str = "WebHook-Allowed-Origin";

/// Why a handler URL failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
  #[error("the validation request was answered with HTTP {0}")]
  Status(u16),
  #[error("the handler does not allow origin '{0}' (WebHook-Allowed-Origin)")]
  OriginNotAllowed(String),
  #[error("the validation request failed: {0}")]
  Transport(String),
  #[error("the validation request timed out")]
  Timeout,
}

enum Entry {
  Valid {
    until: Instant,
  },
  Invalid {
    until: Instant,
    backoff: Duration,
    error: ValidationError,
  },
}

/// Validation results per (URL, origin).
#[derive(Default)]
pub struct ValidationCache {
  entries: Mutex<HashMap<(String, String), Entry>>,
}

impl ValidationCache {
  /// Succeeds when `url` (the template with `{event}` = `validate`) accepts `origin`.
  pub async fn ensure(
    &self,
    http: &reqwest::Client,
    url: &str,
    origin: &str,
  ) -> Result<(), ValidationError> {
    let key = (url.to_owned(), origin.to_owned());
    let now = Instant::now();
    let previous_backoff = match self.entries.lock().unwrap().get(&key) {
      Some(Entry::Valid { until }) if *until > now => return Ok(()),
      Some(Entry::Invalid { until, error, .. }) if *until > now => return Err(error.clone()),
      Some(Entry::Invalid { backoff, .. }) => Some(*backoff),
      _ => None,
    };
    let result = validate(http, url, origin).await;
    let entry = match &result {
      Ok(()) => Entry::Valid {
        until: Instant::now() + VALID_FOR,
      },
      Err(error) => {
        let backoff = previous_backoff.map_or(FIRST_BACKOFF, |b| (b * 2).min(MAX_BACKOFF));
        Entry::Invalid {
          until: Instant::now() + backoff,
          backoff,
          error: error.clone(),
        }
      }
    };
    self.entries.lock().unwrap().insert(key, entry);
    result
  }
}

async fn validate(http: &reqwest::Client, url: &str, origin: &str) -> Result<(), ValidationError> {
  let mut response = request(http, Method::OPTIONS, url, origin).await?;
  if response.status() == StatusCode::NOT_FOUND {
    response = request(http, Method::GET, url, origin).await?;
  }
  if !response.status().is_success() {
    return Err(ValidationError::Status(response.status().as_u16()));
  }
  let allowed = response
    .headers()
    .get_all(ALLOWED_ORIGIN_HEADER)
    .iter()
    .filter_map(|value| value.to_str().ok())
    .any(|value| is_allowed(value, origin));
  if allowed {
    Ok(())
  } else {
    Err(ValidationError::OriginNotAllowed(origin.to_owned()))
  }
}

/// `*` or the origin itself, ignoring case; a comma-joined value is one value.
fn is_allowed(value: &str, origin: &str) -> bool {
  let value = value.trim();
  value == "*" || value.eq_ignore_ascii_case(origin)
}

async fn request(
  http: &reqwest::Client,
  method: Method,
  url: &str,
  origin: &str,
) -> Result<reqwest::Response, ValidationError> {
  http
    .request(method, url)
    .header(REQUEST_ORIGIN_HEADER, origin)
    .header("ce-awpsversion", AWPS_VERSION)
    .timeout(VALIDATION_TIMEOUT)
    .send()
    .await
    .map_err(|error| {
      if error.is_timeout() {
        ValidationError::Timeout
      } else {
        ValidationError::Transport(super::dispatcher::describe(&error))
      }
    })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn allowed_origins() {
    assert!(is_allowed("*", "localhost:8080"));
    assert!(is_allowed("LocalHost:8080", "localhost:8080"));
    assert!(!is_allowed("example.com", "localhost:8080"));
    assert!(!is_allowed("example.com, localhost:8080", "localhost:8080"));
  }
}
