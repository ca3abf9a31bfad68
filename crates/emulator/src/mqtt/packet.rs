//! MQTT 3.1.1 and 5.0 packets as the session sees them, whatever the client's version: decoded from
//! and encoded to the wire with `rumqttc`'s `mqttbytes` codecs (its v4 and v5 modules), which this
//! module only translates. The version is fixed by the CONNECT packet; every later packet of the
//! connection uses it.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

/// The protocol level of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
  /// MQTT 3.1.1 (protocol level 4).
  V311,
  /// MQTT 5.0 (protocol level 5).
  V5,
}

impl Version {
  /// The protocol level, as the `connect` event reports it.
  pub fn level(self) -> u8 {
    match self {
      Version::V311 => 4,
      Version::V5 => 5,
    }
  }
}

/// MQTT 5 publication properties the service carries (3.1.1 packets have none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishProperties {
  pub payload_format_indicator: Option<u8>,
  pub message_expiry_interval: Option<u32>,
  pub topic_alias: Option<u16>,
  pub response_topic: Option<String>,
  pub correlation_data: Option<Bytes>,
  pub user_properties: Vec<(String, String)>,
  pub subscription_identifiers: Vec<usize>,
  pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
  pub dup: bool,
  pub qos: u8,
  pub retain: bool,
  pub topic: String,
  /// 0 at QoS 0.
  pub pkid: u16,
  pub payload: Bytes,
  pub properties: PublishProperties,
}

/// The last will of a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
  /// The publication (packet id 0).
  pub message: Publish,
  /// MQTT 5 will delay interval, in seconds.
  pub delay_interval: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
  pub version: Version,
  pub client_id: String,
  /// Clean session (3.1.1) or clean start (5.0).
  pub clean_start: bool,
  pub keep_alive: u16,
  pub session_expiry_interval: Option<u32>,
  /// How many QoS 1 and 2 publications the client takes at once (MQTT 5; 65,535 otherwise).
  pub receive_maximum: Option<u16>,
  pub maximum_packet_size: Option<u32>,
  pub user_properties: Vec<(String, String)>,
  pub username: Option<String>,
  pub password: Option<String>,
  pub will: Option<Will>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeFilter {
  pub filter: String,
  pub qos: u8,
  /// MQTT 5 "no local": the subscriber does not get its own publications.
  pub no_local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
  pub pkid: u16,
  pub filters: Vec<SubscribeFilter>,
  pub subscription_id: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
  /// 0 (normal) for 3.1.1.
  pub reason_code: u8,
  pub reason: Option<String>,
  pub session_expiry_interval: Option<u32>,
  pub user_properties: Vec<(String, String)>,
}

/// A packet a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
  Connect(Box<Connect>),
  Publish(Publish),
  PubAck(u16),
  PubRec(u16),
  PubRel(u16),
  PubComp(u16),
  Subscribe(Subscribe),
  Unsubscribe {
    pkid: u16,
    filters: Vec<String>,
  },
  PingReq,
  Disconnect(Disconnect),
  /// A packet only a server sends, or MQTT 5 AUTH (no enhanced authentication here).
  Unexpected(&'static str),
}

/// Why bytes could not be read as a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
  /// The CONNECT names a protocol other than MQTT 3.1.1 or 5.0 (its level, or 0 for another name).
  #[error("unsupported protocol level {0}")]
  UnsupportedProtocol(u8),
  #[error("the packet is larger than {0} bytes")]
  TooLarge(usize),
  #[error("malformed packet: {0}")]
  Malformed(String),
}

/// The protocol level of the CONNECT at the start of `buf`: `Ok(None)` while its header is
/// incomplete; an error for a packet that is not a CONNECT of the `MQTT` protocol.
pub fn connect_level(buf: &[u8]) -> Result<Option<u8>, DecodeError> {
  let Some(&first) = buf.first() else {
    return Ok(None);
  };
  if first != 0x10 {
    return Err(DecodeError::Malformed(
      "the first packet must be CONNECT".to_owned(),
    ));
  }
  let Some((_, length_bytes)) = remaining_length(&buf[1..]) else {
    return Ok(None);
  };
  // After the remaining length: the protocol name (length-prefixed) and the level.
  let name = 1 + length_bytes;
  let Some(length) = buf.get(name..name + 2) else {
    return Ok(None);
  };
  let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
  match buf.get(name + 2..name + 2 + length + 1) {
    None => Ok(None),
    Some(rest) if &rest[..length] == b"MQTT" => Ok(Some(rest[length])),
    // MQTT 3.1 ("MQIsdp", level 3) and anything else.
    Some(rest) => Err(DecodeError::UnsupportedProtocol(rest[length])),
  }
}

/// A fixed header's remaining length (the value and the bytes it takes) at the start of `bytes`;
/// `None` while incomplete. A fifth byte is not read: the decoder refuses such a length.
fn remaining_length(bytes: &[u8]) -> Option<(usize, usize)> {
  let mut value = 0;
  for (at, byte) in bytes.iter().take(4).enumerate() {
    value |= usize::from(byte & 0x7F) << (7 * at);
    if byte & 0x80 == 0 || at == 3 {
      return Some((value, at + 1));
    }
  }
  None
}

fn put_remaining_length(buf: &mut BytesMut, mut value: usize) {
  loop {
    let byte = (value % 128) as u8;
    value /= 128;
    if value == 0 {
      buf.extend_from_slice(&[byte]);
      return;
    }
    buf.extend_from_slice(&[byte | 0x80]);
  }
}

/// Appends a PUBLISH without its payload and returns the payload, which follows it on the wire: a
/// large payload shared by many receivers is then sent from its one copy (`rumqttc` writes packets
/// whole, and does not expose its remaining-length encoding, hence the few lines above).
pub fn encode_publish_head(mut publish: Publish, version: Version, buf: &mut BytesMut) -> Bytes {
  let payload = std::mem::take(&mut publish.payload);
  let mut empty = BytesMut::new();
  encode(Outgoing::Publish(publish), version, &mut empty);
  let (length, length_bytes) =
    remaining_length(&empty[1..]).expect("an encoded packet has its remaining length");
  buf.extend_from_slice(&empty[..1]);
  put_remaining_length(buf, length + payload.len());
  buf.extend_from_slice(&empty[1 + length_bytes..]);
  payload
}

/// Reads one packet from the front of `buf` (removing it), or `Ok(None)` when `buf` holds only part
/// of one. `max_bytes` bounds a packet's size.
pub fn decode(
  buf: &mut BytesMut,
  version: Version,
  max_bytes: usize,
) -> Result<Option<Incoming>, DecodeError> {
  match version {
    Version::V311 => decode_v4(buf, max_bytes),
    Version::V5 => decode_v5(buf, max_bytes),
  }
}

fn decode_v4(buf: &mut BytesMut, max_bytes: usize) -> Result<Option<Incoming>, DecodeError> {
  let packet = match v4::Packet::read(buf, max_bytes) {
    Ok(packet) => packet,
    Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => return Ok(None),
    Err(rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(_)) => {
      return Err(DecodeError::TooLarge(max_bytes))
    }
    Err(rumqttc::mqttbytes::Error::InvalidProtocolLevel(level)) => {
      return Err(DecodeError::UnsupportedProtocol(level))
    }
    Err(e) => return Err(DecodeError::Malformed(e.to_string())),
  };
  Ok(Some(match packet {
    // Called for protocol level 4 only (see `connect_level`).
    v4::Packet::Connect(connect) => Incoming::Connect(Box::new(Connect {
      version: Version::V311,
      client_id: connect.client_id,
      clean_start: connect.clean_session,
      keep_alive: connect.keep_alive,
      session_expiry_interval: None,
      receive_maximum: None,
      maximum_packet_size: None,
      user_properties: Vec::new(),
      username: connect.login.as_ref().map(|login| login.username.clone()),
      password: connect.login.map(|login| login.password),
      will: connect.last_will.map(|will| Will {
        message: Publish {
          dup: false,
          qos: will.qos as u8,
          retain: will.retain,
          topic: will.topic,
          pkid: 0,
          payload: will.message,
          properties: PublishProperties::default(),
        },
        delay_interval: None,
      }),
    })),
    v4::Packet::Publish(publish) => Incoming::Publish(Publish {
      dup: publish.dup,
      qos: publish.qos as u8,
      retain: publish.retain,
      topic: publish.topic,
      pkid: publish.pkid,
      payload: publish.payload,
      properties: PublishProperties::default(),
    }),
    v4::Packet::PubAck(ack) => Incoming::PubAck(ack.pkid),
    v4::Packet::PubRec(ack) => Incoming::PubRec(ack.pkid),
    v4::Packet::PubRel(ack) => Incoming::PubRel(ack.pkid),
    v4::Packet::PubComp(ack) => Incoming::PubComp(ack.pkid),
    v4::Packet::Subscribe(subscribe) => Incoming::Subscribe(Subscribe {
      pkid: subscribe.pkid,
      filters: subscribe
        .filters
        .into_iter()
        .map(|filter| SubscribeFilter {
          filter: filter.path,
          qos: filter.qos as u8,
          no_local: false,
        })
        .collect(),
      subscription_id: None,
    }),
    v4::Packet::Unsubscribe(unsubscribe) => Incoming::Unsubscribe {
      pkid: unsubscribe.pkid,
      filters: unsubscribe.topics,
    },
    v4::Packet::PingReq => Incoming::PingReq,
    v4::Packet::Disconnect => Incoming::Disconnect(Disconnect {
      reason_code: 0,
      reason: None,
      session_expiry_interval: None,
      user_properties: Vec::new(),
    }),
    v4::Packet::ConnAck(_) => Incoming::Unexpected("CONNACK"),
    v4::Packet::SubAck(_) => Incoming::Unexpected("SUBACK"),
    v4::Packet::UnsubAck(_) => Incoming::Unexpected("UNSUBACK"),
    v4::Packet::PingResp => Incoming::Unexpected("PINGRESP"),
  }))
}

fn decode_v5(buf: &mut BytesMut, max_bytes: usize) -> Result<Option<Incoming>, DecodeError> {
  // rumqttc refuses a DISCONNECT without a reason code, which MQTT 5 allows (normal disconnection).
  if buf.starts_with(&[0xE0, 0x00]) {
    let _ = buf.split_to(2);
    return Ok(Some(Incoming::Disconnect(Disconnect {
      reason_code: 0,
      reason: None,
      session_expiry_interval: None,
      user_properties: Vec::new(),
    })));
  }
  let max = u32::try_from(max_bytes).unwrap_or(u32::MAX);
  let packet = match v5::Packet::read(buf, Some(max)) {
    Ok(packet) => packet,
    Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => return Ok(None),
    Err(rumqttc::v5::mqttbytes::Error::PayloadSizeLimitExceeded { .. }) => {
      return Err(DecodeError::TooLarge(max_bytes))
    }
    Err(rumqttc::v5::mqttbytes::Error::InvalidProtocolLevel(level)) => {
      return Err(DecodeError::UnsupportedProtocol(level))
    }
    Err(e) => return Err(DecodeError::Malformed(e.to_string())),
  };
  Ok(Some(match packet {
    v5::Packet::Connect(connect, will, login) => {
      let properties = connect.properties.unwrap_or_default();
      Incoming::Connect(Box::new(Connect {
        version: Version::V5,
        client_id: connect.client_id,
        clean_start: connect.clean_start,
        keep_alive: connect.keep_alive,
        session_expiry_interval: properties.session_expiry_interval,
        receive_maximum: properties.receive_maximum,
        maximum_packet_size: properties.max_packet_size,
        user_properties: properties.user_properties,
        username: login.as_ref().map(|login| login.username.clone()),
        password: login.map(|login| login.password),
        will: will.map(|will| {
          let properties = will.properties;
          let properties = properties.as_ref();
          Will {
            message: Publish {
              dup: false,
              qos: will.qos as u8,
              retain: will.retain,
              topic: String::from_utf8_lossy(&will.topic).into_owned(),
              pkid: 0,
              payload: will.message,
              properties: properties.map_or_else(PublishProperties::default, |p| {
                PublishProperties {
                  payload_format_indicator: p.payload_format_indicator,
                  message_expiry_interval: p.message_expiry_interval,
                  topic_alias: None,
                  response_topic: p.response_topic.clone(),
                  correlation_data: p.correlation_data.clone(),
                  user_properties: p.user_properties.clone(),
                  subscription_identifiers: Vec::new(),
                  content_type: p.content_type.clone(),
                }
              }),
            },
            delay_interval: properties.and_then(|p| p.delay_interval),
          }
        }),
      }))
    }
    v5::Packet::Publish(publish) => {
      let topic = String::from_utf8(publish.topic.to_vec())
        .map_err(|_| DecodeError::Malformed("the topic is not UTF-8".to_owned()))?;
      let properties = publish.properties.unwrap_or_default();
      Incoming::Publish(Publish {
        dup: publish.dup,
        qos: publish.qos as u8,
        retain: publish.retain,
        topic,
        pkid: publish.pkid,
        payload: publish.payload,
        properties: PublishProperties {
          payload_format_indicator: properties.payload_format_indicator,
          message_expiry_interval: properties.message_expiry_interval,
          topic_alias: properties.topic_alias,
          response_topic: properties.response_topic,
          correlation_data: properties.correlation_data,
          user_properties: properties.user_properties,
          subscription_identifiers: properties.subscription_identifiers,
          content_type: properties.content_type,
        },
      })
    }
    v5::Packet::PubAck(ack) => Incoming::PubAck(ack.pkid),
    v5::Packet::PubRec(ack) => Incoming::PubRec(ack.pkid),
    v5::Packet::PubRel(ack) => Incoming::PubRel(ack.pkid),
    v5::Packet::PubComp(ack) => Incoming::PubComp(ack.pkid),
    v5::Packet::Subscribe(subscribe) => Incoming::Subscribe(Subscribe {
      pkid: subscribe.pkid,
      subscription_id: subscribe.properties.and_then(|p| p.id),
      filters: subscribe
        .filters
        .into_iter()
        .map(|filter| SubscribeFilter {
          filter: filter.path,
          qos: filter.qos as u8,
          no_local: filter.nolocal,
        })
        .collect(),
    }),
    v5::Packet::Unsubscribe(unsubscribe) => Incoming::Unsubscribe {
      pkid: unsubscribe.pkid,
      filters: unsubscribe.filters,
    },
    v5::Packet::PingReq(_) => Incoming::PingReq,
    v5::Packet::Disconnect(disconnect) => {
      let properties = disconnect.properties;
      Incoming::Disconnect(Disconnect {
        reason_code: disconnect.reason_code as u8,
        reason: properties.as_ref().and_then(|p| p.reason_string.clone()),
        session_expiry_interval: properties.as_ref().and_then(|p| p.session_expiry_interval),
        user_properties: properties.map(|p| p.user_properties).unwrap_or_default(),
      })
    }
    v5::Packet::Auth(_) => Incoming::Unexpected("AUTH"),
    v5::Packet::ConnAck(_) => Incoming::Unexpected("CONNACK"),
    v5::Packet::SubAck(_) => Incoming::Unexpected("SUBACK"),
    v5::Packet::UnsubAck(_) => Incoming::Unexpected("UNSUBACK"),
    v5::Packet::PingResp(_) => Incoming::Unexpected("PINGRESP"),
  }))
}

/// MQTT 5 reason codes (3.1.1 return codes are mapped from them when encoding).
pub mod reason {
  pub const SUCCESS: u8 = 0x00;
  pub const GRANTED_QOS_1: u8 = 0x01;
  pub const GRANTED_QOS_2: u8 = 0x02;
  pub const NO_SUBSCRIPTION_EXISTED: u8 = 0x11;
  pub const UNSPECIFIED_ERROR: u8 = 0x80;
  pub const MALFORMED_PACKET: u8 = 0x81;
  pub const PROTOCOL_ERROR: u8 = 0x82;
  pub const UNSUPPORTED_PROTOCOL_VERSION: u8 = 0x84;
  pub const CLIENT_IDENTIFIER_NOT_VALID: u8 = 0x85;
  pub const NOT_AUTHORIZED: u8 = 0x87;
  pub const SERVER_SHUTTING_DOWN: u8 = 0x8B;
  pub const KEEP_ALIVE_TIMEOUT: u8 = 0x8D;
  pub const SESSION_TAKEN_OVER: u8 = 0x8E;
  pub const TOPIC_FILTER_INVALID: u8 = 0x8F;
  pub const TOPIC_NAME_INVALID: u8 = 0x90;
  pub const RECEIVE_MAXIMUM_EXCEEDED: u8 = 0x93;
  pub const TOPIC_ALIAS_INVALID: u8 = 0x94;
  pub const PACKET_TOO_LARGE: u8 = 0x95;
  pub const ADMINISTRATIVE_ACTION: u8 = 0x98;
  pub const RETAIN_NOT_SUPPORTED: u8 = 0x9A;
  pub const SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0x9E;
  pub const WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0xA2;
}

/// What the service tells an MQTT 5 client in its CONNACK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAckProperties {
  pub assigned_client_id: Option<String>,
  pub server_keep_alive: Option<u16>,
  pub receive_maximum: Option<u16>,
  pub maximum_packet_size: Option<u32>,
  pub reason: Option<String>,
  pub user_properties: Vec<(String, String)>,
}

/// A packet the service sends. Codes are MQTT 5 reason codes ([`reason`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
  ConnAck {
    session_present: bool,
    code: u8,
    properties: ConnAckProperties,
  },
  SubAck {
    pkid: u16,
    codes: Vec<u8>,
  },
  UnsubAck {
    pkid: u16,
    codes: Vec<u8>,
  },
  PubAck {
    pkid: u16,
    code: u8,
  },
  PubRec {
    pkid: u16,
    code: u8,
  },
  PubRel {
    pkid: u16,
  },
  PubComp {
    pkid: u16,
  },
  Publish(Publish),
  PingResp,
  /// MQTT 5 only: a 3.1.1 client is told nothing before its connection closes.
  Disconnect {
    code: u8,
    reason: Option<String>,
  },
}

/// Appends `packet` to `buf`. Nothing is written for what the version cannot say (a 3.1.1
/// DISCONNECT from the server).
pub fn encode(packet: Outgoing, version: Version, buf: &mut BytesMut) {
  let written = match version {
    Version::V311 => encode_v4(packet, buf).map_err(|e| e.to_string()),
    Version::V5 => encode_v5(packet, buf).map_err(|e| e.to_string()),
  };
  // Every packet is built here from valid parts; a failure is a bug, never the peer's doing.
  debug_assert!(written.is_ok(), "MQTT packet encoding failed: {written:?}");
}

fn v4_qos(qos: u8) -> rumqttc::mqttbytes::QoS {
  match qos {
    0 => rumqttc::mqttbytes::QoS::AtMostOnce,
    1 => rumqttc::mqttbytes::QoS::AtLeastOnce,
    _ => rumqttc::mqttbytes::QoS::ExactlyOnce,
  }
}

fn v5_qos(qos: u8) -> rumqttc::v5::mqttbytes::QoS {
  match qos {
    0 => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
    1 => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
    _ => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
  }
}

fn encode_v4(packet: Outgoing, buf: &mut BytesMut) -> Result<(), rumqttc::mqttbytes::Error> {
  let packet = match packet {
    Outgoing::ConnAck {
      session_present,
      code,
      ..
    } => v4::Packet::ConnAck(v4::ConnAck {
      session_present,
      code: match code {
        reason::SUCCESS => v4::ConnectReturnCode::Success,
        reason::UNSUPPORTED_PROTOCOL_VERSION => v4::ConnectReturnCode::RefusedProtocolVersion,
        reason::CLIENT_IDENTIFIER_NOT_VALID => v4::ConnectReturnCode::BadClientId,
        0x86 => v4::ConnectReturnCode::BadUserNamePassword,
        0x87 | 0x8A => v4::ConnectReturnCode::NotAuthorized,
        _ => v4::ConnectReturnCode::ServiceUnavailable,
      },
    }),
    Outgoing::SubAck { pkid, codes } => v4::Packet::SubAck(v4::SubAck {
      pkid,
      return_codes: codes
        .into_iter()
        .map(|code| match code {
          0..=2 => v4::SubscribeReasonCode::Success(v4_qos(code)),
          _ => v4::SubscribeReasonCode::Failure,
        })
        .collect(),
    }),
    Outgoing::UnsubAck { pkid, .. } => v4::Packet::UnsubAck(v4::UnsubAck { pkid }),
    Outgoing::PubAck { pkid, .. } => v4::Packet::PubAck(v4::PubAck { pkid }),
    Outgoing::PubRec { pkid, .. } => v4::Packet::PubRec(v4::PubRec { pkid }),
    Outgoing::PubRel { pkid } => v4::Packet::PubRel(v4::PubRel { pkid }),
    Outgoing::PubComp { pkid } => v4::Packet::PubComp(v4::PubComp { pkid }),
    Outgoing::Publish(publish) => v4::Packet::Publish(v4::Publish {
      dup: publish.dup,
      qos: v4_qos(publish.qos),
      retain: publish.retain,
      topic: publish.topic,
      pkid: publish.pkid,
      payload: publish.payload,
    }),
    Outgoing::PingResp => v4::Packet::PingResp,
    Outgoing::Disconnect { .. } => return Ok(()),
  };
  packet.write(buf, usize::MAX).map(|_| ())
}

fn encode_v5(packet: Outgoing, buf: &mut BytesMut) -> Result<(), rumqttc::v5::mqttbytes::Error> {
  let packet = match packet {
    Outgoing::ConnAck {
      session_present,
      code,
      properties,
    } => v5::Packet::ConnAck(v5::ConnAck {
      session_present,
      code: connect_return_code(code),
      properties: Some(v5::ConnAckProperties {
        session_expiry_interval: None,
        receive_max: properties.receive_maximum,
        max_qos: None,
        // The service keeps no retained messages, and has no wildcard or shared subscriptions.
        retain_available: Some(0),
        max_packet_size: properties.maximum_packet_size,
        assigned_client_identifier: properties.assigned_client_id,
        topic_alias_max: None,
        reason_string: properties.reason,
        user_properties: properties.user_properties,
        wildcard_subscription_available: Some(0),
        subscription_identifiers_available: Some(1),
        shared_subscription_available: Some(0),
        server_keep_alive: properties.server_keep_alive,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
      }),
    }),
    Outgoing::SubAck { pkid, codes } => v5::Packet::SubAck(v5::SubAck {
      pkid,
      return_codes: codes.into_iter().map(subscribe_reason).collect(),
      properties: None,
    }),
    Outgoing::UnsubAck { pkid, codes } => v5::Packet::UnsubAck(v5::UnsubAck {
      pkid,
      reasons: codes
        .into_iter()
        .map(|code| match code {
          reason::SUCCESS => v5::UnsubAckReason::Success,
          reason::NO_SUBSCRIPTION_EXISTED => v5::UnsubAckReason::NoSubscriptionExisted,
          reason::NOT_AUTHORIZED => v5::UnsubAckReason::NotAuthorized,
          reason::TOPIC_FILTER_INVALID => v5::UnsubAckReason::TopicFilterInvalid,
          _ => v5::UnsubAckReason::UnspecifiedError,
        })
        .collect(),
      properties: None,
    }),
    Outgoing::PubAck { pkid, code } => v5::Packet::PubAck(v5::PubAck {
      pkid,
      reason: match code {
        reason::SUCCESS => v5::PubAckReason::Success,
        reason::NOT_AUTHORIZED => v5::PubAckReason::NotAuthorized,
        reason::TOPIC_NAME_INVALID => v5::PubAckReason::TopicNameInvalid,
        _ => v5::PubAckReason::UnspecifiedError,
      },
      properties: None,
    }),
    Outgoing::PubRec { pkid, code } => v5::Packet::PubRec(v5::PubRec {
      pkid,
      reason: match code {
        reason::SUCCESS => v5::PubRecReason::Success,
        reason::NOT_AUTHORIZED => v5::PubRecReason::NotAuthorized,
        reason::TOPIC_NAME_INVALID => v5::PubRecReason::TopicNameInvalid,
        _ => v5::PubRecReason::UnspecifiedError,
      },
      properties: None,
    }),
    Outgoing::PubRel { pkid } => v5::Packet::PubRel(v5::PubRel {
      pkid,
      reason: v5::PubRelReason::Success,
      properties: None,
    }),
    Outgoing::PubComp { pkid } => v5::Packet::PubComp(v5::PubComp {
      pkid,
      reason: v5::PubCompReason::Success,
      properties: None,
    }),
    Outgoing::Publish(publish) => {
      let p = publish.properties;
      let empty = p == PublishProperties::default();
      v5::Packet::Publish(v5::Publish {
        dup: publish.dup,
        qos: v5_qos(publish.qos),
        retain: publish.retain,
        topic: Bytes::from(publish.topic),
        pkid: publish.pkid,
        payload: publish.payload,
        properties: (!empty).then_some(v5::PublishProperties {
          payload_format_indicator: p.payload_format_indicator,
          message_expiry_interval: p.message_expiry_interval,
          topic_alias: None,
          response_topic: p.response_topic,
          correlation_data: p.correlation_data,
          user_properties: p.user_properties,
          subscription_identifiers: p.subscription_identifiers,
          content_type: p.content_type,
        }),
      })
    }
    Outgoing::PingResp => v5::Packet::PingResp(v5::PingResp),
    // rumqttc writes a DISCONNECT with a reason code and no properties wrongly (as a normal
    // disconnection, or one byte longer than its declared length): those four bytes are written
    // here.
    Outgoing::Disconnect { code, reason: None } if code != reason::SUCCESS => {
      buf.extend_from_slice(&[0xE0, 2, code, 0]);
      return Ok(());
    }
    Outgoing::Disconnect { code, reason } => v5::Packet::Disconnect(v5::Disconnect {
      reason_code: disconnect_reason(code),
      properties: reason.map(|reason| v5::DisconnectProperties {
        session_expiry_interval: None,
        reason_string: Some(reason),
        user_properties: Vec::new(),
        server_reference: None,
      }),
    }),
  };
  packet.write(buf, None).map(|_| ())
}

fn subscribe_reason(code: u8) -> v5::SubscribeReasonCode {
  match code {
    0..=2 => v5::SubscribeReasonCode::Success(v5_qos(code)),
    reason::NOT_AUTHORIZED => v5::SubscribeReasonCode::NotAuthorized,
    reason::TOPIC_FILTER_INVALID => v5::SubscribeReasonCode::TopicFilterInvalid,
    reason::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED => {
      v5::SubscribeReasonCode::SharedSubscriptionsNotSupported
    }
    reason::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED => {
      v5::SubscribeReasonCode::WildcardSubscriptionsNotSupported
    }
    _ => v5::SubscribeReasonCode::Unspecified,
  }
}

/// A CONNACK reason code; one MQTT 5 does not define is sent as "unspecified error", as the
/// service does with an event handler's invalid code.
fn connect_return_code(code: u8) -> v5::ConnectReturnCode {
  use v5::ConnectReturnCode as C;
  match code {
    0x00 => C::Success,
    0x81 => C::MalformedPacket,
    0x82 => C::ProtocolError,
    0x83 => C::ImplementationSpecificError,
    0x84 => C::UnsupportedProtocolVersion,
    0x85 => C::ClientIdentifierNotValid,
    0x86 => C::BadUserNamePassword,
    0x87 => C::NotAuthorized,
    0x88 => C::ServerUnavailable,
    0x89 => C::ServerBusy,
    0x8A => C::Banned,
    0x8C => C::BadAuthenticationMethod,
    0x90 => C::TopicNameInvalid,
    0x95 => C::PacketTooLarge,
    0x97 => C::QuotaExceeded,
    0x99 => C::PayloadFormatInvalid,
    0x9A => C::RetainNotSupported,
    0x9B => C::QoSNotSupported,
    0x9C => C::UseAnotherServer,
    0x9D => C::ServerMoved,
    0x9F => C::ConnectionRateExceeded,
    _ => C::UnspecifiedError,
  }
}

fn disconnect_reason(code: u8) -> v5::DisconnectReasonCode {
  use v5::DisconnectReasonCode as D;
  match code {
    0x00 => D::NormalDisconnection,
    0x81 => D::MalformedPacket,
    0x82 => D::ProtocolError,
    0x87 => D::NotAuthorized,
    0x8B => D::ServerShuttingDown,
    0x8D => D::KeepAliveTimeout,
    0x8E => D::SessionTakenOver,
    0x8F => D::TopicFilterInvalid,
    0x90 => D::TopicNameInvalid,
    0x93 => D::ReceiveMaximumExceeded,
    0x94 => D::TopicAliasInvalid,
    0x95 => D::PacketTooLarge,
    0x98 => D::AdministrativeAction,
    0x9A => D::RetainNotSupported,
    0x9E => D::SharedSubscriptionNotSupported,
    0xA2 => D::WildcardSubscriptionsNotSupported,
    _ => D::UnspecifiedError,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const CONNECT_V5: [u8; 18] = [
    0x10, 16, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 0, 0, 3, b'a', b'b', b'c',
  ];

  #[test]
  fn the_connect_level_is_read_once_its_header_is_complete() {
    assert_eq!(connect_level(&CONNECT_V5[..8]), Ok(None));
    assert_eq!(connect_level(&CONNECT_V5), Ok(Some(5)));
    let mqtt31 = [0x10, 12, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 2];
    assert_eq!(
      connect_level(&mqtt31),
      Err(DecodeError::UnsupportedProtocol(3))
    );
    assert!(connect_level(&[0x30, 0]).is_err());
  }

  #[test]
  fn packets_are_decoded_whole_and_in_order() {
    let mut buf = BytesMut::from(&CONNECT_V5[..10]);
    assert_eq!(decode(&mut buf, Version::V5, 1024), Ok(None));
    buf.extend_from_slice(&CONNECT_V5[10..]);
    // A PINGREQ and a DISCONNECT without reason code (normal) follow in the same frame.
    buf.extend_from_slice(&[0xC0, 0, 0xE0, 0]);
    let Ok(Some(Incoming::Connect(connect))) = decode(&mut buf, Version::V5, 1024) else {
      panic!("a CONNECT");
    };
    assert_eq!(
      (
        connect.client_id.as_str(),
        connect.keep_alive,
        connect.clean_start
      ),
      ("abc", 60, true)
    );
    assert_eq!(
      decode(&mut buf, Version::V5, 1024),
      Ok(Some(Incoming::PingReq))
    );
    assert!(matches!(
      decode(&mut buf, Version::V5, 1024),
      Ok(Some(Incoming::Disconnect(Disconnect {
        reason_code: 0,
        ..
      })))
    ));
    assert!(buf.is_empty());
  }

  #[test]
  fn a_publish_head_and_its_payload_make_the_whole_packet() {
    for (version, size) in [
      (Version::V311, 10),
      (Version::V5, 100),
      (Version::V5, 200_000),
    ] {
      let publish = Publish {
        dup: false,
        qos: 1,
        retain: false,
        topic: "t".to_owned(),
        pkid: 7,
        payload: Bytes::from(vec![5; size]),
        properties: PublishProperties::default(),
      };
      let mut whole = BytesMut::new();
      encode(Outgoing::Publish(publish.clone()), version, &mut whole);
      let mut head = BytesMut::new();
      let payload = encode_publish_head(publish, version, &mut head);
      head.extend_from_slice(&payload);
      assert_eq!(head, whole, "{version:?}, {size} bytes");
    }
  }

  #[test]
  fn oversize_and_malformed_packets_are_errors() {
    let mut big = BytesMut::from(&[0x30, 0xFF, 0xFF, 0x03][..]);
    assert_eq!(
      decode(&mut big, Version::V311, 1024),
      Err(DecodeError::TooLarge(1024))
    );
    let mut bad = BytesMut::from(&[0x82, 2, 0, 1][..]);
    assert!(matches!(
      decode(&mut bad, Version::V311, 1024),
      Err(DecodeError::Malformed(_))
    ));
  }

  #[test]
  fn a_311_suback_maps_refusals_to_0x80_and_disconnect_is_silent() {
    let mut buf = BytesMut::new();
    let suback = Outgoing::SubAck {
      pkid: 7,
      codes: vec![1, reason::NOT_AUTHORIZED],
    };
    encode(suback, Version::V311, &mut buf);
    assert_eq!(&buf[..], &[0x90, 4, 0, 7, 1, 0x80]);
    buf.clear();
    let disconnect = Outgoing::Disconnect {
      code: reason::ADMINISTRATIVE_ACTION,
      reason: None,
    };
    encode(disconnect, Version::V311, &mut buf);
    assert!(buf.is_empty());
    encode(
      Outgoing::Disconnect {
        code: 0x98,
        reason: None,
      },
      Version::V5,
      &mut buf,
    );
    assert_eq!(&buf[..], &[0xE0, 2, 0x98, 0]);
    buf.clear();
    let disconnect = Outgoing::Disconnect {
      code: reason::KEEP_ALIVE_TIMEOUT,
      reason: Some("late".to_owned()),
    };
    encode(disconnect, Version::V5, &mut buf);
    let Ok(v5::Packet::Disconnect(read)) = v5::Packet::read(&mut buf, None) else {
      panic!("a DISCONNECT");
    };
    assert_eq!(read.reason_code, v5::DisconnectReasonCode::KeepAliveTimeout);
    assert_eq!(
      read.properties.and_then(|p| p.reason_string).as_deref(),
      Some("late")
    );
  }
}
