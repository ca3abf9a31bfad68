//! Message payload kinds of the send operations and their content types.

/// What a send operation's body is; decides the `Content-Type` and the data type clients see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
  /// `application/json`; JSON-subprotocol clients receive `dataType: "json"`.
  Json,
  /// `text/plain`; clients receive `dataType: "text"`.
  Text,
  /// `application/octet-stream`; clients receive `dataType: "binary"`.
  Binary,
  /// A serialized `google.protobuf.Any` from a protobuf-subprotocol client: `application/x-protobuf` to
  /// event handlers, `dataType: "protobuf"` (base64) to JSON-subprotocol clients. Never a REST body.
  Protobuf,
}

impl ContentKind {
  /// The `Content-Type` the SDK sends for this kind (no parameters).
  pub fn content_type(self) -> &'static str {
    match self {
      Self::Json => "application/json",
      Self::Text => "text/plain",
      Self::Binary => "application/octet-stream",
      Self::Protobuf => "application/x-protobuf",
    }
  }

  /// The `dataType` value of the JSON subprotocols.
  pub fn data_type(self) -> &'static str {
    match self {
      Self::Json => "json",
      Self::Text => "text",
      Self::Binary => "binary",
      Self::Protobuf => "protobuf",
    }
  }

  /// The kind of a REST body's or event handler answer's `Content-Type` value (never [`Self::Protobuf`]); the media type is compared case-insensitively
  /// and parameters (`; charset=utf-8`) are ignored. `None` for any other media type.
  pub fn from_content_type(value: &str) -> Option<Self> {
    let media_type = value.split(';').next().unwrap_or_default().trim();
    [Self::Json, Self::Text, Self::Binary]
      .into_iter()
      .find(|kind| kind.content_type().eq_ignore_ascii_case(media_type))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_and_parsing() {
    assert_eq!(ContentKind::Json.content_type(), "application/json");
    assert_eq!(ContentKind::Text.content_type(), "text/plain");
    assert_eq!(
      ContentKind::Binary.content_type(),
      "application/octet-stream"
    );
    assert_eq!(ContentKind::Json.data_type(), "json");
    assert_eq!(ContentKind::Text.data_type(), "text");
    assert_eq!(ContentKind::Binary.data_type(), "binary");
    assert_eq!(
      ContentKind::from_content_type("Application/JSON; charset=utf-8"),
      Some(ContentKind::Json)
    );
    assert_eq!(
      ContentKind::from_content_type(" text/plain ;charset=iso-8859-1"),
      Some(ContentKind::Text)
    );
    assert_eq!(
      ContentKind::from_content_type("application/octet-stream"),
      Some(ContentKind::Binary)
    );
    assert_eq!(ContentKind::from_content_type("text/json"), None);
    assert_eq!(
      ContentKind::from_content_type("application/x-protobuf"),
      None
    );
    assert_eq!(ContentKind::Protobuf.data_type(), "protobuf");
    assert_eq!(ContentKind::from_content_type(""), None);
  }
}
