//! An optional per-attempt hook for request/response logging: told about each request as it is
//! sent and each answer as it arrives, retries included. Without one (or for a call that does not
//! ask for it) an attempt costs one branch.

use reqwest::header::HeaderMap;
use std::fmt;
use std::sync::Arc;

/// One step of one attempt.
#[derive(Debug, Clone, Copy)]
pub enum AttemptEvent<'a> {
  /// A request about to be sent. `Authorization` and other sensitive values are in `headers`
  /// marked [`reqwest::header::HeaderValue::is_sensitive`]; observers must not log them.
  Request {
    method: &'static str,
    url: &'a str,
    headers: &'a HeaderMap,
  },
  /// An answer (any status) to the last request.
  Response { status: u16, headers: &'a HeaderMap },
}

impl AttemptEvent<'_> {
  /// The headers as `(name, value)`, names in lower case; the value is `None` when it is
  /// sensitive (`Authorization`) or not text.
  pub fn headers(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
    let (Self::Request { headers, .. } | Self::Response { headers, .. }) = self;
    headers.iter().map(|(name, value)| {
      let text = (!value.is_sensitive())
        .then(|| value.to_str().ok())
        .flatten();
      (name.as_str(), text)
    })
  }
}

/// Receives [`AttemptEvent`]s; called on the client's async tasks, so it must not block.
pub trait AttemptObserver: Send + Sync {
  fn observe(&self, event: AttemptEvent<'_>);
}

/// The observer a [`crate::ClientConfig`] carries.
#[derive(Clone)]
pub struct Observer(Arc<dyn AttemptObserver>);

impl Observer {
  pub fn new(observer: impl AttemptObserver + 'static) -> Self {
    Self(Arc::new(observer))
  }

  pub(crate) fn observe(&self, event: AttemptEvent<'_>) {
    self.0.observe(event);
  }
}

impl fmt::Debug for Observer {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("Observer")
  }
}
