//! Token checks: REST bearer tokens and client (WebSocket) access tokens.
//!
//! Both are HS256 JWTs signed with the access key; `webpubsub_protocol::jwt` checks the signature
//! and lifetime, this module checks the audience. The audience is compared case-insensitively with
//! the request URL, as supplied or URL-decoded once. Only the path (and, for REST calls, the
//! optional query) is compared, so a token signed for `localhost` works on `127.0.0.1` and a
//! token signed for the service host works through a reverse proxy that rewrites the host.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use percent_encoding::percent_decode_str;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::jwt::VerifiedClaims;

use crate::origin::Scheme;
use crate::state::EmulatorState;

/// Audience of Microsoft Entra ID tokens for Web PubSub.
pub const ENTRA_AUDIENCE: &str = "https://webpubsub.azure.com";

/// Clock skew tolerated on token lifetimes, in seconds.
const CLOCK_SKEW_SECONDS: u64 = 300;

/// Why a token was refused. Never carries the token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
  #[error("no access token")]
  Missing,
  #[error("invalid access token: {0}")]
  Invalid(#[from] webpubsub_protocol::jwt::JwtError),
  #[error("the token audience does not match the request")]
  AudienceMismatch,
  #[error("the token has no valid lifetime")]
  Lifetime,
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs())
    .unwrap_or_default()
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
  let value = authorization?.trim();
  let (scheme, token) = value.split_once(' ')?;
  scheme
    .eq_ignore_ascii_case("bearer")
    .then(|| token.trim())
    .filter(|token| !token.is_empty())
}

/// Checks a REST call's bearer token against the request target (`path?query` as sent).
pub fn verify_rest_token(
  state: &EmulatorState,
  token: &str,
  path_and_query: &str,
) -> Result<(), AuthError> {
  let now = now_seconds();
  if state.config.allow_unvalidated_entra_tokens && is_fresh_entra_token(token, now) {
    return Ok(());
  }
  let claims = state.signing_key.verify(token, now)?;
  let audience = claims
    .audience
    .as_deref()
    .ok_or(AuthError::AudienceMismatch)?;
  let (path, _) = split_query(path_and_query);
  if audience_matches(audience, &[path_and_query, path]) {
    Ok(())
  } else {
    Err(AuthError::AudienceMismatch)
  }
}

/// Checks a client access token for the `protocol`'s client path, `/client/hubs/<hub>` or
/// `/clients/mqtt/hubs/<hub>` (the hub as it appears in the URL,
/// still percent-encoded) on a connection made with `scheme` (`https` for `wss`). An absolute
/// audience must name that scheme, as the service's endpoint URL does: a token minted for
/// `http://` does not open a `wss://` connection, nor the reverse. Called by the WebSocket endpoint
/// before the upgrade.
pub fn verify_client_token(
  state: &EmulatorState,
  token: &str,
  protocol: ClientProtocol,
  hub_in_url: &str,
  scheme: Scheme,
) -> Result<VerifiedClaims, AuthError> {
  let claims = state.signing_key.verify(token, now_seconds())?;
  let audience = claims
    .audience
    .as_deref()
    .ok_or(AuthError::AudienceMismatch)?;
  let expected = format!("/{}", protocol.client_path(hub_in_url));
  let scheme_matches = audience
    .split_once("://")
    .is_none_or(|(audience_scheme, _)| audience_scheme.eq_ignore_ascii_case(scheme.as_str()));
  if scheme_matches && audience_matches(audience, &[&expected]) {
    Ok(claims)
  } else {
    Err(AuthError::AudienceMismatch)
  }
}

/// Whether the token is an unsigned-checked Entra token: audience mentions the Web PubSub
/// resource and `exp` (required) and `nbf` (optional) hold within the clock skew.
fn is_fresh_entra_token(token: &str, now: u64) -> bool {
  let Some(payload) = token.split('.').nth(1) else {
    return false;
  };
  let Ok(bytes) =
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
  else {
    return false;
  };
  let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
    return false;
  };
  let audience_ok = match &claims["aud"] {
    serde_json::Value::String(aud) => aud.contains(ENTRA_AUDIENCE),
    serde_json::Value::Array(auds) => auds
      .iter()
      .any(|aud| aud.as_str().is_some_and(|aud| aud.contains(ENTRA_AUDIENCE))),
    _ => false,
  };
  let expires_ok = claims["exp"]
    .as_u64()
    .is_some_and(|exp| exp + CLOCK_SKEW_SECONDS >= now);
  let not_before_ok = claims["nbf"]
    .as_u64()
    .is_none_or(|nbf| nbf <= now + CLOCK_SKEW_SECONDS);
  audience_ok && expires_ok && not_before_ok
}

fn split_query(path_and_query: &str) -> (&str, Option<&str>) {
  match path_and_query.split_once('?') {
    Some((path, query)) => (path, Some(query)),
    None => (path_and_query, None),
  }
}

/// The `path?query` part of an absolute URL (or the value itself when it is already a path).
fn target_of(url: &str) -> &str {
  let Some((_, rest)) = url.split_once("://") else {
    return url;
  };
  match rest.find('/') {
    Some(index) => &rest[index..],
    None => "/",
  }
}

/// Whether an audience names one of the request targets: compared case-insensitively, as
/// supplied or URL-decoded once, on both sides.
fn audience_matches(audience: &str, targets: &[&str]) -> bool {
  let decoded_audience = percent_decode_str(audience).decode_utf8_lossy();
  let audiences = [target_of(audience), target_of(&decoded_audience)];
  targets.iter().any(|target| {
    let decoded_target = percent_decode_str(target).decode_utf8_lossy();
    audiences
      .iter()
      .any(|aud| aud.eq_ignore_ascii_case(target) || aud.eq_ignore_ascii_case(&decoded_target))
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn bearer_token_is_extracted() {
    assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
    assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
    assert_eq!(bearer_token(Some("Basic abc")), None);
    assert_eq!(bearer_token(Some("Bearer ")), None);
    assert_eq!(bearer_token(None), None);
  }

  #[test]
  fn audience_compares_paths_with_and_without_query() {
    let target = "/api/hubs/chat/:send?api-version=2024-12-01";
    let targets = [target, "/api/hubs/chat/:send"];
    assert!(audience_matches(
      "http://localhost:8080/api/hubs/Chat/:send?api-version=2024-12-01",
      &targets
    ));
    assert!(audience_matches(
      "http://127.0.0.1:1/api/hubs/chat/:send",
      &targets
    ));
    assert!(!audience_matches(
      "http://127.0.0.1:1/api/hubs/other/:send",
      &targets
    ));
    assert!(!audience_matches(
      "http://127.0.0.1:1/api/hubs/chat/:send?api-version=2021-10-01",
      &targets
    ));
  }

  #[test]
  fn audience_is_compared_decoded_once() {
    let targets = ["/api/hubs/chat/users/a%20b/:send"];
    assert!(audience_matches(
      "http://h/api/hubs/chat/users/a b/:send",
      &targets
    ));
    assert!(audience_matches(
      "http://h/api/hubs/chat/users/a%2520b/:send",
      &["/api/hubs/chat/users/a%20b/:send"]
    ));
  }

  fn unsigned_token(claims: serde_json::Value) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
      "{}.{}.sig",
      engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
      engine.encode(claims.to_string())
    )
  }

  #[test]
  fn entra_tokens_check_audience_and_lifetime() {
    let now = 1_000_000;
    let fresh =
      unsigned_token(serde_json::json!({"aud": "https://webpubsub.azure.com", "exp": now + 60}));
    let expired =
      unsigned_token(serde_json::json!({"aud": "https://webpubsub.azure.com", "exp": now - 301}));
    let other = unsigned_token(serde_json::json!({"aud": "https://example.com", "exp": now + 60}));
    let no_exp = unsigned_token(serde_json::json!({"aud": "https://webpubsub.azure.com"}));
    assert!(is_fresh_entra_token(&fresh, now));
    assert!(!is_fresh_entra_token(&expired, now));
    assert!(!is_fresh_entra_token(&other, now));
    assert!(!is_fresh_entra_token(&no_exp, now));
  }
}
