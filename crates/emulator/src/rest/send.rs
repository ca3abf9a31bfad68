//! Send operations: to all, to a group, to a user, to a connection (all answer 202).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use webpubsub_protocol::payload::ContentKind;

use super::{empty, metadata, RestCall, MAX_BODY_BYTES};
use crate::error::RestError;
use crate::odata::Filter;
use crate::state::{DataMessage, MessageSource, Selection};
use crate::trace::{Category, Level, TraceRecord};

/// A message ready to fan out, and who must not or need not get it.
struct SendRequest {
  message: Arc<DataMessage>,
  excluded: Vec<String>,
  filter: Option<Filter>,
}

impl SendRequest {
  fn selection(&self) -> Selection<'_> {
    Selection {
      excluded: &self.excluded,
      filter: self.filter.as_ref(),
    }
  }
}

/// Parses an OData `filter` query parameter; empty means no filter.
pub(super) fn parse_filter(text: Option<&str>, target: &str) -> Result<Option<Filter>, RestError> {
  match text.map(str::trim).filter(|text| !text.is_empty()) {
    None => Ok(None),
    Some(text) => Filter::parse(text)
      .map(Some)
      .map_err(|error| RestError::validation(target, format!("{error} (Parameter 'filter')"))),
  }
}

/// Reads a body of at most [`MAX_BODY_BYTES`].
pub(super) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, RestError> {
  let declared = headers
    .get(header::CONTENT_LENGTH)
    .and_then(|value| value.to_str().ok())
    .and_then(|value| value.parse::<u64>().ok());
  if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
    return Err(RestError::PayloadTooLarge);
  }
  axum::body::to_bytes(body, MAX_BODY_BYTES)
    .await
    .map_err(|_| RestError::PayloadTooLarge)
}

/// The payload kind of a send body by `Content-Type` (415 for others), with JSON checked
/// for syntax and text for UTF-8. A missing `Content-Type` means binary.
fn payload_kind(headers: &HeaderMap, data: &[u8]) -> Result<ContentKind, RestError> {
  let kind = match headers.get(header::CONTENT_TYPE) {
    None => ContentKind::Binary,
    Some(value) => value
      .to_str()
      .ok()
      .and_then(ContentKind::from_content_type)
      .ok_or(RestError::UnsupportedMediaType)?,
  };
  match kind {
    ContentKind::Json if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_err() => Err(
      RestError::bad_request("The request body is not valid JSON.", "Request"),
    ),
    ContentKind::Text if std::str::from_utf8(data).is_err() => Err(RestError::bad_request(
      "The request body is not valid UTF-8 text.",
      "Request",
    )),
    kind => Ok(kind),
  }
}

/// Validates everything a send takes before anything is delivered.
async fn prepare(
  call: &RestCall,
  headers: &HeaderMap,
  body: Body,
  allows_excluded: bool,
  allows_filter: bool,
  source: MessageSource,
) -> Result<SendRequest, RestError> {
  let excluded = if allows_excluded {
    call.query.all("excluded")
  } else {
    Vec::new()
  };
  let filter = if allows_filter {
    parse_filter(call.query.one("filter")?.as_deref(), "filter")?
  } else {
    None
  };
  let ttl_seconds = call
    .query
    .int_in_range("messageTtlSeconds", 0, 300)?
    .unwrap_or(0);
  let metadata = metadata::from_headers(headers)?;
  let data = read_body(headers, body).await?;
  let kind = payload_kind(headers, &data)?;
  let message = DataMessage::new(kind, data, source)
    .with_metadata(metadata)
    .with_ttl_seconds(ttl_seconds as u64);
  Ok(SendRequest {
    message: Arc::new(message),
    excluded,
    filter,
  })
}

fn accepted() -> Result<Response, RestError> {
  Ok(empty(StatusCode::ACCEPTED))
}

/// Records a REST send in the live trace: one record however many connections it reached.
fn trace(
  call: &RestCall,
  event: &'static str,
  target: String,
  request: &SendRequest,
  recipients: usize,
) {
  let message = &request.message;
  let mut record = TraceRecord::new(
    Category::Messaging,
    Level::Information,
    event,
    format!("The server sent a message to {target}."),
  )
  .hub(&call.hub_name.to_lowercase())
  .delivery(message.kind.content_type(), message.data.len(), recipients);
  if let MessageSource::Group { group, .. } = &message.source {
    record = record.group(group);
  }
  call.state.tracer.record(record);
}

pub(super) async fn to_all(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  let request = prepare(&call, &headers, body, true, true, MessageSource::Server).await?;
  let recipients = call.hub().map_or(0, |hub| {
    hub.send_to_all(&request.message, request.selection())
  });
  trace(
    &call,
    "BroadcastMessageSent",
    "all connections".to_owned(),
    &request,
    recipients,
  );
  accepted()
}

pub(super) async fn to_group(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  // The service delivers REST group sends to JSON clients as group messages with no sender.
  let source = MessageSource::Group {
    group: call.param("group").to_owned(),
    from_user_id: None,
  };
  let request = prepare(&call, &headers, body, true, true, source).await?;
  let group = call.param("group");
  let recipients = call.hub().map_or(0, |hub| {
    hub.send_to_group(group, &request.message, request.selection(), None)
  });
  trace(
    &call,
    "GroupMessageSent",
    format!("group '{group}'"),
    &request,
    recipients,
  );
  accepted()
}

pub(super) async fn to_user(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  let request = prepare(&call, &headers, body, false, true, MessageSource::Server).await?;
  let user = call.param("userId");
  let recipients = call.hub().map_or(0, |hub| {
    hub.send_to_user(user, &request.message, request.selection())
  });
  trace(
    &call,
    "UserMessageSent",
    format!("user '{user}'"),
    &request,
    recipients,
  );
  accepted()
}

pub(super) async fn to_connection(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  let request = prepare(&call, &headers, body, false, false, MessageSource::Server).await?;
  let id = call.param("connectionId");
  let delivered = call
    .hub()
    .is_some_and(|hub| hub.send_to_connection(id, &request.message));
  let recipients = usize::from(delivered);
  trace(
    &call,
    "ConnectionMessageSent",
    format!("connection '{id}'"),
    &request,
    recipients,
  );
  accepted()
}
