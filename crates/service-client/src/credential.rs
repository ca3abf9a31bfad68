//! How requests are authorised: an access key (local HS256 signing) or a token provider
//! (Microsoft Entra ID bearer tokens, e.g. a JS `TokenCredential` called from Rust).

use futures_util::future::BoxFuture;
use std::sync::{Arc, RwLock};
use webpubsub_protocol::jwt::SigningKey;

/// The credential of a [`crate::ServiceClient`].
#[derive(Clone)]
pub enum Credential {
  /// Access key: every request carries a fresh JWT signed with it.
  Key(Arc<KeyCredential>),
  /// Token provider: requests carry its bearer token (scope `https://webpubsub.azure.com/.default`).
  Token(Arc<dyn TokenProvider>),
}

impl std::fmt::Debug for Credential {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self {
      Self::Key(_) => f.write_str("Credential::Key(<redacted>)"),
      Self::Token(_) => f.write_str("Credential::Token"),
    }
  }
}

/// An access key that can be rotated while the client is in use (`AzureKeyCredential.update`).
pub struct KeyCredential {
  current: RwLock<Arc<SigningKey>>,
}

impl KeyCredential {
  /// Wraps `access_key`.
  pub fn new(access_key: &str) -> Self {
    Self {
      current: RwLock::new(Arc::new(SigningKey::new(access_key))),
    }
  }

  /// Replaces the key; requests signed from now on use the new one.
  pub fn update(&self, access_key: &str) {
    let key = Arc::new(SigningKey::new(access_key));
    *self
      .current
      .write()
      .unwrap_or_else(|poisoned| poisoned.into_inner()) = key;
  }

  /// The key in force.
  pub fn signing_key(&self) -> Arc<SigningKey> {
    self
      .current
      .read()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
      .clone()
  }
}

/// A bearer token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
  /// The token text (sent as `Authorization: Bearer <token>`).
  pub token: String,
  /// Expiry, milliseconds since the Unix epoch (`expiresOnTimestamp`).
  pub expires_on_ms: u64,
  /// When to refresh early, milliseconds since the Unix epoch (`refreshAfterTimestamp`).
  pub refresh_after_ms: Option<u64>,
}

/// Supplies bearer tokens (the `TokenCredential.getToken` contract). The client caches the
/// token and calls this again only when it nears expiry; concurrent callers share one call.
pub trait TokenProvider: Send + Sync {
  /// Gets a token for `scopes`; an `Err` carries the message to report.
  fn get_token(&self, scopes: Vec<String>) -> BoxFuture<'static, Result<AccessToken, String>>;
}
