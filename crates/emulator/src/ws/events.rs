//! Where the WebSocket endpoint meets the event handlers: the `connect` event that admits a new client
//! before the upgrade, and the user events of connected clients — `event` requests of JSON clients and
//! the frames of raw clients in `sendEvent` mode (the user event `message`).

use std::sync::Arc;

use axum::http::{header, HeaderMap};

use crate::events::connect::{self, ConnectError, ConnectRequest};
use crate::events::reply::{reply_message, UnsupportedReply};
use crate::events::settings::EventKind;
use crate::events::upstream::{Carried, ConnectionInfo};
use crate::events::ConnectionEvents;
use crate::roles::Roles;
use crate::state::{Connection, DataMessage, EmulatorState};
use crate::ws::codec::Payload;
use crate::ws::handshake::{Negotiated, NewClient};

/// One user event raised by a client.
#[derive(Debug)]
pub struct UserEvent {
  pub name: String,
  pub payload: Payload,
}

/// Why a user event was not handled. The messages are what JSON clients see in their ack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserEventError {
  #[error("No event handler is configured for event '{0}'.")]
  NoHandler(String),
  #[error("The event handler failed to handle event '{0}'.")]
  HandlerFailed(String),
  #[error("The event handler's response to event '{0}' cannot be sent to the client.")]
  UnsupportedReply(String),
}

/// A new client about to be upgraded.
pub struct Candidate<'a> {
  pub hub: &'a str,
  pub connection_id: &'a str,
  pub client: NewClient,
  pub negotiated: Negotiated,
  /// Every subprotocol the client offered, in order.
  pub offered: &'a [String],
  pub query: &'a [(String, String)],
  pub headers: &'a HeaderMap,
}

/// A client the `connect` event (if any) accepted, with the handler's changes applied.
pub struct Admitted {
  pub client: NewClient,
  pub negotiated: Negotiated,
  /// The subprotocol to echo: the negotiated one, or a custom one the handler picked.
  pub subprotocol: Option<String>,
  /// Set when the hub has event handlers.
  pub events: Option<ConnectionEvents>,
}

/// Raises `connect` when the hub's handlers take it, and applies the answer.
pub async fn admit(
  state: &EmulatorState,
  candidate: Candidate<'_>,
) -> Result<Admitted, ConnectError> {
  let Candidate {
    hub,
    connection_id,
    mut client,
    mut negotiated,
    offered,
    query,
    headers,
  } = candidate;
  let mut subprotocol = negotiated.name().map(str::to_owned);
  let dispatcher = &state.events;
  let hub = hub.to_lowercase();
  if dispatcher.settings().hub(&hub).is_empty() {
    return Ok(Admitted {
      client,
      negotiated,
      subprotocol,
      events: None,
    });
  }
  let mut info = ConnectionInfo {
    hub,
    connection_id: connection_id.to_owned(),
    user_id: client.user_id.clone(),
    subprotocol: None,
    origin: origin(headers, state),
    physical_connection_id: None,
    session_id: None,
  };
  let request = ConnectRequest {
    info: &info,
    claims: &client.claims,
    query,
    headers,
    subprotocols: offered,
    mqtt: None,
  };
  let mut carried = Carried::default();
  if let Some(decision) = connect::connect(dispatcher, request).await? {
    if let Some(user_id) = decision.user_id {
      client.user_id = (!user_id.is_empty()).then_some(user_id);
    }
    if let Some(groups) = decision.groups {
      client.groups = groups;
    }
    if let Some(roles) = decision.roles {
      client.roles =
        Roles::parse(&roles).map_err(|e| ConnectError::InvalidAnswer(e.to_string()))?;
    }
    if let Some(name) = decision.subprotocol {
      negotiated = Negotiated::from_offer([name.as_str()]);
      subprotocol = Some(name);
    }
    carried = decision.carried;
  }
  info.user_id = client.user_id.clone();
  info.subprotocol = subprotocol.clone();
  let events = ConnectionEvents::start(dispatcher.clone(), info, carried);
  Ok(Admitted {
    client,
    negotiated,
    subprotocol,
    events: Some(events),
  })
}

/// The host the client used, sent to handlers as `WebHook-Request-Origin`.
pub fn origin(headers: &HeaderMap, state: &EmulatorState) -> String {
  headers
    .get(header::HOST)
    .and_then(|host| host.to_str().ok())
    .map_or_else(
      || format!("{}:{}", state.config.host, state.config.port),
      str::to_owned,
    )
}

/// Hands a user event to the hub's event handler; the handler's reply, if any, is the message to send
/// back to the client before its ack.
pub async fn dispatch(
  conn: &Connection,
  event: UserEvent,
) -> Result<Option<Arc<DataMessage>>, UserEventError> {
  let upstream = conn
    .upstream
    .get()
    .filter(|upstream| upstream.handles(&EventKind::User(event.name.clone())))
    .ok_or_else(|| UserEventError::NoHandler(event.name.clone()))?;
  let response = upstream
    .user_event(&event.name, &event.payload)
    .await
    .map_err(|_| UserEventError::HandlerFailed(event.name.clone()))?;
  match reply_message(response) {
    Ok(reply) => Ok(reply.map(Arc::new)),
    Err(UnsupportedReply(content_type)) => {
      eprintln!(
        "webpubsub-emulator: event '{}' of connection {}: the handler replied with unsupported Content-Type '{content_type}'",
        event.name, conn.id
      );
      Err(UserEventError::UnsupportedReply(event.name))
    }
  }
}
