//! Tracing: the service client's per-attempt span hook handed to a JS callback (`lib/tracing.js`
//! opens and ends the spans through `@azure/core-tracing`), made for the calls of a recording span.

use std::sync::Arc;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use webpubsub_service_client::{AttemptEnd, AttemptStart, AttemptTracer, TraceHeaders};

use crate::convert::{self, NativeResponse};

/// `start` (an attempt about to be sent: method, url, userAgent, requestId; the callback returns
/// the headers to add as `[name, value, ...]`) or `retrying` (the open attempt ended and will be
/// retried: `ended` is its answer or failure).
#[napi(object)]
pub struct NativeAttemptTrace {
  pub kind: String,
  pub method: Option<String>,
  pub url: Option<String>,
  pub user_agent: Option<String>,
  pub request_id: Option<String>,
  pub ended: Option<NativeResponse>,
}

/// The JS callback of one call. Weak: the call in flight keeps Node alive, not the callback.
pub(crate) type AttemptTraceFn = ThreadsafeFunction<
  NativeAttemptTrace,
  Option<Vec<String>>,
  NativeAttemptTrace,
  Status,
  false,
  true,
>;

pub(crate) struct JsAttemptTrace {
  callback: Arc<AttemptTraceFn>,
}

impl JsAttemptTrace {
  pub(crate) fn new(callback: AttemptTraceFn) -> Self {
    Self {
      callback: Arc::new(callback),
    }
  }
}

const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

impl AttemptTracer for JsAttemptTrace {
  fn start(&self, attempt: AttemptStart<'_>) -> TraceHeaders {
    let header = |name| {
      attempt
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
    };
    let event = NativeAttemptTrace {
      kind: "start".to_owned(),
      method: Some(attempt.method.to_owned()),
      url: Some(attempt.url.to_owned()),
      user_agent: header("user-agent"),
      request_id: header(CLIENT_REQUEST_ID),
      ended: None,
    };
    let callback = Arc::clone(&self.callback);
    Box::pin(async move {
      // A closing environment (or a throw, which lib/tracing.js never lets out) sends no headers,
      // as the official policy sends none when it cannot make a span.
      let flat = callback.call_async_catch(event).await.ok().flatten();
      flat.map(header_pairs).unwrap_or_default()
    })
  }

  fn retrying(&self, ended: AttemptEnd<'_>) {
    let event = NativeAttemptTrace {
      kind: "retrying".to_owned(),
      method: None,
      url: None,
      user_agent: None,
      request_id: None,
      ended: Some(convert::attempt_end_record(ended)),
    };
    // Queued behind this call's `start`, so JS ends the span it opened; a closing environment
    // only loses the span.
    let _ = self
      .callback
      .call(event, ThreadsafeFunctionCallMode::NonBlocking);
  }
}

/// `[name, value, ...]` as pairs.
fn header_pairs(flat: Vec<String>) -> Vec<(String, String)> {
  let mut pairs = Vec::with_capacity(flat.len() / 2);
  let mut items = flat.into_iter();
  while let (Some(name), Some(value)) = (items.next(), items.next()) {
    pairs.push((name, value));
  }
  pairs
}
