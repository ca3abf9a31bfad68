//! An optional per-call hook for distributed tracing: the caller opens one span per attempt and
//! gives back the headers that carry it to the service (`traceparent`, `tracestate`), as the
//! official pipeline's tracing policy does. Calls without one pay nothing.

use crate::error::SentRequest;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The headers an [`AttemptTracer`] gives for an attempt, as `(name, value)`.
pub type TraceHeaders = Pin<Box<dyn Future<Output = Vec<(String, String)>> + Send + 'static>>;

/// An attempt about to be sent (its `Authorization` is not yet in `headers`).
#[derive(Debug, Clone, Copy)]
pub struct AttemptStart<'a> {
  pub method: &'static str,
  /// The URL as it will be sent (after a reverse proxy's host).
  pub url: &'a str,
  /// The request's other headers (`User-Agent`, `x-ms-client-request-id`, custom headers).
  pub headers: &'a HeaderMap,
}

/// How an attempt that will be retried ended.
#[derive(Debug, Clone, Copy)]
pub enum AttemptEnd<'a> {
  /// An answer whose status is retried (408, 429, 5xx).
  Answer { status: u16, headers: &'a HeaderMap },
  /// No answer: a transport failure with Node's error code.
  Failed {
    code: &'a str,
    message: &'a str,
    request: Option<&'a SentRequest>,
  },
}

/// Told about the attempts of one call. The last attempt's end is the call's result (its answer
/// or error); a call that ends while an attempt is open (cancelled, timed out, refused
/// as insecure) leaves that attempt for the caller to close with the call's error.
pub trait AttemptTracer: Send + Sync {
  /// Opens an attempt's span; resolves to the headers that carry it, which replace any of the
  /// same name (pairs that are not valid headers are left out). Called on the client's async
  /// task: it must not block.
  fn start(&self, attempt: AttemptStart<'_>) -> TraceHeaders;
  /// The attempt opened last ended and will be retried.
  fn retrying(&self, ended: AttemptEnd<'_>);
}

/// The tracer a [`crate::CallOptions`] carries.
#[derive(Clone)]
pub struct Tracer(Arc<dyn AttemptTracer>);

impl Tracer {
  pub fn new(tracer: impl AttemptTracer + 'static) -> Self {
    Self(Arc::new(tracer))
  }

  pub(crate) async fn start(&self, attempt: AttemptStart<'_>, headers: &mut HeaderMap) {
    for (name, value) in self.0.start(attempt).await {
      if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(&value),
      ) {
        headers.insert(name, value);
      }
    }
  }

  pub(crate) fn retrying(&self, ended: AttemptEnd<'_>) {
    self.0.retrying(ended);
  }
}

impl fmt::Debug for Tracer {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("Tracer")
  }
}
