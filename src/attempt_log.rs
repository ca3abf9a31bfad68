//! Request/response logging: the service client's per-attempt events handed to a JS callback
//! (`lib/logging.js` formats and writes them). Sensitive header values never leave Rust.

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use webpubsub_service_client::{AttemptEvent, AttemptObserver};

/// What replaces a sensitive header value (`Authorization`) before it reaches JS.
const REDACTED: &str = "REDACTED";

/// One attempt event: `request` (method, url, headers) or `response` (status, headers).
#[napi(object)]
pub struct NativeAttemptEvent {
  pub kind: String,
  pub method: Option<String>,
  pub url: Option<String>,
  pub status: Option<u32>,
  /// `[name, value, ...]`, names in lower case, sensitive values replaced by `REDACTED`.
  pub headers: Vec<String>,
}

/// The JS callback. Weak, so a client with logging on still lets Node exit.
pub(crate) type AttemptFn =
  ThreadsafeFunction<NativeAttemptEvent, (), NativeAttemptEvent, Status, false, true>;

/// Forwards attempt events to JS without waiting for it.
pub(crate) struct JsAttemptLog {
  callback: AttemptFn,
}

impl JsAttemptLog {
  pub(crate) fn new(callback: AttemptFn) -> Self {
    Self { callback }
  }
}

fn flat_headers(event: &AttemptEvent<'_>) -> Vec<String> {
  let mut flat = Vec::new();
  for (name, value) in event.headers() {
    flat.push(name.to_owned());
    flat.push(value.unwrap_or(REDACTED).to_owned());
  }
  flat
}

impl AttemptObserver for JsAttemptLog {
  fn observe(&self, event: AttemptEvent<'_>) {
    let headers = flat_headers(&event);
    let record = match event {
      AttemptEvent::Request { method, url, .. } => NativeAttemptEvent {
        kind: "request".to_owned(),
        method: Some(method.to_owned()),
        url: Some(url.to_owned()),
        status: None,
        headers,
      },
      AttemptEvent::Response { status, .. } => NativeAttemptEvent {
        kind: "response".to_owned(),
        method: None,
        url: None,
        status: Some(u32::from(status)),
        headers,
      },
    };
    // A full queue or a closing environment only loses a log line.
    let _ = self
      .callback
      .call(record, ThreadsafeFunctionCallMode::NonBlocking);
  }
}
