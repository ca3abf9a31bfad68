//! Where client user events go: `event` requests of JSON clients and the frames of raw clients in
//! `sendEvent` mode (the user event `message`).
//!
//! This is the boundary an event-handler dispatcher plugs into. No handlers can be configured yet, so
//! every event takes the emulator's "no handler" path: JSON clients get an `InternalServerError` ack and
//! raw clients are closed with 1011.

use crate::state::{Connection, EmulatorState};
use crate::ws::json_protocol::Payload;

/// The event name of every frame a raw client sends in `sendEvent` mode.
pub const RAW_MESSAGE_EVENT: &str = "message";

/// One user event raised by a client.
#[derive(Debug)]
pub struct UserEvent {
  pub name: String,
  pub payload: Payload,
}

/// Why a user event was not handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserEventError {
  #[error("No event handler is configured for event '{0}'.")]
  NoHandler(String),
}

/// Hands a user event to the hub's event handler.
pub async fn dispatch(
  _state: &EmulatorState,
  _conn: &Connection,
  event: UserEvent,
) -> Result<(), UserEventError> {
  Err(UserEventError::NoHandler(event.name))
}
