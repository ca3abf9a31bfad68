//! The `protobuf.webpubsub.azure.v1` / `protobuf.reliable.webpubsub.azure.v1` codec: binary frames that
//! each carry one `azure.webpubsub.UpstreamMessage` or `DownstreamMessage`, with the field numbers of the
//! service's published protocol definition.
//!
//! Data keeps its type across protocols: `text_data` is text, `binary_data` binary, `protobuf_data` a
//! serialized `google.protobuf.Any` (base64 with `dataType: "protobuf"` for JSON clients, a binary frame
//! for raw clients, `application/x-protobuf` for event handlers), and JSON from other clients arrives
//! as `json_data`.

use std::collections::HashMap;

use crate::ws::socket::{Frame, Message, Spliced};
use bytes::Bytes;
use prost::encoding::{decode_varint, encode_varint};
use prost::{Message as _, Oneof};
use webpubsub_protocol::payload::ContentKind;

use super::{
  event, group, invocation_id, payload, ttl_seconds, Codec, InvalidRequest, Payload, Rejection,
  Reply, Request, WriterError,
};
use crate::state::{DataMessage, MessageSource};
use crate::ws::connection::close_code;

/// Name of the plain protobuf subprotocol.
pub const PROTOBUF_PROTOCOL: &str = "protobuf.webpubsub.azure.v1";
/// Name of the reliable protobuf subprotocol.
pub const PROTOBUF_RELIABLE_PROTOCOL: &str = "protobuf.reliable.webpubsub.azure.v1";

/// The reason sent with close 1007.
pub const INVALID_MESSAGE_REASON: &str =
  "The client message is not a valid protobuf protocol message.";

/// Tag of `DownstreamMessage.data_message`, and of `DataMessage.sequence_id` inside it.
const DATA_MESSAGE_TAG: u32 = 2;
const SEQUENCE_ID_TAG: u32 = 4;

#[derive(Clone, PartialEq, prost::Message)]
struct UpstreamMessage {
  #[prost(oneof = "Upstream", tags = "1, 5, 6, 7, 8, 9, 10, 11, 13, 14")]
  message: Option<Upstream>,
}

#[derive(Clone, PartialEq, Oneof)]
enum Upstream {
  #[prost(message, tag = "1")]
  SendToGroup(SendToGroupMessage),
  #[prost(message, tag = "5")]
  Event(EventMessage),
  #[prost(message, tag = "6")]
  JoinGroup(GroupMessage),
  #[prost(message, tag = "7")]
  LeaveGroup(GroupMessage),
  #[prost(message, tag = "8")]
  SequenceAck(SequenceAckMessage),
  #[prost(message, tag = "9")]
  Ping(Empty),
  #[prost(message, tag = "10")]
  InvokeEvent(InvokeEventMessage),
  #[prost(message, tag = "11")]
  CancelInvocation(CancelInvocationMessage),
  #[prost(message, tag = "13")]
  StreamData(StreamDataMessage),
  #[prost(message, tag = "14")]
  StreamEnd(StreamEndMessage),
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamStartInfo {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(uint32, optional, tag = "2")]
  idle_timeout_ms: Option<u32>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamDataMessage {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(uint64, optional, tag = "2")]
  stream_sequence_id: Option<u64>,
  #[prost(message, optional, tag = "3")]
  data: Option<MessageData>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamEndMessage {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(message, optional, tag = "2")]
  error: Option<StreamEndError>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamEndError {
  #[prost(string, optional, tag = "1")]
  message: Option<String>,
  #[prost(string, optional, tag = "2")]
  user_error_code: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InvokeEventMessage {
  #[prost(string, tag = "1")]
  event: String,
  #[prost(string, tag = "2")]
  invocation_id: String,
  #[prost(message, optional, tag = "3")]
  data: Option<MessageData>,
  #[prost(map = "string, string", tag = "4")]
  metadata: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CancelInvocationMessage {
  #[prost(string, tag = "1")]
  invocation_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SendToGroupMessage {
  #[prost(string, tag = "1")]
  group: String,
  #[prost(uint64, optional, tag = "2")]
  ack_id: Option<u64>,
  #[prost(message, optional, tag = "3")]
  data: Option<MessageData>,
  #[prost(bool, optional, tag = "4")]
  no_echo: Option<bool>,
  #[prost(uint32, optional, tag = "5")]
  ttl_seconds: Option<u32>,
  #[prost(map = "string, string", tag = "6")]
  metadata: HashMap<String, String>,
  #[prost(message, optional, tag = "7")]
  stream: Option<StreamStartInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EventMessage {
  #[prost(string, tag = "1")]
  event: String,
  #[prost(message, optional, tag = "2")]
  data: Option<MessageData>,
  #[prost(uint64, optional, tag = "3")]
  ack_id: Option<u64>,
  #[prost(map = "string, string", tag = "4")]
  metadata: HashMap<String, String>,
}

/// `JoinGroupMessage` and `LeaveGroupMessage`, which have the same fields.
#[derive(Clone, PartialEq, prost::Message)]
struct GroupMessage {
  #[prost(string, tag = "1")]
  group: String,
  #[prost(uint64, optional, tag = "2")]
  ack_id: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SequenceAckMessage {
  #[prost(uint64, tag = "1")]
  sequence_id: u64,
}

/// `PingMessage` and `PongMessage`.
#[derive(Clone, PartialEq, prost::Message)]
struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
struct MessageData {
  #[prost(oneof = "Data", tags = "1, 2, 3, 4")]
  data: Option<Data>,
}

#[derive(Clone, PartialEq, Oneof)]
enum Data {
  #[prost(string, tag = "1")]
  Text(String),
  #[prost(bytes = "bytes", tag = "2")]
  Binary(Bytes),
  /// A `google.protobuf.Any`, kept serialized: an embedded message is length-delimited bytes on the wire.
  #[prost(bytes = "bytes", tag = "3")]
  Protobuf(Bytes),
  #[prost(string, tag = "4")]
  Json(String),
}

#[derive(Clone, PartialEq, prost::Message)]
struct DownstreamMessage {
  #[prost(oneof = "Downstream", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
  message: Option<Downstream>,
}

#[derive(Clone, PartialEq, Oneof)]
enum Downstream {
  #[prost(message, tag = "1")]
  Ack(AckMessage),
  #[prost(message, tag = "2")]
  Data(DataMessageFrame),
  #[prost(message, tag = "3")]
  System(SystemMessage),
  #[prost(message, tag = "4")]
  Pong(Empty),
  #[prost(message, tag = "5")]
  InvokeResponse(InvokeResponseMessage),
  #[prost(message, tag = "6")]
  StreamAck(StreamAckMessage),
  #[prost(message, tag = "7")]
  StreamNack(StreamNackMessage),
  #[prost(message, tag = "8")]
  StreamClosed(StreamClosedMessage),
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamAckMessage {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(uint64, tag = "2")]
  expected_sequence_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamNackMessage {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(string, tag = "2")]
  name: String,
  #[prost(string, tag = "3")]
  message: String,
  #[prost(uint64, tag = "4")]
  expected_sequence_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamClosedMessage {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(message, optional, tag = "2")]
  error: Option<AckError>,
}

/// `StreamInfo` of a data message that belongs to a group stream.
#[derive(Clone, PartialEq, prost::Message)]
struct StreamInfoFrame {
  #[prost(string, tag = "1")]
  stream_id: String,
  #[prost(uint64, tag = "2")]
  stream_sequence_id: u64,
  #[prost(bool, optional, tag = "3")]
  end_of_stream: Option<bool>,
  #[prost(message, optional, tag = "4")]
  error: Option<StreamErrorFrame>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamErrorFrame {
  #[prost(string, tag = "1")]
  name: String,
  #[prost(string, tag = "2")]
  message: String,
  #[prost(string, tag = "3")]
  user_error_code: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InvokeResponseMessage {
  #[prost(string, tag = "1")]
  invocation_id: String,
  #[prost(bool, tag = "2")]
  success: bool,
  #[prost(message, optional, tag = "3")]
  data: Option<MessageData>,
  #[prost(message, optional, tag = "4")]
  error: Option<AckError>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AckMessage {
  #[prost(uint64, tag = "1")]
  ack_id: u64,
  #[prost(bool, tag = "2")]
  success: bool,
  #[prost(message, optional, tag = "3")]
  error: Option<AckError>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AckError {
  #[prost(string, tag = "1")]
  name: String,
  #[prost(string, tag = "2")]
  message: String,
}

/// `DownstreamMessage.DataMessage`.
#[derive(Clone, PartialEq, prost::Message)]
struct DataMessageFrame {
  #[prost(string, tag = "1")]
  from: String,
  #[prost(string, optional, tag = "2")]
  group: Option<String>,
  #[prost(message, optional, tag = "3")]
  data: Option<MessageData>,
  #[prost(uint64, optional, tag = "4")]
  sequence_id: Option<u64>,
  #[prost(btree_map = "string, string", tag = "5")]
  metadata: std::collections::BTreeMap<String, String>,
  #[prost(message, optional, tag = "6")]
  stream: Option<StreamInfoFrame>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SystemMessage {
  #[prost(oneof = "System", tags = "1, 2")]
  message: Option<System>,
}

#[derive(Clone, PartialEq, Oneof)]
enum System {
  #[prost(message, tag = "1")]
  Connected(ConnectedMessage),
  #[prost(message, tag = "2")]
  Disconnected(DisconnectedMessage),
}

#[derive(Clone, PartialEq, prost::Message)]
struct ConnectedMessage {
  #[prost(string, tag = "1")]
  connection_id: String,
  #[prost(string, tag = "2")]
  user_id: String,
  #[prost(string, optional, tag = "3")]
  reconnection_token: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DisconnectedMessage {
  #[prost(string, tag = "2")]
  reason: String,
}

/// The protobuf subprotocols' codec.
pub struct ProtobufCodec;

impl Codec for ProtobufCodec {
  fn decode(&self, frame: Message) -> Result<Option<Request>, Rejection> {
    let Message::Binary(bytes) = frame else {
      return Err(Rejection {
        code: close_code::UNSUPPORTED_DATA,
        reason: "The protobuf protocols accept only binary frames.".into(),
      });
    };
    parse_request(bytes).map(Some).map_err(|_| Rejection {
      code: close_code::INVALID_PAYLOAD,
      reason: INVALID_MESSAGE_REASON.into(),
    })
  }

  fn reply(&self, reply: Reply<'_>) -> Option<Message> {
    let message = match reply {
      Reply::Ack { ack_id, error } => Downstream::Ack(AckMessage {
        ack_id,
        success: error.is_none(),
        error: error.map(|(name, message)| AckError {
          name: name.as_str().to_owned(),
          message: message.to_owned(),
        }),
      }),
      Reply::Pong => Downstream::Pong(Empty {}),
      Reply::Connected {
        connection_id,
        user_id,
        reconnection_token,
      } => Downstream::System(SystemMessage {
        message: Some(System::Connected(ConnectedMessage {
          connection_id: connection_id.to_owned(),
          user_id: user_id.unwrap_or_default().to_owned(),
          reconnection_token: reconnection_token.map(str::to_owned),
        })),
      }),
      Reply::Disconnected { reason } => Downstream::System(SystemMessage {
        message: Some(System::Disconnected(DisconnectedMessage {
          reason: reason.to_owned(),
        })),
      }),
      Reply::InvokeResponse {
        invocation_id,
        result,
      } => Downstream::InvokeResponse(InvokeResponseMessage {
        invocation_id: invocation_id.to_owned(),
        success: result.is_ok(),
        data: result.ok().flatten().map(|msg| MessageData {
          data: Some(message_data(msg)),
        }),
        error: result.err().map(|(name, message)| AckError {
          name: name.to_owned(),
          message: message.to_owned(),
        }),
      }),
      Reply::StreamAck {
        stream_id,
        expected,
      } => Downstream::StreamAck(StreamAckMessage {
        stream_id: stream_id.to_owned(),
        expected_sequence_id: expected,
      }),
      Reply::StreamNack {
        stream_id,
        name,
        message,
        expected,
      } => Downstream::StreamNack(StreamNackMessage {
        stream_id: stream_id.to_owned(),
        name: name.to_owned(),
        message: message.to_owned(),
        expected_sequence_id: expected,
      }),
      Reply::StreamClosed { stream_id, error } => Downstream::StreamClosed(StreamClosedMessage {
        stream_id: stream_id.to_owned(),
        error: error.map(|(name, message)| AckError {
          name: name.to_owned(),
          message: message.to_owned(),
        }),
      }),
    };
    let frame = DownstreamMessage {
      message: Some(message),
    };
    Some(Message::Binary(frame.encode_to_vec().into()))
  }

  fn data(&self, msg: &DataMessage, sequence_id: Option<u64>) -> Frame {
    let shared = msg.protobuf_frame.get_or_init(|| encode_data(msg));
    match sequence_id {
      None => Message::Binary(shared.clone()).into(),
      Some(sequence_id) => with_sequence_id(shared, sequence_id),
    }
  }
}

/// Decodes one binary frame into a request.
pub fn parse_request(bytes: Bytes) -> Result<Request, InvalidRequest> {
  let upstream =
    UpstreamMessage::decode(bytes).map_err(|e| InvalidRequest::Syntax(e.to_string()))?;
  match upstream.message {
    None => Err(InvalidRequest::UnknownType("unknown".to_owned())),
    Some(Upstream::SendToGroup(m)) if m.stream.is_some() => {
      let stream = m.stream.unwrap_or_default();
      Ok(Request::StreamStart {
        group: group(Some(m.group))?,
        no_echo: m.no_echo.unwrap_or(false),
        stream_id: stream.stream_id,
        idle_timeout_ms: stream.idle_timeout_ms.map(u64::from),
      })
    }
    Some(Upstream::StreamData(m)) => {
      let fragment = match m.stream_sequence_id {
        None => None,
        Some(sequence_id) => Some((sequence_id, protobuf_payload(m.data, HashMap::new())?)),
      };
      Ok(Request::StreamData {
        stream_id: m.stream_id,
        fragment,
      })
    }
    Some(Upstream::StreamEnd(m)) => Ok(Request::StreamEnd {
      stream_id: m.stream_id,
      error: m.error.map(|error| WriterError {
        message: error.message,
        user_error_code: error.user_error_code,
      }),
    }),
    Some(Upstream::SendToGroup(m)) => Ok(Request::SendToGroup {
      ttl_seconds: ttl_seconds(m.ttl_seconds.map(u64::from))?,
      group: group(Some(m.group))?,
      ack_id: m.ack_id,
      no_echo: m.no_echo.unwrap_or(false),
      payload: protobuf_payload(m.data, m.metadata)?,
    }),
    Some(Upstream::Event(m)) => Ok(Request::Event {
      event: event(Some(m.event))?,
      ack_id: m.ack_id,
      payload: protobuf_payload(m.data, m.metadata)?,
    }),
    Some(Upstream::JoinGroup(m)) => Ok(Request::JoinGroup {
      group: group(Some(m.group))?,
      ack_id: m.ack_id,
    }),
    Some(Upstream::LeaveGroup(m)) => Ok(Request::LeaveGroup {
      group: group(Some(m.group))?,
      ack_id: m.ack_id,
    }),
    Some(Upstream::SequenceAck(m)) => Ok(Request::SequenceAck {
      sequence_id: m.sequence_id,
    }),
    Some(Upstream::Ping(_)) => Ok(Request::Ping),
    Some(Upstream::InvokeEvent(m)) => Ok(Request::Invoke {
      invocation_id: invocation_id(Some(m.invocation_id))?,
      event: event(Some(m.event))?,
      payload: match m.data {
        Some(data) => protobuf_payload(Some(data), m.metadata)?,
        None => payload(ContentKind::Text, Some(Bytes::new()), m.metadata)?,
      },
    }),
    Some(Upstream::CancelInvocation(m)) => Ok(Request::CancelInvocation {
      invocation_id: invocation_id(Some(m.invocation_id))?,
    }),
  }
}

fn protobuf_payload(
  data: Option<MessageData>,
  metadata: HashMap<String, String>,
) -> Result<Payload, InvalidRequest> {
  let data = match data.and_then(|data| data.data) {
    None => None,
    Some(Data::Text(text)) => Some((ContentKind::Text, Bytes::from(text))),
    Some(Data::Binary(bytes)) => Some((ContentKind::Binary, bytes)),
    Some(Data::Json(text)) => {
      serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|_| InvalidRequest::Data)?;
      Some((ContentKind::Json, Bytes::from(text)))
    }
    Some(Data::Protobuf(any)) => {
      check_any(&any)?;
      Some((ContentKind::Protobuf, any))
    }
  };
  match data {
    Some((kind, data)) => payload(kind, Some(data), metadata),
    None => payload(ContentKind::Text, None, metadata),
  }
}

/// Checks that protobuf data is a serialized `google.protobuf.Any`.
pub fn check_any(bytes: &[u8]) -> Result<(), InvalidRequest> {
  prost_types::Any::decode(bytes)
    .map(|_| ())
    .map_err(|_| InvalidRequest::Data)
}

/// The `DownstreamMessage` of a data message without a sequence id; encoded once and shared.
fn encode_data(msg: &DataMessage) -> Bytes {
  let (from, group) = match &msg.source {
    MessageSource::Server => ("server", None),
    MessageSource::Group { group, .. } => ("group", Some(group.clone())),
  };
  let data = message_data(msg);
  let frame = DownstreamMessage {
    message: Some(Downstream::Data(DataMessageFrame {
      from: from.to_owned(),
      group,
      data: Some(MessageData { data: Some(data) }),
      sequence_id: None,
      metadata: msg.metadata.iter().cloned().collect(),
      stream: msg.stream.as_ref().map(|stream| StreamInfoFrame {
        stream_id: stream.stream_id.clone(),
        stream_sequence_id: stream.sequence_id,
        end_of_stream: stream.end.then_some(true),
        error: stream.error.as_ref().map(|error| StreamErrorFrame {
          name: error.name.clone(),
          message: error.message.clone(),
          user_error_code: error.user_error_code.clone().unwrap_or_default(),
        }),
      }),
    })),
  };
  frame.encode_to_vec().into()
}

/// A message's payload as `MessageData`.
fn message_data(msg: &DataMessage) -> Data {
  match msg.kind {
    ContentKind::Text => Data::Text(String::from_utf8_lossy(&msg.data).into_owned()),
    ContentKind::Binary => Data::Binary(msg.data.clone()),
    ContentKind::Protobuf => Data::Protobuf(msg.data.clone()),
    ContentKind::Json => Data::Json(String::from_utf8_lossy(&msg.data).into_owned()),
  }
}

/// A shared data frame with `sequence_id` appended to its `DataMessage` (protobuf fields may come in
/// any order): a new key and length, the shared `DataMessage` bytes, then the field, so reliable
/// receivers neither encode the message again nor copy it.
fn with_sequence_id(shared: &Bytes, sequence_id: u64) -> Frame {
  let mut rest = &shared[1..];
  let inner_len = decode_varint(&mut rest).expect("a frame this codec encoded") as usize;
  let inner_start = shared.len() - rest.len();
  let body = shared.slice(inner_start..inner_start + inner_len);
  let mut tail = Vec::with_capacity(11);
  prost::encoding::uint64::encode(SEQUENCE_ID_TAG, &sequence_id, &mut tail);
  let mut head = Vec::with_capacity(11);
  prost::encoding::encode_key(
    DATA_MESSAGE_TAG,
    prost::encoding::WireType::LengthDelimited,
    &mut head,
  );
  encode_varint((body.len() + tail.len()) as u64, &mut head);
  Frame::Spliced(Spliced {
    text: false,
    head: head.into(),
    body,
    tail: tail.into(),
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  fn decode_downstream(frame: Message) -> DownstreamMessage {
    let Message::Binary(bytes) = frame else {
      panic!("expected a binary frame");
    };
    DownstreamMessage::decode(bytes).unwrap()
  }

  fn upstream(message: Upstream) -> Bytes {
    UpstreamMessage {
      message: Some(message),
    }
    .encode_to_vec()
    .into()
  }

  fn any(type_url: &str, value: &[u8]) -> Bytes {
    prost_types::Any {
      type_url: type_url.to_owned(),
      value: value.to_vec(),
    }
    .encode_to_vec()
    .into()
  }

  #[test]
  fn parses_every_request() {
    let send = upstream(Upstream::SendToGroup(SendToGroupMessage {
      group: "g".into(),
      ack_id: Some(3),
      data: Some(MessageData {
        data: Some(Data::Text("hé".into())),
      }),
      no_echo: Some(true),
      ttl_seconds: Some(5),
      metadata: HashMap::from([("K".into(), "v".into())]),
      stream: None,
    }));
    assert_eq!(
      parse_request(send),
      Ok(Request::SendToGroup {
        group: "g".into(),
        ack_id: Some(3),
        no_echo: true,
        payload: Payload {
          kind: ContentKind::Text,
          data: Bytes::from("hé"),
          metadata: vec![("k".into(), "v".into())],
        },
        ttl_seconds: Some(5),
      })
    );
    let packed = any("type.googleapis.com/x.Y", &[8, 1]);
    let event = upstream(Upstream::Event(EventMessage {
      event: "e".into(),
      data: Some(MessageData {
        data: Some(Data::Protobuf(packed.clone())),
      }),
      ack_id: None,
      metadata: HashMap::new(),
    }));
    let Ok(Request::Event { payload, .. }) = parse_request(event) else {
      panic!("expected an event");
    };
    assert_eq!(
      (payload.kind, payload.data),
      (ContentKind::Protobuf, packed)
    );
    let join = upstream(Upstream::JoinGroup(GroupMessage {
      group: "g".into(),
      ack_id: Some(1),
    }));
    assert_eq!(
      parse_request(join),
      Ok(Request::JoinGroup {
        group: "g".into(),
        ack_id: Some(1)
      })
    );
    let ack = upstream(Upstream::SequenceAck(SequenceAckMessage { sequence_id: 9 }));
    assert_eq!(
      parse_request(ack),
      Ok(Request::SequenceAck { sequence_id: 9 })
    );
    assert_eq!(
      parse_request(upstream(Upstream::Ping(Empty {}))),
      Ok(Request::Ping)
    );
  }

  #[test]
  fn rejects_invalid_requests() {
    let cases = [
      Bytes::from_static(&[0xff, 0xff, 0xff]),
      Bytes::new(),
      upstream(Upstream::JoinGroup(GroupMessage {
        group: " ".into(),
        ack_id: None,
      })),
      upstream(Upstream::Event(EventMessage {
        event: "1bad".into(),
        data: Some(MessageData {
          data: Some(Data::Text("x".into())),
        }),
        ack_id: None,
        metadata: HashMap::new(),
      })),
      upstream(Upstream::SendToGroup(SendToGroupMessage {
        group: "g".into(),
        data: None,
        ..Default::default()
      })),
      upstream(Upstream::SendToGroup(SendToGroupMessage {
        group: "g".into(),
        data: Some(MessageData {
          data: Some(Data::Json("{oops".into())),
        }),
        ..Default::default()
      })),
      upstream(Upstream::SendToGroup(SendToGroupMessage {
        group: "g".into(),
        data: Some(MessageData {
          data: Some(Data::Protobuf(Bytes::from_static(&[0xff]))),
        }),
        ..Default::default()
      })),
      upstream(Upstream::SendToGroup(SendToGroupMessage {
        group: "g".into(),
        data: Some(MessageData {
          data: Some(Data::Text("x".into())),
        }),
        ttl_seconds: Some(301),
        ..Default::default()
      })),
    ];
    for (i, bytes) in cases.into_iter().enumerate() {
      assert!(parse_request(bytes).is_err(), "case {i}");
    }
    let rejection = ProtobufCodec
      .decode(Message::Text("{}".into()))
      .unwrap_err();
    assert_eq!(rejection.code, close_code::UNSUPPORTED_DATA);
  }

  #[test]
  fn data_frames_convert_every_kind_and_splice_sequence_ids() {
    let packed = any("type.googleapis.com/x.Y", &[8, 1]);
    let cases = [
      (ContentKind::Text, Bytes::from("t"), Data::Text("t".into())),
      (
        ContentKind::Binary,
        Bytes::from_static(&[1, 2]),
        Data::Binary(Bytes::from_static(&[1, 2])),
      ),
      (
        ContentKind::Json,
        Bytes::from(r#"{"a":1}"#),
        Data::Json(r#"{"a":1}"#.into()),
      ),
      (
        ContentKind::Protobuf,
        packed.clone(),
        Data::Protobuf(packed.clone()),
      ),
    ];
    for (kind, bytes, expected) in cases {
      let msg = DataMessage::new(
        kind,
        bytes,
        MessageSource::Group {
          group: "g".into(),
          from_user_id: Some("u".into()),
        },
      )
      .with_metadata(vec![("k".into(), "v".into())]);
      let plain = decode_downstream(ProtobufCodec.data(&msg, None).into_message());
      let Some(Downstream::Data(frame)) = plain.message else {
        panic!("expected a data message");
      };
      assert_eq!(frame.from, "group");
      assert_eq!(frame.group.as_deref(), Some("g"));
      assert_eq!(frame.data.unwrap().data, Some(expected));
      assert_eq!(frame.sequence_id, None);
      assert_eq!(frame.metadata.get("k").map(String::as_str), Some("v"));
      let reliable = decode_downstream(ProtobufCodec.data(&msg, Some(300)).into_message());
      let Some(Downstream::Data(frame)) = reliable.message else {
        panic!("expected a data message");
      };
      assert_eq!(frame.sequence_id, Some(300));
    }
  }

  #[test]
  fn writes_replies() {
    let ack = decode_downstream(
      ProtobufCodec
        .reply(Reply::Ack {
          ack_id: 4,
          error: Some((super::super::AckErrorName::Forbidden, "no")),
        })
        .unwrap(),
    );
    assert_eq!(
      ack.message,
      Some(Downstream::Ack(AckMessage {
        ack_id: 4,
        success: false,
        error: Some(AckError {
          name: "Forbidden".into(),
          message: "no".into()
        })
      }))
    );
    let connected = decode_downstream(
      ProtobufCodec
        .reply(Reply::Connected {
          connection_id: "c",
          user_id: None,
          reconnection_token: Some("t"),
        })
        .unwrap(),
    );
    let Some(Downstream::System(SystemMessage {
      message: Some(System::Connected(connected)),
    })) = connected.message
    else {
      panic!("expected connected");
    };
    assert_eq!(
      (
        connected.connection_id.as_str(),
        connected.user_id.as_str(),
        connected.reconnection_token.as_deref()
      ),
      ("c", "", Some("t"))
    );
    let pong = decode_downstream(ProtobufCodec.reply(Reply::Pong).unwrap());
    assert_eq!(pong.message, Some(Downstream::Pong(Empty {})));
  }
}
