//! Raw (simple) WebSocket clients: the `webpubsub_mode` query parameters chosen at connect time, what
//! their frames ask for, and the frames such a client receives (payload only, no envelope, no acks or
//! system messages).

use crate::ws::socket::{Frame, Message, Utf8Bytes};
use webpubsub_protocol::payload::ContentKind;

use super::{Codec, Payload, Rejection, Reply, Request};
use crate::state::DataMessage;
use crate::ws::connection::close_code;

/// The event name of every frame a raw client sends in `sendEvent` mode.
pub const RAW_MESSAGE_EVENT: &str = "message";

/// What a raw client's incoming frames do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawMode {
  /// Every frame becomes the user event `message` (the default).
  SendEvent,
  /// Every frame is published to one group.
  SendToGroup { group: String, no_echo: bool },
}

/// Invalid raw-mode query parameters; answered with 400 before the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawModeError {
  #[error("Invalid webpubsub_mode '{0}'. Supported values are 'sendEvent' and 'sendToGroup'.")]
  Mode(String),
  #[error("The 'group' query parameter is required when webpubsub_mode is 'sendToGroup'.")]
  MissingGroup,
  #[error("The 'group' query parameter is not a valid group name.")]
  Group,
  #[error("Invalid noEcho '{0}'. Supported values are 'true' and 'false'.")]
  NoEcho(String),
}

impl RawMode {
  /// Reads `webpubsub_mode`, `group` and `noEcho` from the decoded query pairs. Names of modes and
  /// booleans are case-insensitive and the last value of a repeated parameter wins.
  pub fn from_query(query: &[(String, String)]) -> Result<RawMode, RawModeError> {
    let last = |name: &str| {
      query
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
    };
    let mode = last("webpubsub_mode").unwrap_or_default();
    if mode.is_empty() || mode.eq_ignore_ascii_case("sendEvent") {
      return Ok(RawMode::SendEvent);
    }
    if !mode.eq_ignore_ascii_case("sendToGroup") {
      return Err(RawModeError::Mode(mode.to_owned()));
    }
    let group = last("group").ok_or(RawModeError::MissingGroup)?;
    webpubsub_protocol::names::validate_group(group).map_err(|_| RawModeError::Group)?;
    let no_echo = match last("noEcho") {
      None | Some("") => false,
      Some(value) if value.eq_ignore_ascii_case("true") => true,
      Some(value) if value.eq_ignore_ascii_case("false") => false,
      Some(value) => return Err(RawModeError::NoEcho(value.to_owned())),
    };
    Ok(RawMode::SendToGroup {
      group: group.to_owned(),
      no_echo,
    })
  }
}

/// The codec of raw clients, fixed by their mode.
pub struct RawCodec {
  mode: RawMode,
}

impl RawCodec {
  pub fn new(mode: RawMode) -> Self {
    RawCodec { mode }
  }
}

impl Codec for RawCodec {
  fn decode(&self, frame: Message) -> Result<Option<Request>, Rejection> {
    let kind = match &frame {
      Message::Text(_) => ContentKind::Text,
      Message::Binary(_) => ContentKind::Binary,
      _ => return Ok(None),
    };
    let payload = Payload {
      kind,
      data: frame.into_data(),
      metadata: Vec::new(),
    };
    Ok(Some(match &self.mode {
      RawMode::SendToGroup { group, no_echo } => Request::SendToGroup {
        group: group.clone(),
        ack_id: None,
        no_echo: *no_echo,
        payload,
        ttl_seconds: None,
      },
      RawMode::SendEvent => Request::Event {
        event: RAW_MESSAGE_EVENT.to_owned(),
        ack_id: None,
        payload,
      },
    }))
  }

  fn reply(&self, _reply: Reply<'_>) -> Option<Message> {
    None
  }

  /// Text for text and JSON payloads, binary for bytes and protobuf (the serialized `Any`).
  fn data(&self, msg: &DataMessage, _sequence_id: Option<u64>) -> Frame {
    let message = match msg.kind {
      ContentKind::Binary | ContentKind::Protobuf => Message::Binary(msg.data.clone()),
      ContentKind::Text | ContentKind::Json => Message::Text(
        msg
          .raw_text
          .get_or_init(|| match Utf8Bytes::try_from(msg.data.clone()) {
            Ok(text) => text,
            Err(_) => String::from_utf8_lossy(&msg.data).into_owned().into(),
          })
          .clone(),
      ),
    };
    message.into()
  }

  fn unacknowledged_event_failure(&self) -> Option<Rejection> {
    Some(Rejection {
      code: close_code::INTERNAL_ERROR,
      reason: "The message could not be handled by the server.".into(),
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
      .iter()
      .map(|(k, v)| (k.to_string(), v.to_string()))
      .collect()
  }

  fn to_group(group: &str, no_echo: bool) -> RawMode {
    RawMode::SendToGroup {
      group: group.to_owned(),
      no_echo,
    }
  }

  #[test]
  fn defaults_to_send_event() {
    assert_eq!(RawMode::from_query(&[]), Ok(RawMode::SendEvent));
    assert_eq!(
      RawMode::from_query(&query(&[("webpubsub_mode", "")])),
      Ok(RawMode::SendEvent)
    );
    assert_eq!(
      RawMode::from_query(&query(&[("webpubsub_mode", "SENDEVENT"), ("group", "g")])),
      Ok(RawMode::SendEvent)
    );
  }

  #[test]
  fn send_to_group_mode() {
    assert_eq!(
      RawMode::from_query(&query(&[
        ("webpubsub_mode", "sendToGroup"),
        ("group", "g 1")
      ])),
      Ok(to_group("g 1", false))
    );
    assert_eq!(
      RawMode::from_query(&query(&[
        ("webpubsub_mode", "sendtogroup"),
        ("group", "a"),
        ("group", "b"),
        ("noEcho", "TRUE"),
      ])),
      Ok(to_group("b", true))
    );
    assert_eq!(
      RawMode::from_query(&query(&[
        ("webpubsub_mode", "other"),
        ("webpubsub_mode", "sendToGroup"),
        ("group", "g"),
        ("noEcho", "false"),
      ])),
      Ok(to_group("g", false))
    );
  }

  #[test]
  fn rejects_invalid_parameters() {
    assert_eq!(
      RawMode::from_query(&query(&[("webpubsub_mode", "broadcast")])),
      Err(RawModeError::Mode("broadcast".into()))
    );
    assert_eq!(
      RawMode::from_query(&query(&[("webpubsub_mode", "sendToGroup")])),
      Err(RawModeError::MissingGroup)
    );
    assert_eq!(
      RawMode::from_query(&query(&[
        ("webpubsub_mode", "sendToGroup"),
        ("group", "  ")
      ])),
      Err(RawModeError::Group)
    );
    assert_eq!(
      RawMode::from_query(&query(&[
        ("webpubsub_mode", "sendToGroup"),
        ("group", "g"),
        ("noEcho", "yes")
      ])),
      Err(RawModeError::NoEcho("yes".into()))
    );
  }
}
