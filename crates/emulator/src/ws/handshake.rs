//! The upgrade request of a client: which hub, which protocol, who the client is (access token) or which
//! connection it resumes (reliable recovery). Everything here is checked before the upgrade.

use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::jwt::{JwtError, VerifiedClaims};
use webpubsub_protocol::names;

use crate::auth::{self, AuthError};
use crate::origin::RequestOrigin;
use crate::roles::{RoleError, Roles};
use crate::state::EmulatorState;
use crate::ws::codec::json::{JSON_PROTOCOL, JSON_RELIABLE_PROTOCOL};
use crate::ws::codec::protobuf::{PROTOBUF_PROTOCOL, PROTOBUF_RELIABLE_PROTOCOL};
use crate::ws::codec::raw::{RawMode, RawModeError};

/// The subprotocol a client negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
  /// No predefined subprotocol was offered.
  Raw,
  Json,
  JsonReliable,
  Protobuf,
  ProtobufReliable,
}

impl Negotiated {
  /// The first predefined subprotocol in the client's offer order.
  pub fn from_offer<'a>(offered: impl IntoIterator<Item = &'a str>) -> Negotiated {
    offered
      .into_iter()
      .find_map(|name| match name.trim() {
        JSON_PROTOCOL => Some(Negotiated::Json),
        JSON_RELIABLE_PROTOCOL => Some(Negotiated::JsonReliable),
        PROTOBUF_PROTOCOL => Some(Negotiated::Protobuf),
        PROTOBUF_RELIABLE_PROTOCOL => Some(Negotiated::ProtobufReliable),
        _ => None,
      })
      .unwrap_or(Negotiated::Raw)
  }

  /// The name echoed in `Sec-WebSocket-Protocol`.
  pub fn name(&self) -> Option<&'static str> {
    match self {
      Negotiated::Raw => None,
      Negotiated::Json => Some(JSON_PROTOCOL),
      Negotiated::JsonReliable => Some(JSON_RELIABLE_PROTOCOL),
      Negotiated::Protobuf => Some(PROTOBUF_PROTOCOL),
      Negotiated::ProtobufReliable => Some(PROTOBUF_RELIABLE_PROTOCOL),
    }
  }

  /// Whether the protocol keeps unacknowledged messages and lets the client recover its connection.
  pub fn is_reliable(self) -> bool {
    matches!(
      self,
      Negotiated::JsonReliable | Negotiated::ProtobufReliable
    )
  }
}

/// A client opening a new connection.
#[derive(Debug)]
pub struct NewClient {
  /// Every claim of the access token, for the `connect` event.
  pub claims: Box<serde_json::Map<String, serde_json::Value>>,
  pub user_id: Option<String>,
  pub roles: Roles,
  pub groups: Vec<String>,
  /// `Some` for raw clients.
  pub raw_mode: Option<RawMode>,
}

/// A reliable client resuming a dropped connection.
#[derive(Debug)]
pub struct Recovery {
  pub connection_id: String,
  pub reconnection_token: String,
}

/// What the upgrade request asks for.
#[derive(Debug)]
pub enum Intent {
  Connect(Box<NewClient>),
  Recover(Recovery),
}

/// A checked upgrade request.
#[derive(Debug)]
pub struct Handshake {
  /// The hub as named by the client.
  pub hub: String,
  pub protocol: Negotiated,
  pub intent: Intent,
}

/// Why an upgrade request is refused before the upgrade.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
  #[error("The request is not a WebSocket upgrade request.")]
  NotWebSocket,
  #[error("The hub is required: use /client/hubs/{{hub}} or /client/?hub={{hub}}.")]
  MissingHub,
  #[error("{0}")]
  InvalidHub(names::NameError),
  #[error("unauthorized: {0}")]
  Unauthorized(AuthError),
  #[error("The token contains an invalid group name.")]
  InvalidGroupClaim,
  #[error("{0}")]
  RawMode(#[from] RawModeError),
  #[error("{0}")]
  InvalidRole(#[from] RoleError),
}

impl IntoResponse for HandshakeError {
  fn into_response(self) -> Response {
    match self {
      HandshakeError::Unauthorized(_) => StatusCode::UNAUTHORIZED.into_response(),
      other => (StatusCode::BAD_REQUEST, other.to_string()).into_response(),
    }
  }
}

impl From<AuthError> for HandshakeError {
  fn from(error: AuthError) -> Self {
    match error {
      AuthError::Invalid(JwtError::InvalidClaim("webpubsub.group")) => {
        HandshakeError::InvalidGroupClaim
      }
      other => HandshakeError::Unauthorized(other),
    }
  }
}

/// The decoded query parameters of the upgrade request.
pub type Query = [(String, String)];

fn last<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
  query
    .iter()
    .rev()
    .find(|(key, _)| key == name)
    .map(|(_, value)| value.as_str())
}

impl NewClient {
  /// The client a token admits on the `protocol`'s endpoint of the hub named `hub_in_url` (as the URL
  /// spells it): from `access_token` or an `Authorization: Bearer` header.
  pub fn authorize(
    state: &EmulatorState,
    protocol: ClientProtocol,
    hub_in_url: &str,
    query: &Query,
    headers: &HeaderMap,
  ) -> Result<NewClient, HandshakeError> {
    let authorization = headers
      .get(header::AUTHORIZATION)
      .and_then(|v| v.to_str().ok());
    let token = last(query, "access_token")
      .filter(|token| !token.is_empty())
      .or_else(|| auth::bearer_token(authorization))
      .ok_or(HandshakeError::Unauthorized(AuthError::Missing))?;
    let scheme = RequestOrigin::of(state, headers).scheme;
    let claims: VerifiedClaims =
      auth::verify_client_token(state, token, protocol, hub_in_url, scheme)?;
    if claims
      .groups
      .iter()
      .any(|group| names::validate_group(group).is_err())
    {
      return Err(HandshakeError::InvalidGroupClaim);
    }
    Ok(NewClient {
      claims: Box::new(claims.claims),
      user_id: claims.subject,
      roles: Roles::parse(&claims.roles)?,
      groups: claims.groups,
      raw_mode: None,
    })
  }
}

impl Handshake {
  /// Checks an upgrade request. `hub_in_path` is the decoded `{hub}` of `/client/hubs/{hub}`.
  pub fn check(
    state: &EmulatorState,
    hub_in_path: Option<String>,
    uri: &Uri,
    query: &Query,
    headers: &HeaderMap,
    protocol: Negotiated,
  ) -> Result<Handshake, HandshakeError> {
    // The audience names the hub as it appears in the URL, so keep the path's own spelling.
    let (hub, hub_in_url) = match hub_in_path {
      Some(hub) => {
        let raw = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
        (hub, raw)
      }
      None => {
        let hub = last(query, "hub")
          .filter(|hub| !hub.is_empty())
          .ok_or(HandshakeError::MissingHub)?;
        (hub.to_owned(), hub.to_owned())
      }
    };
    names::validate_hub(&hub).map_err(HandshakeError::InvalidHub)?;

    let recovery = last(query, "awps_connection_id").zip(last(query, "awps_reconnection_token"));
    if let (Some((connection_id, token)), true) = (recovery, protocol.is_reliable()) {
      let intent = Intent::Recover(Recovery {
        connection_id: connection_id.to_owned(),
        reconnection_token: token.to_owned(),
      });
      return Ok(Handshake {
        hub,
        protocol,
        intent,
      });
    }

    let mut client =
      NewClient::authorize(state, ClientProtocol::Default, &hub_in_url, query, headers)?;
    if protocol == Negotiated::Raw {
      client.raw_mode = Some(RawMode::from_query(query)?);
    }
    let intent = Intent::Connect(Box::new(client));
    Ok(Handshake {
      hub,
      protocol,
      intent,
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn negotiates_the_first_predefined_protocol_in_offer_order() {
    assert_eq!(Negotiated::from_offer([]), Negotiated::Raw);
    assert_eq!(Negotiated::from_offer(["mqtt", "custom"]), Negotiated::Raw);
    assert_eq!(
      Negotiated::from_offer(["custom", JSON_RELIABLE_PROTOCOL, JSON_PROTOCOL]),
      Negotiated::JsonReliable
    );
    assert_eq!(
      Negotiated::from_offer([JSON_PROTOCOL, JSON_RELIABLE_PROTOCOL]),
      Negotiated::Json
    );
    assert_eq!(
      Negotiated::from_offer(["custom", PROTOBUF_RELIABLE_PROTOCOL, JSON_PROTOCOL]),
      Negotiated::ProtobufReliable
    );
    assert!(Negotiated::from_offer([PROTOBUF_RELIABLE_PROTOCOL]).is_reliable());
    assert!(!Negotiated::from_offer([PROTOBUF_PROTOCOL]).is_reliable());
  }

  #[test]
  fn invalid_group_claims_are_bad_requests() {
    let error = HandshakeError::from(AuthError::Invalid(JwtError::InvalidClaim(
      "webpubsub.group",
    )));
    assert_eq!(error.into_response().status(), StatusCode::BAD_REQUEST);
    let error = HandshakeError::from(AuthError::Invalid(JwtError::InvalidClaim("role")));
    assert_eq!(error.into_response().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
      HandshakeError::from(AuthError::Missing)
        .into_response()
        .status(),
      StatusCode::UNAUTHORIZED
    );
  }
}
