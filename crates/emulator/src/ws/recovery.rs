//! Recovery of reliable connections: reconnection tokens, and the registry through which a new transport
//! (`awps_connection_id` + `awps_reconnection_token`) finds the logical connection it resumes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::ws::socket::WebSocket;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use webpubsub_protocol::jwt::SigningKey;

/// How long a dropped reliable connection waits for its client to come back.
pub const RECOVERY_WINDOW: Duration = Duration::from_secs(30);

/// Lifetime of a reconnection token.
const TOKEN_LIFETIME_SECONDS: u64 = 7 * 24 * 60 * 60;

/// Issuer of reconnection tokens.
const TOKEN_ISSUER: &str = "https://webpubsub.azure.com";

/// Why a recovery attempt was refused; the new transport is accepted and closed with 1008.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
  #[error("The reconnection token is invalid.")]
  InvalidToken,
  #[error("The connection cannot be recovered.")]
  UnknownConnection,
}

/// A reconnection token for one connection: HS256 with the access key, `aud` = the connection id, a random
/// `jti`, valid for 7 days.
pub fn reconnection_token(key: &SigningKey, connection_id: &str, now_seconds: u64) -> String {
  let mut claims = Map::new();
  claims.insert("iss".into(), TOKEN_ISSUER.into());
  claims.insert("aud".into(), connection_id.into());
  claims.insert(
    "jti".into(),
    uuid::Uuid::new_v4().simple().to_string().into(),
  );
  claims.insert("iat".into(), now_seconds.into());
  claims.insert("exp".into(), (now_seconds + TOKEN_LIFETIME_SECONDS).into());
  key.sign_claims(&claims)
}

/// Checks a reconnection token for `connection_id`, without clock skew.
pub fn verify_reconnection_token(
  key: &SigningKey,
  token: &str,
  connection_id: &str,
  now_seconds: u64,
) -> Result<(), RecoveryError> {
  let claims = key
    .verify(token, now_seconds)
    .map_err(|_| RecoveryError::InvalidToken)?;
  let valid = claims.expires_at >= now_seconds
    && claims.audience.as_deref() == Some(connection_id)
    && claims.claims.get("iss").and_then(Value::as_str) == Some(TOKEN_ISSUER);
  if valid {
    Ok(())
  } else {
    Err(RecoveryError::InvalidToken)
  }
}

/// The reliable connections of one emulator, by connection id: each one's channel for new transports.
#[derive(Debug, Default)]
pub struct RecoverySessions {
  sessions: Mutex<HashMap<String, mpsc::Sender<Box<WebSocket>>>>,
}

impl RecoverySessions {
  /// Registers a logical connection; its task receives the transports of later recoveries.
  pub fn register(&self, connection_id: &str) -> mpsc::Receiver<Box<WebSocket>> {
    let (sender, receiver) = mpsc::channel(4);
    self
      .sessions
      .lock()
      .unwrap()
      .insert(connection_id.to_owned(), sender);
    receiver
  }

  pub fn unregister(&self, connection_id: &str) {
    self.sessions.lock().unwrap().remove(connection_id);
  }

  /// Hands a new transport to a registered connection, or gives it back when there is none.
  pub fn attach(&self, connection_id: &str, socket: Box<WebSocket>) -> Result<(), Box<WebSocket>> {
    let sender = self.sessions.lock().unwrap().get(connection_id).cloned();
    match sender {
      Some(sender) => sender.try_send(socket).map_err(|e| e.into_inner()),
      None => Err(socket),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const NOW: u64 = 1_800_000_000;

  fn key() -> SigningKey {
    SigningKey::new("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH")
  }

  #[test]
  fn token_round_trips_for_its_connection_only() {
    let token = reconnection_token(&key(), "c1", NOW);
    assert_eq!(
      verify_reconnection_token(&key(), &token, "c1", NOW + 60),
      Ok(())
    );
    assert_eq!(
      verify_reconnection_token(&key(), &token, "c2", NOW),
      Err(RecoveryError::InvalidToken)
    );
    let other_key = SigningKey::new("ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210ZYXWVU");
    assert_eq!(
      verify_reconnection_token(&other_key, &token, "c1", NOW),
      Err(RecoveryError::InvalidToken)
    );
  }

  #[test]
  fn token_expires_after_seven_days_without_skew() {
    let token = reconnection_token(&key(), "c1", NOW);
    let expiry = NOW + TOKEN_LIFETIME_SECONDS;
    assert_eq!(
      verify_reconnection_token(&key(), &token, "c1", expiry),
      Ok(())
    );
    assert_eq!(
      verify_reconnection_token(&key(), &token, "c1", expiry + 1),
      Err(RecoveryError::InvalidToken)
    );
  }

  #[test]
  fn client_access_tokens_are_not_reconnection_tokens() {
    let mut claims = Map::new();
    claims.insert("aud".into(), "c1".into());
    claims.insert("exp".into(), (NOW + 60).into());
    let token = key().sign_claims(&claims);
    assert_eq!(
      verify_reconnection_token(&key(), &token, "c1", NOW),
      Err(RecoveryError::InvalidToken)
    );
  }
}
