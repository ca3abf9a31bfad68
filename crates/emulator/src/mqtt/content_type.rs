//! The one rule between MQTT 5 content types and the data types of the other client protocols
//! (JSON, text, binary, protobuf); a publication without one (all of MQTT 3.1.1's) is binary.

use webpubsub_protocol::payload::ContentKind;

/// The MQTT 5 content type of a payload kind, and back (absent: binary, as for 3.1.1 clients).
pub fn content_type(kind: ContentKind) -> &'static str {
  match kind {
    ContentKind::Json => "application/json",
    ContentKind::Text => "text/plain",
    ContentKind::Binary => "application/octet-stream",
    ContentKind::Protobuf => "application/x-protobuf",
  }
}

pub fn payload_kind(content_type: Option<&str>) -> ContentKind {
  let essence = content_type
    .and_then(|ct| ct.split(';').next())
    .map(|ct| ct.trim().to_ascii_lowercase());
  match essence.as_deref() {
    Some("application/json") => ContentKind::Json,
    Some("text/plain") => ContentKind::Text,
    Some("application/x-protobuf") => ContentKind::Protobuf,
    _ => ContentKind::Binary,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn content_types_map_to_payload_kinds_and_back() {
    for kind in [
      ContentKind::Json,
      ContentKind::Text,
      ContentKind::Binary,
      ContentKind::Protobuf,
    ] {
      assert_eq!(payload_kind(Some(content_type(kind))), kind);
    }
    assert_eq!(
      payload_kind(Some("application/json; charset=utf-8")),
      ContentKind::Json
    );
    assert_eq!(payload_kind(None), ContentKind::Binary);
    assert_eq!(payload_kind(Some("image/png")), ContentKind::Binary);
  }
}
