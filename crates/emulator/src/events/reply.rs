//! A user event's successful response turned into the server message the client receives: the body
//! with its kind from `Content-Type` (absent = binary) and `x-webpubsub-metadata-*` headers as metadata.
//! An empty body produces a message only when metadata came with it.

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use webpubsub_protocol::payload::ContentKind;

use super::cloudevents::METADATA_HEADER_PREFIX;
use super::dispatcher::HandlerResponse;
use crate::state::{DataMessage, MessageSource};

/// Why a handler's reply cannot be sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Content-Type '{0}' in the handler response")]
pub struct UnsupportedReply(pub String);

/// The message a response asks to send back, if any.
pub fn reply_message(response: HandlerResponse) -> Result<Option<DataMessage>, UnsupportedReply> {
  let metadata = metadata(&response.headers);
  if response.body.is_empty() && metadata.is_empty() {
    return Ok(None);
  }
  let kind = match response.headers.get(CONTENT_TYPE) {
    None => ContentKind::Binary,
    Some(value) => {
      let text = value.to_str().unwrap_or_default();
      ContentKind::from_content_type(text).ok_or_else(|| UnsupportedReply(text.to_owned()))?
    }
  };
  Ok(Some(
    DataMessage::new(kind, response.body, MessageSource::Server).with_metadata(metadata),
  ))
}

/// `x-webpubsub-metadata-<key>` headers as sorted (key, value) pairs.
fn metadata(headers: &HeaderMap) -> Vec<(String, String)> {
  let mut pairs: Vec<(String, String)> = headers
    .iter()
    .filter_map(|(name, value)| {
      let key = name.as_str().strip_prefix(METADATA_HEADER_PREFIX)?;
      Some((key.to_owned(), value.to_str().ok()?.to_owned()))
    })
    .collect();
  pairs.sort();
  pairs
}

#[cfg(test)]
mod tests {
  use bytes::Bytes;
  use reqwest::header::HeaderValue;

  use super::*;

  fn response(content_type: Option<&'static str>, body: &'static [u8]) -> HandlerResponse {
    let mut headers = HeaderMap::new();
    if let Some(value) = content_type {
      headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }
    HandlerResponse {
      status: reqwest::StatusCode::OK,
      headers,
      body: Bytes::from_static(body),
    }
  }

  #[test]
  fn kinds_follow_the_content_type() {
    let text = reply_message(response(Some("text/plain; charset=utf-8"), b"hi"))
      .unwrap()
      .unwrap();
    assert_eq!((text.kind, &text.data[..]), (ContentKind::Text, &b"hi"[..]));
    let json = reply_message(response(Some("application/json"), b"{}"))
      .unwrap()
      .unwrap();
    assert_eq!(json.kind, ContentKind::Json);
    let binary = reply_message(response(None, b"\x00")).unwrap().unwrap();
    assert_eq!(binary.kind, ContentKind::Binary);
    assert_eq!(binary.source, MessageSource::Server);
  }

  #[test]
  fn empty_bodies_and_unknown_types() {
    assert!(reply_message(response(Some("text/plain"), b""))
      .unwrap()
      .is_none());
    assert_eq!(
      reply_message(response(Some("image/png"), b"x")).unwrap_err(),
      UnsupportedReply("image/png".into())
    );
    let mut with_metadata = response(None, b"");
    with_metadata
      .headers
      .insert("x-webpubsub-metadata-Trace", HeaderValue::from_static("1"));
    let message = reply_message(with_metadata).unwrap().unwrap();
    assert_eq!(message.metadata, vec![("trace".to_owned(), "1".to_owned())]);
  }
}
