//! `CancelHandle`: JS calls `cancel()` from an AbortSignal listener; the request it was given to stops.

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

/// Cancels the native request it was passed to. Cancelling twice, or after the request ended, is harmless.
#[napi]
pub struct CancelHandle {
  token: CancellationToken,
}

#[napi]
impl CancelHandle {
  #[napi(constructor)]
  #[allow(clippy::new_without_default)]
  pub fn new() -> Self {
    Self {
      token: CancellationToken::new(),
    }
  }

  /// Stops the request this handle was given to; it then resolves with a `cancelled` failure.
  #[napi]
  pub fn cancel(&self) {
    self.token.cancel();
  }
}

impl CancelHandle {
  pub(crate) fn token(&self) -> CancellationToken {
    self.token.clone()
  }
}
