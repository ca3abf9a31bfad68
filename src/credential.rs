//! A JS `(scopes) => Promise<{ token, expiresOnMs, refreshAfterMs? }>` callback as the service
//! client's `TokenProvider`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use webpubsub_service_client::{AccessToken, TokenProvider};

/// An access token as the JS callback returns it.
#[napi(object)]
pub struct NativeAccessToken {
  /// The bearer token.
  pub token: String,
  /// When it expires, in milliseconds since the epoch (`expiresOnTimestamp`).
  pub expires_on_ms: f64,
  /// When to refresh it early, in milliseconds since the epoch (`refreshAfterTimestamp`).
  pub refresh_after_ms: Option<f64>,
}

/// The JS callback: the scopes in, a Promise back. Weak, so an idle client lets Node exit.
pub(crate) type GetTokenFn =
  ThreadsafeFunction<Vec<String>, Promise<NativeAccessToken>, Vec<String>, Status, false, true>;

/// Asks JS for tokens. The core caches them and asks again before they expire.
pub(crate) struct JsTokenProvider {
  get_token: Arc<GetTokenFn>,
}

impl JsTokenProvider {
  pub(crate) fn new(get_token: GetTokenFn) -> Self {
    Self {
      get_token: Arc::new(get_token),
    }
  }
}

impl TokenProvider for JsTokenProvider {
  fn get_token(
    &self,
    scopes: Vec<String>,
  ) -> Pin<Box<dyn Future<Output = Result<AccessToken, String>> + Send + 'static>> {
    let get_token = Arc::clone(&self.get_token);
    Box::pin(async move {
      // call_async_catch: a JS throw comes back as an Err, never as an uncaught exception.
      let promise = get_token
        .call_async_catch(scopes)
        .await
        .map_err(|e| e.reason.clone())?;
      let token = promise.await.map_err(|e| e.reason.clone())?;
      Ok(AccessToken {
        token: token.token,
        expires_on_ms: millis(token.expires_on_ms),
        refresh_after_ms: token.refresh_after_ms.map(millis),
      })
    })
  }
}

/// A JS timestamp as whole milliseconds; negative or NaN values count as 0 (already expired).
fn millis(value: f64) -> u64 {
  if value.is_finite() && value > 0.0 {
    value as u64
  } else {
    0
  }
}
