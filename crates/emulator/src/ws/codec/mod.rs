//! The client protocols of the WebSocket endpoint, each a [`Codec`]: it turns the frames a client sends
//! into [`Request`]s and the emulator's [`Reply`]s and data messages into frames. A codec knows nothing
//! of hubs, permissions or sockets: the connection task ([`super::connection`]) runs every protocol's
//! requests against the hub state the same way, and the hub's fan-out reaches every connection through
//! one queue, whatever its protocol. Converting a message between protocols (a protobuf publisher's data
//! reaching a JSON or raw client) is each codec's [`Codec::data`], from the protocol-neutral
//! [`DataMessage`].

pub mod json;
pub mod protobuf;
pub mod raw;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::ws::socket::{Frame, Message};
use bytes::Bytes;
use webpubsub_protocol::payload::ContentKind;

use crate::metadata::{check_entry, check_total};
use crate::state::DataMessage;
use crate::ws::handshake::Negotiated;
use raw::RawMode;

/// Largest `ttlSeconds` a client may ask for.
pub const MAX_TTL_SECONDS: u64 = 300;
const MAX_EVENT_NAME_CHARS: usize = 128;
const MAX_INVOCATION_ID_CHARS: usize = 128;

/// A data payload sent by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
  pub kind: ContentKind,
  pub data: Bytes,
  /// Metadata with lower-cased keys.
  pub metadata: Vec<(String, String)>,
}

/// What a client asks the service to do, in any protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
  JoinGroup {
    group: String,
    ack_id: Option<u64>,
  },
  LeaveGroup {
    group: String,
    ack_id: Option<u64>,
  },
  SendToGroup {
    group: String,
    ack_id: Option<u64>,
    no_echo: bool,
    payload: Payload,
    /// Seconds the message may wait for a receiver; `None` or 0: no expiry.
    ttl_seconds: Option<u64>,
  },
  Event {
    event: String,
    ack_id: Option<u64>,
    payload: Payload,
  },
  SequenceAck {
    sequence_id: u64,
  },
  Ping,
  /// A request/response call to the event handler: the user event `event`, answered with an
  /// [`Reply::InvokeResponse`] carrying the handler's answer.
  Invoke {
    invocation_id: String,
    event: String,
    payload: Payload,
  },
  /// The client gave up on an invocation; a late answer is dropped.
  CancelInvocation {
    invocation_id: String,
  },
  /// Opens a group stream (a `sendToGroup` with `stream`).
  StreamStart {
    group: String,
    no_echo: bool,
    stream_id: String,
    idle_timeout_ms: Option<u64>,
  },
  /// A fragment numbered `sequence_id`, or (no fragment) a keepalive.
  StreamData {
    stream_id: String,
    fragment: Option<(u64, Payload)>,
  },
  /// Ends a group stream, with the writer's error if it gave up.
  StreamEnd {
    stream_id: String,
    error: Option<WriterError>,
  },
}

/// The error a stream writer ends its stream with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriterError {
  pub message: Option<String>,
  pub user_error_code: Option<String>,
}

/// The error of a failed ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckErrorName {
  Forbidden,
  InternalServerError,
  Duplicate,
}

impl AckErrorName {
  pub fn as_str(self) -> &'static str {
    match self {
      AckErrorName::Forbidden => "Forbidden",
      AckErrorName::InternalServerError => "InternalServerError",
      AckErrorName::Duplicate => "Duplicate",
    }
  }
}

/// A frame the service sends that is not a data message.
#[derive(Debug, Clone, Copy)]
pub enum Reply<'a> {
  Ack {
    ack_id: u64,
    error: Option<(AckErrorName, &'a str)>,
  },
  Pong,
  Connected {
    connection_id: &'a str,
    user_id: Option<&'a str>,
    /// Only on reliable protocols.
    reconnection_token: Option<&'a str>,
  },
  /// Sent before a close the service starts.
  Disconnected {
    reason: &'a str,
  },
  /// The answer to a [`Request::Invoke`]: the handler's data (none for an empty answer), or an
  /// error name and message.
  InvokeResponse {
    invocation_id: &'a str,
    result: Result<Option<&'a DataMessage>, (&'a str, &'a str)>,
  },
  /// Fragments before `expected` were published.
  StreamAck {
    stream_id: &'a str,
    expected: u64,
  },
  /// A fragment out of order; the writer should resend from `expected`.
  StreamNack {
    stream_id: &'a str,
    name: &'a str,
    message: &'a str,
    expected: u64,
  },
  /// The stream is over for the writer, with the reason when it did not end normally.
  StreamClosed {
    stream_id: &'a str,
    error: Option<(&'a str, &'a str)>,
  },
}

/// A client frame the protocol cannot take: the connection is closed with this code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
  pub code: u16,
  pub reason: Cow<'static, str>,
}

/// One client protocol.
pub trait Codec: Send + Sync {
  /// The request a data frame (text or binary) carries; `Ok(None)` for a frame that asks for nothing.
  fn decode(&self, frame: Message) -> Result<Option<Request>, Rejection>;

  /// The frame of a reply; `None` where the protocol has no such frame (raw clients get no acks or
  /// system messages).
  fn reply(&self, reply: Reply<'_>) -> Option<Message>;

  /// The frame of a data message; reliable protocols number it with `sequence_id`.
  fn data(&self, msg: &DataMessage, sequence_id: Option<u64>) -> Frame;

  /// How a failed user event the client raised without an ack id is answered: `Some` closes the
  /// connection (raw clients have no other way to hear of it), `None` drops it silently.
  fn unacknowledged_event_failure(&self) -> Option<Rejection> {
    None
  }
}

/// The codec of a new or recovered connection.
pub fn for_connection(negotiated: Negotiated, raw_mode: Option<RawMode>) -> Box<dyn Codec> {
  match negotiated {
    Negotiated::Raw => Box::new(raw::RawCodec::new(raw_mode.unwrap_or(RawMode::SendEvent))),
    Negotiated::Json | Negotiated::JsonReliable => Box::new(json::JsonCodec),
    Negotiated::Protobuf | Negotiated::ProtobufReliable => Box::new(protobuf::ProtobufCodec),
  }
}

/// Why a client request is not valid; every protocol closes the connection with 1007 for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
  #[error("the message does not have the expected fields: {0}")]
  Syntax(String),
  #[error("unsupported message type '{0}'")]
  UnknownType(String),
  #[error("the message has no '{0}'")]
  MissingField(&'static str),
  #[error("invalid group name")]
  GroupName,
  #[error("invalid event name")]
  EventName,
  #[error("unsupported dataType '{0}'")]
  DataType(String),
  #[error("'data' does not match the dataType")]
  Data,
  #[error("invalid metadata")]
  Metadata,
  #[error("ttlSeconds must be between 0 and {MAX_TTL_SECONDS}")]
  Ttl,
  #[error("invalid invocationId")]
  InvocationId,
  #[error("unsupported invocation target '{0}'")]
  InvocationTarget(String),
}

/// An invocation id from a request: 1 to 128 characters.
pub fn invocation_id(id: Option<String>) -> Result<String, InvalidRequest> {
  let id = id.ok_or(InvalidRequest::MissingField("invocationId"))?;
  if id.is_empty() || id.chars().count() > MAX_INVOCATION_ID_CHARS {
    return Err(InvalidRequest::InvocationId);
  }
  Ok(id)
}

/// A group name from a request.
pub fn group(group: Option<String>) -> Result<String, InvalidRequest> {
  let group = group.ok_or(InvalidRequest::MissingField("group"))?;
  webpubsub_protocol::names::validate_group(&group).map_err(|_| InvalidRequest::GroupName)?;
  Ok(group)
}

/// An event name from a request.
pub fn event(event: Option<String>) -> Result<String, InvalidRequest> {
  let event = event.ok_or(InvalidRequest::MissingField("event"))?;
  if is_valid_event_name(&event) {
    Ok(event)
  } else {
    Err(InvalidRequest::EventName)
  }
}

/// Event names: a letter, then up to 127 letters, digits, `_`, `.` or `-` (case-insensitive).
pub fn is_valid_event_name(name: &str) -> bool {
  let mut chars = name.chars();
  chars.next().is_some_and(|c| c.is_ascii_alphabetic())
    && name.chars().count() <= MAX_EVENT_NAME_CHARS
    && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A `ttlSeconds` from a request.
pub fn ttl_seconds(ttl: Option<u64>) -> Result<Option<u64>, InvalidRequest> {
  match ttl {
    Some(ttl) if ttl > MAX_TTL_SECONDS => Err(InvalidRequest::Ttl),
    ttl => Ok(ttl),
  }
}

/// A payload from its kind, data and metadata. A message with metadata but no data carries only its
/// metadata (as empty text).
pub fn payload(
  kind: ContentKind,
  data: Option<Bytes>,
  metadata: HashMap<String, String>,
) -> Result<Payload, InvalidRequest> {
  let metadata = validate_metadata(metadata)?;
  match data {
    Some(data) => Ok(Payload {
      kind,
      data,
      metadata,
    }),
    None if metadata.is_empty() => Err(InvalidRequest::MissingField("data")),
    None => Ok(Payload {
      kind: ContentKind::Text,
      data: Bytes::new(),
      metadata,
    }),
  }
}

/// Client metadata under `crate::metadata`'s rules; keys are lower-cased like REST metadata headers
/// and must be unique ignoring case.
fn validate_metadata(
  metadata: HashMap<String, String>,
) -> Result<Vec<(String, String)>, InvalidRequest> {
  let mut checked: Vec<(String, String)> = Vec::with_capacity(metadata.len());
  for (key, value) in metadata {
    let key = key.to_ascii_lowercase();
    check_entry(&key, &value).map_err(|_| InvalidRequest::Metadata)?;
    if checked.iter().any(|(k, _)| *k == key) {
      return Err(InvalidRequest::Metadata);
    }
    checked.push((key, value));
  }
  check_total(&checked).map_err(|_| InvalidRequest::Metadata)?;
  checked.sort();
  Ok(checked)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn event_names() {
    assert!(is_valid_event_name("a"));
    assert!(is_valid_event_name("Chat_room.1-x"));
    assert!(is_valid_event_name(&"a".repeat(128)));
    assert!(!is_valid_event_name(&"a".repeat(129)));
    assert!(!is_valid_event_name(""));
    assert!(!is_valid_event_name("_a"));
    assert!(!is_valid_event_name("a b"));
  }

  #[test]
  fn metadata_only_payloads_are_empty_text() {
    let metadata = HashMap::from([("K".to_owned(), "v".to_owned())]);
    let payload = payload(ContentKind::Json, None, metadata).unwrap();
    assert_eq!(payload.kind, ContentKind::Text);
    assert_eq!(payload.metadata, [("k".to_owned(), "v".to_owned())]);
    assert_eq!(
      super::payload(ContentKind::Json, None, HashMap::new()),
      Err(InvalidRequest::MissingField("data"))
    );
  }
}
