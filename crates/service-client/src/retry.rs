//! Retry rules of core-rest-pipeline's default retry policy (`@typespec/ts-http-runtime`):
//!
//! 1. Throttling: a 429 or 503 answer with `retry-after-ms`, `x-ms-retry-after-ms` (ms) or
//!    `Retry-After` (seconds, or an HTTP date) is retried after that long.
//! 2. Exponential: other answers with status 408 or ≥ 500 except 501 and 505, and the transport
//!    errors `ETIMEDOUT`, `ESOCKETTIMEDOUT`, `ECONNREFUSED`, `ECONNRESET`, `ENOENT`, `ENOTFOUND`
//!    are retried after `clamp/2 + randomInt(0, clamp/2)` ms, where
//!    `clamp = min(max_retry_delay_ms, retry_delay_ms * 2^attempt)`.
//! 3. Anything else ends the call. After `max_retries` retries the last outcome is final.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// Retry settings (the SDK's `retryOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOptions {
  /// Retries after the first attempt (default 3).
  pub max_retries: u32,
  /// Base of the exponential back-off in ms (default 1000).
  pub retry_delay_ms: u64,
  /// Upper bound of the exponential back-off in ms (default 64000).
  pub max_retry_delay_ms: u64,
}

impl Default for RetryOptions {
  fn default() -> Self {
    Self {
      max_retries: 3,
      retry_delay_ms: 1000,
      max_retry_delay_ms: 64_000,
    }
  }
}

/// Transport error codes the exponential strategy retries.
const RETRIED_TRANSPORT_CODES: &[&str] = &[
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "ENOTFOUND",
];

/// What an attempt produced, as far as retrying is concerned.
pub(crate) enum Outcome<'a> {
  /// An HTTP answer.
  Answer { status: u16, headers: &'a HeaderMap },
  /// A transport failure with its Node error code.
  Transport { code: &'a str },
}

/// How long to wait before retry number `attempt + 1`, or `None` when the outcome is final.
/// `attempt` counts from 0 (the first try).
pub(crate) fn retry_delay(
  options: &RetryOptions,
  attempt: u32,
  outcome: &Outcome<'_>,
  now: SystemTime,
) -> Option<Duration> {
  if attempt >= options.max_retries {
    return None;
  }
  match outcome {
    Outcome::Answer { status, headers } => {
      if let Some(ms) = throttling_delay_ms(*status, headers, now) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
      }
      let exponential = (*status >= 500 || *status == 408) && *status != 501 && *status != 505;
      exponential.then(|| exponential_delay(options, attempt, rand::random::<f64>()))
    }
    Outcome::Transport { code } => RETRIED_TRANSPORT_CODES
      .contains(code)
      .then(|| exponential_delay(options, attempt, rand::random::<f64>())),
  }
}

/// The throttling delay in ms, when the answer asks for one (finite values only).
fn throttling_delay_ms(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<f64> {
  if status != 429 && status != 503 {
    return None;
  }
  const HEADERS: [(&str, f64); 3] = [
    ("retry-after-ms", 1.0),
    ("x-ms-retry-after-ms", 1.0),
    ("retry-after", 1000.0),
  ];
  for (name, factor) in HEADERS {
    let value = headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(number) = value.filter(|v| !v.is_empty()).and_then(js_number) {
      let ms = number * factor;
      return ms.is_finite().then_some(ms);
    }
  }
  let date = headers.get("retry-after")?.to_str().ok()?;
  let at = httpdate::parse_http_date(date.trim()).ok()?;
  Some(match at.duration_since(now) {
    Ok(ahead) => ahead.as_secs_f64() * 1000.0,
    Err(_) => 0.0,
  })
}

/// `clamp/2 + randomInt(0, floor(clamp/2))` with `clamp = min(max, base * 2^attempt)`;
/// `unit_random` is in `[0, 1)`, as `Math.random()`.
pub(crate) fn exponential_delay(
  options: &RetryOptions,
  attempt: u32,
  unit_random: f64,
) -> Duration {
  let exponential = options.retry_delay_ms as f64 * 2f64.powi(attempt.min(1023) as i32);
  let clamped = (options.max_retry_delay_ms as f64).min(exponential);
  let half = clamped / 2.0;
  let jitter = (unit_random * (half.floor() + 1.0)).floor();
  Duration::from_secs_f64((half + jitter) / 1000.0)
}

/// JavaScript's `Number(text)` for header values: surrounding whitespace is ignored, an empty
/// string is 0, `0x`/`0o`/`0b` prefixes and `Infinity` are understood; anything else that is
/// not a decimal literal is `None` (NaN).
fn js_number(text: &str) -> Option<f64> {
  let text = text.trim();
  if text.is_empty() {
    return Some(0.0);
  }
  let radix = match text.get(..2) {
    Some("0x" | "0X") => Some(16),
    Some("0o" | "0O") => Some(8),
    Some("0b" | "0B") => Some(2),
    _ => None,
  };
  if let Some(radix) = radix {
    return u64::from_str_radix(&text[2..], radix)
      .ok()
      .map(|v| v as f64);
  }
  let unsigned = text.trim_start_matches(['+', '-']);
  if unsigned == "Infinity" && text.len() - unsigned.len() <= 1 {
    return Some(if text.starts_with('-') {
      f64::NEG_INFINITY
    } else {
      f64::INFINITY
    });
  }
  let decimal_literal = unsigned
    .bytes()
    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
  if !decimal_literal || text.len() - unsigned.len() > 1 {
    return None;
  }
  text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
  use super::*;
  use reqwest::header::HeaderValue;

  fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
      map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
  }

  fn delay(status: u16, pairs: &[(&'static str, &str)]) -> Option<Duration> {
    let h = headers(pairs);
    retry_delay(
      &RetryOptions::default(),
      0,
      &Outcome::Answer {
        status,
        headers: &h,
      },
      SystemTime::now(),
    )
  }

  #[test]
  fn exponential_delay_bounds() {
    let options = RetryOptions {
      max_retries: 3,
      retry_delay_ms: 700,
      max_retry_delay_ms: 64_000,
    };
    // Observed with the SDK: 554, 1078, 1677 ms for 700 ms base, within these ranges.
    assert_eq!(
      exponential_delay(&options, 0, 0.0),
      Duration::from_millis(350)
    );
    assert_eq!(
      exponential_delay(&options, 0, 0.999_999),
      Duration::from_millis(700)
    );
    assert_eq!(
      exponential_delay(&options, 1, 0.0),
      Duration::from_millis(700)
    );
    assert_eq!(
      exponential_delay(&options, 2, 0.999_999),
      Duration::from_millis(2800)
    );
    let capped = RetryOptions {
      max_retry_delay_ms: 1000,
      ..options
    };
    assert_eq!(
      exponential_delay(&capped, 10, 0.0),
      Duration::from_millis(500)
    );
    assert_eq!(
      exponential_delay(&capped, 40, 0.999_999),
      Duration::from_millis(1000)
    );
  }

  #[test]
  fn which_answers_are_retried() {
    for status in [408, 500, 502, 503, 504, 599] {
      assert!(delay(status, &[]).is_some(), "{status}");
    }
    for status in [200, 202, 204, 400, 401, 404, 409, 429, 501, 505] {
      assert_eq!(delay(status, &[]), None, "{status}");
    }
  }

  #[test]
  fn throttling_headers() {
    assert_eq!(
      delay(429, &[("retry-after", "2")]),
      Some(Duration::from_secs(2))
    );
    assert_eq!(
      delay(503, &[("retry-after", "1.5")]),
      Some(Duration::from_millis(1500))
    );
    assert_eq!(
      delay(429, &[("retry-after-ms", "250"), ("retry-after", "9")]),
      Some(Duration::from_millis(250))
    );
    assert_eq!(
      delay(429, &[("x-ms-retry-after-ms", "40")]),
      Some(Duration::from_millis(40))
    );
    assert_eq!(delay(429, &[("retry-after", "-3")]), Some(Duration::ZERO));
    assert_eq!(delay(429, &[("retry-after", " ")]), Some(Duration::ZERO));
    // Retry-After on other statuses is ignored: 500 still backs off exponentially (>= 500 ms).
    assert!(delay(500, &[("retry-after", "30")]).unwrap() <= Duration::from_millis(1000));
    // A non-numeric, non-date value leaves 429 final.
    assert_eq!(delay(429, &[("retry-after", "soon")]), None);
  }

  #[test]
  fn retry_after_http_date() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:10 GMT")]);
    let outcome = Outcome::Answer {
      status: 503,
      headers: &h,
    };
    assert_eq!(
      retry_delay(&RetryOptions::default(), 0, &outcome, now),
      Some(Duration::from_secs(10))
    );
    let later = now + Duration::from_secs(60);
    assert_eq!(
      retry_delay(&RetryOptions::default(), 0, &outcome, later),
      Some(Duration::ZERO)
    );
  }

  #[test]
  fn transport_codes_and_max_retries() {
    let options = RetryOptions::default();
    let now = SystemTime::now();
    let refused = Outcome::Transport {
      code: "ECONNREFUSED",
    };
    assert!(retry_delay(&options, 0, &refused, now).is_some());
    assert!(retry_delay(&options, 2, &refused, now).is_some());
    assert_eq!(retry_delay(&options, 3, &refused, now), None);
    let tls = Outcome::Transport {
      code: "DEPTH_ZERO_SELF_SIGNED_CERT",
    };
    assert_eq!(retry_delay(&options, 0, &tls, now), None);
  }

  #[test]
  fn js_number_semantics() {
    assert_eq!(js_number(" 5 "), Some(5.0));
    assert_eq!(js_number("1e3"), Some(1000.0));
    assert_eq!(js_number("0x10"), Some(16.0));
    assert_eq!(js_number(".5"), Some(0.5));
    assert_eq!(js_number("-Infinity"), Some(f64::NEG_INFINITY));
    assert_eq!(js_number("inf"), None);
    assert_eq!(js_number("NaN"), None);
    assert_eq!(js_number("5s"), None);
    assert_eq!(js_number("--5"), None);
  }
}
