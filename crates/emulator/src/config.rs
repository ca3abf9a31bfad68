//! Emulator settings: listen address, access key and compatibility switches.

use std::fmt;

use crate::events::EventHandlerSettings;
use crate::tls::TlsIdentity;

/// The official emulator's public, deterministic default key.
pub const DEFAULT_ACCESS_KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

pub const DEFAULT_HOST: &str = "127.0.0.1";

pub const DEFAULT_PORT: u16 = 8080;

/// Default of [`EmulatorConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;

/// How long a write to a client may wait, by default (see [`EmulatorConfig::write_timeout`]).
pub const DEFAULT_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why an access key was refused. Never carries the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessKeyError {
  #[error("the access key must be at least 32 bytes long")]
  TooShort,
  #[error("the access key must not start or end with whitespace")]
  SurroundingWhitespace,
  #[error("the access key must not contain ';'")]
  Semicolon,
  #[error("the access key must not contain control characters")]
  ControlCharacter,
}

/// Checks the emulator's access-key rules: at least 32 UTF-8 bytes, no surrounding whitespace,
/// no `;` (it would break the connection string), no control characters.
pub fn validate_access_key(key: &str) -> Result<(), AccessKeyError> {
  if key.len() < 32 {
    return Err(AccessKeyError::TooShort);
  }
  if key.trim() != key {
    return Err(AccessKeyError::SurroundingWhitespace);
  }
  if key.contains(';') {
    return Err(AccessKeyError::Semicolon);
  }
  if key.chars().any(char::is_control) {
    return Err(AccessKeyError::ControlCharacter);
  }
  Ok(())
}

/// How an emulator is set up.
#[derive(Clone)]
pub struct EmulatorConfig {
  /// Host to bind: an IP address or `localhost` (binds 127.0.0.1 and, when available, [::1]).
  pub host: String,
  /// Port to bind; 0 picks a free port.
  pub port: u16,
  /// Key that signs REST and client tokens; see [`validate_access_key`].
  pub access_key: String,
  /// Accepts any JWT whose audience contains `https://webpubsub.azure.com`, checking only its
  /// lifetime (for server SDKs using a TokenCredential). Off by default.
  pub allow_unvalidated_entra_tokens: bool,
  /// Per-hub event handlers that receive client events as CloudEvents.
  pub event_handlers: EventHandlerSettings,
  /// Serve HTTPS and WSS with this certificate instead of plain HTTP and WS.
  pub tls: Option<TlsIdentity>,
  /// Live-trace records kept for viewers that attach later.
  pub trace_capacity: usize,
  /// Payload bytes that may wait in one connection's outbound queue; past it the connection is
  /// closed as a slow client.
  pub max_queued_bytes: usize,
  /// How long one write to a client may wait for the client to read; past it the connection is
  /// closed as a slow client.
  pub write_timeout: std::time::Duration,
  /// TCP connections served at once by each listener (WebSocket clients and HTTP requests alike);
  /// past it the oldest connection that has not sent a byte is closed, or the new one refused.
  pub max_connections: usize,
}

impl Default for EmulatorConfig {
  fn default() -> Self {
    EmulatorConfig {
      host: DEFAULT_HOST.to_owned(),
      port: DEFAULT_PORT,
      access_key: DEFAULT_ACCESS_KEY.to_owned(),
      allow_unvalidated_entra_tokens: false,
      event_handlers: EventHandlerSettings::default(),
      tls: None,
      trace_capacity: crate::trace::DEFAULT_CAPACITY,
      max_queued_bytes: crate::state::DEFAULT_MAX_QUEUED_BYTES,
      write_timeout: DEFAULT_WRITE_TIMEOUT,
      max_connections: DEFAULT_MAX_CONNECTIONS,
    }
  }
}

impl EmulatorConfig {
  pub fn validate(&self) -> Result<(), AccessKeyError> {
    validate_access_key(&self.access_key)
  }
}

impl fmt::Debug for EmulatorConfig {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("EmulatorConfig")
      .field("host", &self.host)
      .field("port", &self.port)
      .field("access_key", &"<redacted>")
      .field(
        "allow_unvalidated_entra_tokens",
        &self.allow_unvalidated_entra_tokens,
      )
      .field("event_handlers", &self.event_handlers)
      .field("tls", &self.tls)
      .field("trace_capacity", &self.trace_capacity)
      .field("max_queued_bytes", &self.max_queued_bytes)
      .field("write_timeout", &self.write_timeout)
      .field("max_connections", &self.max_connections)
      .finish()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn default_key_is_valid() {
    assert_eq!(validate_access_key(DEFAULT_ACCESS_KEY), Ok(()));
  }

  #[test]
  fn rejects_bad_keys() {
    let long = "A".repeat(32);
    assert_eq!(validate_access_key("short"), Err(AccessKeyError::TooShort));
    assert_eq!(
      validate_access_key(&format!(" {long}")),
      Err(AccessKeyError::SurroundingWhitespace)
    );
    assert_eq!(
      validate_access_key(&format!("{long};")),
      Err(AccessKeyError::Semicolon)
    );
    assert_eq!(
      validate_access_key(&format!("{long}\u{7}x")),
      Err(AccessKeyError::ControlCharacter)
    );
  }

  #[test]
  fn debug_hides_the_key() {
    let text = format!("{:?}", EmulatorConfig::default());
    assert!(!text.contains(DEFAULT_ACCESS_KEY));
  }
}
