//! The `json.webpubsub.azure.v1` / `json.reliable.webpubsub.azure.v1` codec: parses and validates client
//! requests, and writes the service's frames (acks, pong, system messages, `message` envelopes). Protobuf
//! data (a serialized `google.protobuf.Any`) travels both ways as base64 with `dataType: "protobuf"`.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::ws::socket::{Frame, Message, Spliced, Utf8Bytes};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use webpubsub_protocol::payload::ContentKind;

use super::{
  event, group, invocation_id, payload, protobuf, ttl_seconds, AckErrorName, Codec, InvalidRequest,
  Payload, Rejection, Reply, Request, WriterError,
};
use crate::state::{DataMessage, MessageSource};
use crate::ws::connection::close_code;

/// Name of the plain JSON subprotocol.
pub const JSON_PROTOCOL: &str = "json.webpubsub.azure.v1";
/// Name of the reliable JSON subprotocol.
pub const JSON_RELIABLE_PROTOCOL: &str = "json.reliable.webpubsub.azure.v1";

/// Why a text frame is not a valid JSON protocol message.
pub type InvalidMessage = InvalidRequest;

/// The reason sent with close 1007.
pub const INVALID_MESSAGE_REASON: &str = "The client message is not a valid JSON protocol message.";

/// The JSON subprotocols' codec.
pub struct JsonCodec;

impl Codec for JsonCodec {
  fn decode(&self, frame: Message) -> Result<Option<Request>, Rejection> {
    let Message::Text(text) = frame else {
      return Err(Rejection {
        code: close_code::UNSUPPORTED_DATA,
        reason: "The JSON protocols accept only text frames.".into(),
      });
    };
    parse_request(&text).map(Some).map_err(|_| Rejection {
      code: close_code::INVALID_PAYLOAD,
      reason: INVALID_MESSAGE_REASON.into(),
    })
  }

  fn reply(&self, reply: Reply<'_>) -> Option<Message> {
    let frame = match reply {
      Reply::Ack {
        ack_id,
        error: None,
      } => ack_success(ack_id),
      Reply::Ack {
        ack_id,
        error: Some((name, message)),
      } => ack_failure(ack_id, name, message),
      Reply::Pong => PONG.to_owned(),
      Reply::Connected {
        connection_id,
        user_id,
        reconnection_token,
      } => connected(connection_id, user_id, reconnection_token),
      Reply::Disconnected { reason } => disconnected(reason),
      Reply::InvokeResponse {
        invocation_id,
        result,
      } => invoke_response(invocation_id, result),
      Reply::StreamAck {
        stream_id,
        expected,
      } => format!(
        r#"{{"type":"streamAck","streamId":{},"expectedSequenceId":{expected}}}"#,
        json_string(stream_id)
      ),
      Reply::StreamNack {
        stream_id,
        name,
        message,
        expected,
      } => format!(
        r#"{{"type":"streamNack","streamId":{},"name":{},"message":{},"expectedSequenceId":{expected}}}"#,
        json_string(stream_id),
        json_string(name),
        json_string(message)
      ),
      Reply::StreamClosed { stream_id, error } => {
        let error = error.map_or_else(String::new, |(name, message)| {
          format!(
            r#","error":{{"name":{},"message":{}}}"#,
            json_string(name),
            json_string(message)
          )
        });
        format!(
          r#"{{"type":"streamClosed","streamId":{}{error}}}"#,
          json_string(stream_id)
        )
      }
    };
    Some(Message::Text(frame.into()))
  }

  fn data(&self, msg: &DataMessage, sequence_id: Option<u64>) -> Frame {
    let shared = message_frame(msg);
    match sequence_id {
      None => Message::Text(shared.clone()).into(),
      Some(sequence_id) => with_sequence_id(shared, sequence_id),
    }
  }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields<'a> {
  #[serde(rename = "type")]
  kind: Option<String>,
  group: Option<String>,
  event: Option<String>,
  ack_id: Option<u64>,
  no_echo: Option<bool>,
  data_type: Option<String>,
  #[serde(borrow)]
  data: Option<&'a RawValue>,
  metadata: Option<HashMap<String, String>>,
  ttl_seconds: Option<u64>,
  sequence_id: Option<u64>,
  invocation_id: Option<String>,
  target: Option<String>,
  stream: Option<StreamFields>,
  stream_id: Option<String>,
  stream_sequence_id: Option<u64>,
  error: Option<WriterErrorFields>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamFields {
  stream_id: Option<String>,
  idle_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriterErrorFields {
  message: Option<String>,
  user_error_code: Option<String>,
}

/// Parses one text frame into a request.
pub fn parse_request(text: &str) -> Result<Request, InvalidMessage> {
  let fields: Fields<'_> =
    serde_json::from_str(text).map_err(|e| InvalidMessage::Syntax(e.to_string()))?;
  let kind = fields
    .kind
    .as_deref()
    .ok_or(InvalidMessage::MissingField("type"))?;
  match kind {
    "joinGroup" => Ok(Request::JoinGroup {
      group: group(fields.group)?,
      ack_id: fields.ack_id,
    }),
    "leaveGroup" => Ok(Request::LeaveGroup {
      group: group(fields.group)?,
      ack_id: fields.ack_id,
    }),
    "sendToGroup" if fields.stream.is_some() => {
      let stream = fields.stream.unwrap_or(StreamFields {
        stream_id: None,
        idle_timeout_ms: None,
      });
      Ok(Request::StreamStart {
        group: group(fields.group)?,
        no_echo: fields.no_echo.unwrap_or(false),
        stream_id: stream
          .stream_id
          .ok_or(InvalidMessage::MissingField("stream.streamId"))?,
        idle_timeout_ms: stream.idle_timeout_ms,
      })
    }
    "streamData" => {
      let stream_id = fields
        .stream_id
        .ok_or(InvalidMessage::MissingField("streamId"))?;
      let fragment = match fields.stream_sequence_id {
        None => None,
        Some(sequence_id) => Some((
          sequence_id,
          json_payload(fields.data_type.as_deref(), fields.data, fields.metadata)?,
        )),
      };
      Ok(Request::StreamData {
        stream_id,
        fragment,
      })
    }
    "streamEnd" => Ok(Request::StreamEnd {
      stream_id: fields
        .stream_id
        .ok_or(InvalidMessage::MissingField("streamId"))?,
      error: fields.error.map(|error| WriterError {
        message: error.message,
        user_error_code: error.user_error_code,
      }),
    }),
    "sendToGroup" => Ok(Request::SendToGroup {
      ttl_seconds: ttl_seconds(fields.ttl_seconds)?,
      group: group(fields.group)?,
      ack_id: fields.ack_id,
      no_echo: fields.no_echo.unwrap_or(false),
      payload: json_payload(fields.data_type.as_deref(), fields.data, fields.metadata)?,
    }),
    "event" => Ok(Request::Event {
      event: event(fields.event)?,
      ack_id: fields.ack_id,
      payload: json_payload(fields.data_type.as_deref(), fields.data, fields.metadata)?,
    }),
    "sequenceAck" => Ok(Request::SequenceAck {
      sequence_id: fields
        .sequence_id
        .ok_or(InvalidMessage::MissingField("sequenceId"))?,
    }),
    "ping" => Ok(Request::Ping),
    "invoke" => {
      if let Some(target) = fields.target.filter(|target| target != "event") {
        return Err(InvalidMessage::InvocationTarget(target));
      }
      let metadata = fields.metadata;
      let payload = match fields.data {
        Some(_) => json_payload(fields.data_type.as_deref(), fields.data, metadata)?,
        None => payload(
          ContentKind::Text,
          Some(Bytes::new()),
          metadata.unwrap_or_default(),
        )?,
      };
      Ok(Request::Invoke {
        invocation_id: invocation_id(fields.invocation_id)?,
        event: event(fields.event)?,
        payload,
      })
    }
    "cancelInvocation" => Ok(Request::CancelInvocation {
      invocation_id: invocation_id(fields.invocation_id)?,
    }),
    other => Err(InvalidMessage::UnknownType(other.to_owned())),
  }
}

/// A payload from `dataType` and the raw `data` value.
fn json_payload(
  data_type: Option<&str>,
  data: Option<&RawValue>,
  metadata: Option<HashMap<String, String>>,
) -> Result<Payload, InvalidMessage> {
  let kind = match data_type {
    None => ContentKind::Json,
    Some(name) if name.eq_ignore_ascii_case("json") => ContentKind::Json,
    Some(name) if name.eq_ignore_ascii_case("text") => ContentKind::Text,
    Some(name) if name.eq_ignore_ascii_case("binary") => ContentKind::Binary,
    Some(name) if name.eq_ignore_ascii_case("protobuf") => ContentKind::Protobuf,
    Some(other) => return Err(InvalidMessage::DataType(other.to_owned())),
  };
  let data = data
    .map(|data| match kind {
      ContentKind::Text => serde_json::from_str::<String>(data.get())
        .map(Bytes::from)
        .map_err(|_| InvalidMessage::Data),
      ContentKind::Binary => base64_data(data),
      ContentKind::Protobuf => {
        let any = base64_data(data)?;
        protobuf::check_any(&any)?;
        Ok(any)
      }
      ContentKind::Json => Ok(Bytes::copy_from_slice(data.get().as_bytes())),
    })
    .transpose()?;
  payload(kind, data, metadata.unwrap_or_default())
}

/// Bytes given as a base64 JSON string.
fn base64_data(data: &RawValue) -> Result<Bytes, InvalidMessage> {
  let text: &str = serde_json::from_str(data.get()).map_err(|_| InvalidMessage::Data)?;
  let bytes = BASE64.decode(text).map_err(|_| InvalidMessage::Data)?;
  Ok(Bytes::from(bytes))
}

/// `{"type":"ack","ackId":n,"success":true}`.
pub fn ack_success(ack_id: u64) -> String {
  format!(r#"{{"type":"ack","ackId":{ack_id},"success":true}}"#)
}

/// `{"type":"ack","ackId":n,"success":false,"error":{"name":…,"message":…}}`.
pub fn ack_failure(ack_id: u64, name: AckErrorName, message: &str) -> String {
  format!(
    r#"{{"type":"ack","ackId":{ack_id},"success":false,"error":{{"name":"{}","message":{}}}}}"#,
    name.as_str(),
    json_string(message)
  )
}

/// The answer to `ping`.
pub const PONG: &str = r#"{"type":"pong"}"#;

/// The `connected` system message; `reconnection_token` only on reliable protocols.
pub fn connected(
  connection_id: &str,
  user_id: Option<&str>,
  reconnection_token: Option<&str>,
) -> String {
  let mut frame = format!(
    r#"{{"type":"system","event":"connected","userId":{},"connectionId":{}"#,
    optional_json_string(user_id),
    json_string(connection_id)
  );
  if let Some(token) = reconnection_token {
    let _ = write!(frame, r#","reconnectionToken":{}"#, json_string(token));
  }
  frame.push('}');
  frame
}

/// The `disconnected` system message sent before a service-initiated close.
pub fn disconnected(reason: &str) -> String {
  format!(
    r#"{{"type":"system","event":"disconnected","message":{}}}"#,
    json_string(reason)
  )
}

/// The `message` envelope of a data message, serialized on first use and shared by every JSON receiver.
pub fn message_frame(msg: &DataMessage) -> &Utf8Bytes {
  msg.json_frame.get_or_init(|| encode_message(msg).into())
}

/// A reliable protocol's envelope: the shared frame with `sequenceId` spliced in before its closing
/// brace, the frame's bytes shared rather than copied.
pub fn with_sequence_id(frame: &Utf8Bytes, sequence_id: u64) -> Frame {
  let shared = Bytes::from(frame.clone());
  let body = shared.slice(..shared.len() - usize::from(shared.ends_with(b"}")));
  Frame::Spliced(Spliced {
    text: true,
    head: Bytes::new(),
    body,
    tail: format!(r#","sequenceId":{sequence_id}}}"#).into(),
  })
}

fn encode_message(msg: &DataMessage) -> String {
  let mut frame = String::with_capacity(msg.data.len() + 128);
  match &msg.source {
    MessageSource::Server => frame.push_str(r#"{"type":"message","from":"server""#),
    MessageSource::Group {
      group,
      from_user_id,
    } => {
      let _ = write!(
        frame,
        r#"{{"type":"message","from":"group","group":{},"fromUserId":{}"#,
        json_string(group),
        optional_json_string(from_user_id.as_deref())
      );
    }
  }
  write_data(&mut frame, msg);
  if let Some(stream) = &msg.stream {
    let _ = write!(
      frame,
      r#","stream":{{"streamId":{},"streamSequenceId":{}"#,
      json_string(&stream.stream_id),
      stream.sequence_id
    );
    if stream.end {
      frame.push_str(r#","endOfStream":true"#);
    }
    if let Some(error) = &stream.error {
      let _ = write!(
        frame,
        r#","error":{{"name":{},"message":{}"#,
        json_string(&error.name),
        json_string(&error.message)
      );
      if let Some(code) = &error.user_error_code {
        let _ = write!(frame, r#","userErrorCode":{}"#, json_string(code));
      }
      frame.push('}');
    }
    frame.push('}');
  }
  if !msg.metadata.is_empty() {
    frame.push_str(r#","metadata":{"#);
    for (i, (key, value)) in msg.metadata.iter().enumerate() {
      if i > 0 {
        frame.push(',');
      }
      let _ = write!(frame, "{}:{}", json_string(key), json_string(value));
    }
    frame.push('}');
  }
  frame.push('}');
  frame
}

/// `,"dataType":…,"data":…` of a message's payload.
fn write_data(frame: &mut String, msg: &DataMessage) {
  let (data_type, data) = match msg.kind {
    ContentKind::Text => ("text", json_string(&String::from_utf8_lossy(&msg.data))),
    ContentKind::Binary => ("binary", json_string(&BASE64.encode(&msg.data))),
    ContentKind::Json => ("json", json_value(&msg.data)),
    ContentKind::Protobuf => ("protobuf", json_string(&BASE64.encode(&msg.data))),
  };
  let _ = write!(frame, r#","dataType":"{data_type}","data":{data}"#);
}

/// `{"type":"invokeResponse","invocationId":…,"success":true[,"dataType":…,"data":…]}`, or with
/// `"success":false,"error":{"name":…,"message":…}`.
fn invoke_response(
  invocation_id: &str,
  result: Result<Option<&DataMessage>, (&str, &str)>,
) -> String {
  let mut frame = format!(
    r#"{{"type":"invokeResponse","invocationId":{}"#,
    json_string(invocation_id)
  );
  match result {
    Ok(data) => {
      frame.push_str(r#","success":true"#);
      if let Some(msg) = data {
        write_data(&mut frame, msg);
      }
    }
    Err((name, message)) => {
      let _ = write!(
        frame,
        r#","success":false,"error":{{"name":{},"message":{}}}"#,
        json_string(name),
        json_string(message)
      );
    }
  }
  frame.push('}');
  frame
}

/// JSON payloads are embedded as they are; bytes that are not one JSON value travel as a string so the
/// frame stays valid.
fn json_value(data: &[u8]) -> String {
  match std::str::from_utf8(data) {
    Ok(text) if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
      text.trim().to_owned()
    }
    _ => json_string(&String::from_utf8_lossy(data)),
  }
}

fn json_string(text: &str) -> String {
  serde_json::to_string(text).expect("a string always serializes")
}

fn optional_json_string(text: Option<&str>) -> String {
  text.map_or_else(|| "null".to_owned(), json_string)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn payload(kind: ContentKind, data: &[u8]) -> Payload {
    Payload {
      kind,
      data: Bytes::copy_from_slice(data),
      metadata: Vec::new(),
    }
  }

  fn send(group: &str, ack_id: Option<u64>, no_echo: bool, payload: Payload) -> Request {
    Request::SendToGroup {
      group: group.to_owned(),
      ack_id,
      no_echo,
      payload,
      ttl_seconds: None,
    }
  }

  #[test]
  fn parses_group_requests() {
    assert_eq!(
      parse_request(r#"{"type":"joinGroup","group":"g1","ackId":1}"#),
      Ok(Request::JoinGroup {
        group: "g1".into(),
        ack_id: Some(1)
      })
    );
    assert_eq!(
      parse_request(r#"{"type":"leaveGroup","group":"g1","ackId":null,"extra":[1]}"#),
      Ok(Request::LeaveGroup {
        group: "g1".into(),
        ack_id: None
      })
    );
    assert_eq!(parse_request(r#"{"type":"ping"}"#), Ok(Request::Ping));
    assert_eq!(
      parse_request(r#"{"type":"sequenceAck","sequenceId":42}"#),
      Ok(Request::SequenceAck { sequence_id: 42 })
    );
  }

  #[test]
  fn parses_each_data_type() {
    assert_eq!(
      parse_request(r#"{"type":"sendToGroup","group":"g","data":{"a": [1, 2]}}"#),
      Ok(send(
        "g",
        None,
        false,
        payload(ContentKind::Json, br#"{"a": [1, 2]}"#)
      ))
    );
    assert_eq!(
      parse_request(
        r#"{"type":"sendToGroup","group":"g","ackId":3,"noEcho":true,"dataType":"text","data":"h\u00e9\n"}"#
      ),
      Ok(send(
        "g",
        Some(3),
        true,
        payload(ContentKind::Text, "hé\n".as_bytes())
      ))
    );
    assert_eq!(
      parse_request(r#"{"type":"sendToGroup","group":"g","dataType":"binary","data":"AAEC"}"#),
      Ok(send(
        "g",
        None,
        false,
        payload(ContentKind::Binary, &[0, 1, 2])
      ))
    );
    assert_eq!(
      parse_request(r#"{"type":"event","event":"chat.Msg-1","dataType":"json","data":"x"}"#),
      Ok(Request::Event {
        event: "chat.Msg-1".into(),
        ack_id: None,
        payload: payload(ContentKind::Json, br#""x""#)
      })
    );
  }

  #[test]
  fn metadata_is_validated_and_lower_cased() {
    let Ok(Request::SendToGroup { payload, .. }) = parse_request(
      r#"{"type":"sendToGroup","group":"g","dataType":"text","data":"x","metadata":{"Trace":"1","a":"2"}}"#,
    ) else {
      panic!("expected a sendToGroup request");
    };
    assert_eq!(
      payload.metadata,
      [("a".into(), "2".into()), ("trace".into(), "1".into())]
    );

    let metadata_only =
      parse_request(r#"{"type":"sendToGroup","group":"g","metadata":{"k":"v"}}"#).unwrap();
    let Request::SendToGroup { payload, .. } = metadata_only else {
      panic!("expected a sendToGroup request");
    };
    assert_eq!((payload.kind, payload.data.len()), (ContentKind::Text, 0));

    for metadata in [r#"{"bad key":"v"}"#, r#"{"k":"é"}"#, r#"{"K":"1","k":"2"}"#] {
      let text = format!(r#"{{"type":"sendToGroup","group":"g","data":1,"metadata":{metadata}}}"#);
      assert_eq!(
        parse_request(&text),
        Err(InvalidMessage::Metadata),
        "{metadata}"
      );
    }
    let long_value = format!(
      r#"{{"type":"sendToGroup","group":"g","data":1,"metadata":{{"k":"{}"}}}}"#,
      "v".repeat(1025)
    );
    assert_eq!(parse_request(&long_value), Err(InvalidMessage::Metadata));
  }

  #[test]
  fn rejects_invalid_messages() {
    let cases = [
      ("not json", "json"),
      ("[1]", "json"),
      (r#"{"group":"g"}"#, "missing"),
      (r#"{"type":"dance"}"#, "unknown"),
      (r#"{"type":"joinGroup"}"#, "missing"),
      (r#"{"type":"joinGroup","group":" "}"#, "group"),
      (r#"{"type":"joinGroup","group":"g","ackId":-1}"#, "json"),
      (r#"{"type":"sendToGroup","group":"g"}"#, "missing"),
      (
        r#"{"type":"sendToGroup","group":"g","data":null}"#,
        "missing",
      ),
      (
        r#"{"type":"sendToGroup","group":"g","dataType":"text","data":1}"#,
        "data",
      ),
      (
        r#"{"type":"sendToGroup","group":"g","dataType":"binary","data":"!!"}"#,
        "data",
      ),
      (
        r#"{"type":"sendToGroup","group":"g","dataType":"protobuf","data":"AA=="}"#,
        "data",
      ),
      (
        r#"{"type":"sendToGroup","group":"g","dataType":"xml","data":"AA=="}"#,
        "dataType",
      ),
      (
        r#"{"type":"sendToGroup","group":"g","data":1,"ttlSeconds":301}"#,
        "ttl",
      ),
      (r#"{"type":"event","event":"1abc","data":1}"#, "event"),
      (r#"{"type":"event","data":1}"#, "missing"),
      (r#"{"type":"sequenceAck"}"#, "missing"),
    ];
    for (text, expected) in cases {
      let error = parse_request(text).expect_err(text);
      let matches = match expected {
        "json" => matches!(error, InvalidMessage::Syntax(_)),
        "missing" => matches!(error, InvalidMessage::MissingField(_)),
        "unknown" => matches!(error, InvalidMessage::UnknownType(_)),
        "group" => error == InvalidMessage::GroupName,
        "data" => error == InvalidMessage::Data,
        "dataType" => matches!(error, InvalidMessage::DataType(_)),
        "ttl" => error == InvalidMessage::Ttl,
        "event" => error == InvalidMessage::EventName,
        _ => unreachable!(),
      };
      assert!(matches, "{text}: {error:?}");
    }
    assert!(
      parse_request(r#"{"type":"sendToGroup","group":"g","data":1,"ttlSeconds":300}"#).is_ok()
    );
  }

  #[test]
  fn writes_acks_and_system_messages() {
    assert_eq!(ack_success(7), r#"{"type":"ack","ackId":7,"success":true}"#);
    assert_eq!(
      ack_failure(
        2,
        AckErrorName::Duplicate,
        "Message with ack-id: 2 has been processed"
      ),
      r#"{"type":"ack","ackId":2,"success":false,"error":{"name":"Duplicate","message":"Message with ack-id: 2 has been processed"}}"#
    );
    assert_eq!(
      connected("c1", None, None),
      r#"{"type":"system","event":"connected","userId":null,"connectionId":"c1"}"#
    );
    assert_eq!(
      connected("c1", Some("u\"1"), Some("t")),
      r#"{"type":"system","event":"connected","userId":"u\"1","connectionId":"c1","reconnectionToken":"t"}"#
    );
    assert_eq!(
      disconnected("bye"),
      r#"{"type":"system","event":"disconnected","message":"bye"}"#
    );
  }

  fn frame_json(msg: &DataMessage) -> serde_json::Value {
    serde_json::from_str(message_frame(msg)).unwrap()
  }

  #[test]
  fn writes_message_envelopes() {
    let server = DataMessage::new(
      ContentKind::Json,
      Bytes::from_static(b" {\"a\":1} "),
      MessageSource::Server,
    );
    assert_eq!(
      message_frame(&server).as_str(),
      r#"{"type":"message","from":"server","dataType":"json","data":{"a":1}}"#
    );
    let group = DataMessage::new(
      ContentKind::Binary,
      Bytes::from_static(&[1, 2, 3]),
      MessageSource::Group {
        group: "g".into(),
        from_user_id: Some("u".into()),
      },
    )
    .with_metadata(vec![("k".into(), "v".into())]);
    assert_eq!(
      frame_json(&group),
      serde_json::json!({"type":"message","from":"group","group":"g","fromUserId":"u","dataType":"binary","data":"AQID","metadata":{"k":"v"}})
    );
    let anonymous = DataMessage::new(
      ContentKind::Text,
      Bytes::from_static(b"say \"hi\""),
      MessageSource::Group {
        group: "g".into(),
        from_user_id: None,
      },
    );
    assert_eq!(
      frame_json(&anonymous),
      serde_json::json!({"type":"message","from":"group","group":"g","fromUserId":null,"dataType":"text","data":"say \"hi\""})
    );
    let not_json = DataMessage::new(
      ContentKind::Json,
      Bytes::from_static(b"{oops"),
      MessageSource::Server,
    );
    assert_eq!(frame_json(&not_json)["data"], "{oops");
  }

  #[test]
  fn splices_sequence_ids_into_the_shared_frame() {
    let msg = DataMessage::new(
      ContentKind::Text,
      Bytes::from_static(b"x"),
      MessageSource::Server,
    );
    let shared = message_frame(&msg).clone();
    let Message::Text(spliced) = with_sequence_id(&shared, 12).into_message() else {
      panic!("expected a text frame");
    };
    let reliable: serde_json::Value = serde_json::from_str(&spliced).unwrap();
    assert_eq!(
      reliable,
      serde_json::json!({"type":"message","from":"server","dataType":"text","data":"x","sequenceId":12})
    );
    assert_eq!(
      message_frame(&msg),
      &shared,
      "the cached frame is unchanged"
    );
  }
}
