//! Admitting an MQTT client: its CONNECT (read, checked against the service's rules: protocol
//! level, client id, keep-alive, last will), the `connect` event's `mqtt` part, and the CONNACK of a
//! refusal, by the emulator or by the event handler.

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use bytes::BytesMut;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::packet::{
  self, reason, ConnAckProperties, Connect, DecodeError, Incoming, Outgoing, Version, Will,
};
use super::session::MAX_PACKET_BYTES;
use crate::events::connect::{mqtt_refusal, ConnectError};
use crate::state::SharedState;
use crate::ws::connection::{close_code, close_socket};
use crate::ws::socket::WebSocket;

/// How long a new connection has to send its CONNECT.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The keep-alive range the service accepts (MQTT 3.1.1) or imposes (MQTT 5, as Server Keep Alive).
const KEEP_ALIVE_SECONDS: std::ops::RangeInclusive<u16> = 1..=180;
const MAX_CLIENT_ID_CHARS: usize = 128;
const MAX_WILL_TOPIC_CHARS: usize = 1024;
const MAX_WILL_MESSAGE_BYTES: usize = 2000;

/// The keep-alive a CONNECT settles on; `None` for an MQTT 3.1.1 one outside the service's range.
/// MQTT 5 clients asking for none (0) or longer get the longest, as Server Keep Alive.
pub fn keep_alive(connect: &Connect) -> Option<u16> {
  match (
    connect.version,
    KEEP_ALIVE_SECONDS.contains(&connect.keep_alive),
  ) {
    (_, true) => Some(connect.keep_alive),
    (Version::V5, false) => Some(*KEEP_ALIVE_SECONDS.end()),
    (Version::V311, false) => None,
  }
}

/// Why a CONNECT is refused.
pub enum ConnectRefusal {
  /// A CONNACK with this code (MQTT 5 numbering) and properties, then close.
  ConnAck(Version, u8, ConnAckProperties),
  /// Close without CONNACK: the bytes are not an MQTT CONNECT.
  Close(String),
}

impl ConnectRefusal {
  /// A CONNACK with `code` and nothing more.
  pub fn code(version: Version, code: u8) -> Self {
    Self::ConnAck(version, code, ConnAckProperties::default())
  }
}

pub async fn read_connect(
  socket: &mut WebSocket,
  buf: &mut BytesMut,
) -> Result<Box<Connect>, ConnectRefusal> {
  loop {
    match packet::connect_level(buf) {
      Ok(Some(level)) => {
        let version = match level {
          4 => Version::V311,
          5 => Version::V5,
          // Level 3 (MQTT 3.1) and unknown levels get the 3.1.1 refusal every version understands.
          _ => {
            return Err(ConnectRefusal::code(
              Version::V311,
              reason::UNSUPPORTED_PROTOCOL_VERSION,
            ))
          }
        };
        match packet::decode(buf, version, MAX_PACKET_BYTES) {
          Ok(Some(Incoming::Connect(connect))) => return Ok(connect),
          Ok(Some(_)) => {
            return Err(ConnectRefusal::Close(
              "The first packet must be CONNECT.".to_owned(),
            ))
          }
          Ok(None) => {}
          Err(error) => return Err(ConnectRefusal::code(version, decode_refusal(&error))),
        }
      }
      Ok(None) => {}
      Err(DecodeError::UnsupportedProtocol(_)) => {
        return Err(ConnectRefusal::code(
          Version::V311,
          reason::UNSUPPORTED_PROTOCOL_VERSION,
        ))
      }
      Err(error) => return Err(ConnectRefusal::Close(error.to_string())),
    }
    if buf.len() > MAX_PACKET_BYTES {
      return Err(ConnectRefusal::Close(
        "The CONNECT packet is too large.".to_owned(),
      ));
    }
    match socket.recv().await {
      Some(Ok(Message::Binary(bytes))) => buf.extend_from_slice(&bytes),
      Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
      Some(Ok(_)) => {
        return Err(ConnectRefusal::Close(
          "MQTT packets travel in binary frames.".to_owned(),
        ))
      }
      Some(Err(_)) | None => return Err(ConnectRefusal::Close(String::new())),
    }
  }
}

pub fn decode_refusal(error: &DecodeError) -> u8 {
  match error {
    DecodeError::UnsupportedProtocol(_) => reason::UNSUPPORTED_PROTOCOL_VERSION,
    DecodeError::TooLarge(_) => reason::PACKET_TOO_LARGE,
    DecodeError::Malformed(_) => reason::MALFORMED_PACKET,
  }
}

pub async fn refuse_connect(mut socket: WebSocket, refusal: ConnectRefusal, state: &SharedState) {
  let close = match refusal {
    ConnectRefusal::ConnAck(version, code, properties) => {
      let mut out = BytesMut::new();
      let connack = Outgoing::ConnAck {
        session_present: false,
        code,
        properties,
      };
      packet::encode(connack, version, &mut out);
      let _ = socket.send(Message::Binary(out.freeze())).await;
      None
    }
    ConnectRefusal::Close(reason) if reason.is_empty() => None,
    ConnectRefusal::Close(reason) => Some(reason),
  };
  let close = close
    .as_deref()
    .map(|reason| (close_code::POLICY_VIOLATION, reason));
  close_socket(socket, close, &state.hard_stop).await;
}

/// The service's limits on a last will: a topic of 1 to 1,024 characters, not only whitespace, and
/// at most 2,000 bytes of message; MQTT 5 clients may not ask for it to be retained.
pub fn check_will(will: &Will, version: Version) -> Result<(), u8> {
  let will = &will.message;
  let topic = &will.topic;
  if topic.trim().is_empty()
    || topic.chars().count() > MAX_WILL_TOPIC_CHARS
    || topic.contains(['#', '+'])
  {
    return Err(reason::TOPIC_NAME_INVALID);
  }
  if will.payload.len() > MAX_WILL_MESSAGE_BYTES {
    return Err(reason::PACKET_TOO_LARGE);
  }
  if will.retain && version == Version::V5 {
    return Err(reason::RETAIN_NOT_SUPPORTED);
  }
  Ok(())
}

/// The `mqtt` part of the `connect` event's body.
pub fn connect_body(connect: &Connect) -> Value {
  let user_properties =
    (connect.version == Version::V5).then(|| user_properties(&connect.user_properties));
  let password = connect
    .password
    .as_ref()
    .map(|password| base64::engine::general_purpose::STANDARD.encode(password));
  json!({
    "protocolVersion": connect.version.level(),
    "cleanStart": connect.clean_start,
    "username": connect.username,
    "password": password,
    "userProperties": user_properties,
  })
}

pub fn user_properties(properties: &[(String, String)]) -> Value {
  properties
    .iter()
    .map(|(name, value)| json!({ "name": name, "value": value }))
    .collect()
}

/// The refusal of a client the `connect` handler refused: its `mqtt.code` (a 3.1.1 return code or an
/// MQTT 5 reason code, by the client's version), else one from the HTTP status.
pub fn handler_refusal(version: Version, error: &ConnectError) -> ConnectRefusal {
  let (code, reason, user_properties) = match error {
    ConnectError::Rejected(response) => {
      let mqtt = mqtt_refusal(response);
      let by_status = match response.status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => reason::NOT_AUTHORIZED,
        _ => reason::UNSPECIFIED_ERROR,
      };
      let code = match (mqtt.code, version) {
        (Some(code), Version::V311) => v311_return_code_as_reason(code),
        (Some(code), Version::V5) => u8::try_from(code).unwrap_or(reason::UNSPECIFIED_ERROR),
        (None, _) => by_status,
      };
      let properties = mqtt.user_properties.unwrap_or_default();
      (
        code,
        mqtt.reason,
        properties.into_iter().map(|p| (p.name, p.value)).collect(),
      )
    }
    ConnectError::Failed(_) | ConnectError::InvalidAnswer(_) => {
      (reason::UNSPECIFIED_ERROR, None, Vec::new())
    }
  };
  let properties = ConnAckProperties {
    reason,
    user_properties,
    ..ConnAckProperties::default()
  };
  ConnectRefusal::ConnAck(version, code, properties)
}

/// A 3.1.1 CONNACK return code in the MQTT 5 numbering the encoder takes; one 3.1.1 does not
/// define becomes "server unavailable".
fn v311_return_code_as_reason(code: i64) -> u8 {
  match code {
    1 => reason::UNSUPPORTED_PROTOCOL_VERSION,
    2 => reason::CLIENT_IDENTIFIER_NOT_VALID,
    4 => 0x86,
    5 => reason::NOT_AUTHORIZED,
    _ => 0x88,
  }
}

/// A connection's client id, and whether the service assigned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId {
  pub id: String,
  pub assigned: bool,
}

/// The connection id: the client id, or one the service assigns when it is empty (allowed in
/// MQTT 5, and in 3.1.1 with a clean session); `None` for an id the service does not accept.
pub fn client_id(connect: &Connect) -> Option<ClientId> {
  let id = &connect.client_id;
  if id.is_empty() {
    return match (connect.version, connect.clean_start) {
      (Version::V311, false) => None,
      _ => Some(ClientId {
        id: crate::state::new_connection_id(),
        assigned: true,
      }),
    };
  }
  let valid = id.len() <= MAX_CLIENT_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric());
  valid.then(|| ClientId {
    id: id.clone(),
    assigned: false,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  fn connect(version: Version, client_id: &str, clean_start: bool) -> Connect {
    Connect {
      version,
      client_id: client_id.to_owned(),
      clean_start,
      keep_alive: 60,
      session_expiry_interval: None,
      receive_maximum: None,
      maximum_packet_size: None,
      user_properties: Vec::new(),
      username: None,
      password: None,
      will: None,
    }
  }

  #[test]
  fn client_ids_are_alphanumeric_up_to_128_or_assigned_when_empty() {
    let given = |version, id: &str, clean| client_id(&connect(version, id, clean));
    assert_eq!(
      given(Version::V5, "device1", true),
      Some(ClientId {
        id: "device1".to_owned(),
        assigned: false
      })
    );
    assert!(given(Version::V311, &"a".repeat(128), false).is_some_and(|c| !c.assigned));
    assert_eq!(given(Version::V311, &"a".repeat(129), false), None);
    assert_eq!(given(Version::V5, "with-dash", true), None);
    assert!(given(Version::V5, "", false).is_some_and(|c| c.assigned && !c.id.is_empty()));
    assert!(given(Version::V311, "", true).is_some_and(|c| c.assigned));
    assert_eq!(given(Version::V311, "", false), None);
  }
}
