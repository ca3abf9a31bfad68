//! Group operations: exists, list members (paged), add/remove a connection, close members, and
//! the filter-based bulk membership calls `:addToGroups` / `:removeFromGroups`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;
use webpubsub_protocol::names::{self, NameError};

use super::connections::close_reason;
use super::send::{parse_filter, read_body};
use super::{empty, RestCall};
use crate::error::RestError;
use crate::state::GroupMember;

/// Items per page when `maxpagesize` is not given.
const DEFAULT_PAGE_SIZE: i64 = 200;

pub(super) async fn exists(call: RestCall) -> Result<Response, RestError> {
  let group = call.param("group");
  if call.hub().is_some_and(|hub| hub.group_exists(group)) {
    Ok(empty(StatusCode::OK))
  } else {
    Err(RestError::not_existed(
      "Warning.Group.NotExisted",
      "Group",
      group,
    ))
  }
}

pub(super) async fn add_connection(call: RestCall) -> Result<Response, RestError> {
  let id = call.param("connectionId");
  if call
    .hub()
    .is_some_and(|hub| hub.join_group(id, call.param("group")))
  {
    Ok(empty(StatusCode::OK))
  } else {
    Err(RestError::not_existed(
      "Error.Connection.NotExisted",
      "Connection",
      id,
    ))
  }
}

pub(super) async fn remove_connection(call: RestCall) -> Result<Response, RestError> {
  if let Some(hub) = call.hub() {
    hub.leave_group(call.param("connectionId"), call.param("group"));
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn close_connections(call: RestCall) -> Result<Response, RestError> {
  let reason = close_reason(&call)?;
  if let Some(hub) = call.hub() {
    hub.close_group(call.param("group"), &call.query.all("excluded"), &reason);
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

/// The validated body of `:addToGroups` / `:removeFromGroups`.
struct GroupsRequest {
  groups: Vec<String>,
  filter: Option<crate::odata::Filter>,
}

async fn groups_request(
  call: &RestCall,
  headers: &HeaderMap,
  body: Body,
) -> Result<GroupsRequest, RestError> {
  call.version.require("2023-07-01", &call.uri)?;
  let is_json = headers
    .get(header::CONTENT_TYPE)
    .and_then(|value| value.to_str().ok())
    .and_then(|value| value.split(';').next())
    .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
  if !is_json {
    return Err(RestError::UnsupportedMediaType);
  }
  let bytes = read_body(headers, body).await?;
  let value: serde_json::Value = serde_json::from_slice(&bytes)
    .map_err(|_| RestError::validation("body", "The request body is not valid JSON."))?;
  let object = value
    .as_object()
    .ok_or_else(|| RestError::validation("body", "The request body must be a JSON object."))?;
  let field = |name: &str| {
    object
      .iter()
      .find(|(key, _)| key.eq_ignore_ascii_case(name))
      .map(|(_, value)| value)
  };
  let groups: Vec<String> = match field("groups") {
    Some(serde_json::Value::Array(items)) if !items.is_empty() => items
      .iter()
      .map(|item| {
        item
          .as_str()
          .filter(|group| names::validate_group(group).is_ok())
          .map(str::to_owned)
      })
      .collect::<Option<_>>()
      .ok_or_else(invalid_groups)?,
    _ => return Err(invalid_groups()),
  };
  let filter = match field("filter") {
    None | Some(serde_json::Value::Null) => None,
    Some(serde_json::Value::String(text)) => parse_filter(Some(text), "Filter")?,
    Some(_) => {
      return Err(RestError::validation(
        "Filter",
        "The filter must be a string.",
      ))
    }
  };
  Ok(GroupsRequest { groups, filter })
}

fn invalid_groups() -> RestError {
  RestError::validation("Groups", NameError::InvalidGroup.to_string())
}

pub(super) async fn add_matching_to_groups(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  let request = groups_request(&call, &headers, body).await?;
  if let Some(hub) = call.hub() {
    hub.add_matching_to_groups(&request.groups, request.filter.as_ref());
  }
  Ok(empty(StatusCode::OK))
}

pub(super) async fn remove_matching_from_groups(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  let request = groups_request(&call, &headers, body).await?;
  if let Some(hub) = call.hub() {
    hub.remove_matching_from_groups(&request.groups, request.filter.as_ref());
  }
  Ok(empty(StatusCode::OK))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Member {
  connection_id: String,
  user_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
  value: Vec<Member>,
  #[serde(skip_serializing_if = "Option::is_none")]
  next_link: Option<String>,
}

/// Continuation tokens are opaque to clients: base64url of `[group, last connection id]`, so a
/// token only continues the listing of the group it came from.
fn encode_continuation(group: &str, last_id: &str) -> String {
  let json = serde_json::json!([group, last_id]).to_string();
  base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_continuation(token: &str, group: &str) -> Result<String, RestError> {
  let invalid =
    || RestError::validation("continuationToken", "The continuation token is not valid.");
  let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
    .decode(token)
    .map_err(|_| invalid())?;
  let (token_group, last_id): (String, String) =
    serde_json::from_slice(&bytes).map_err(|_| invalid())?;
  if token_group != group {
    return Err(invalid());
  }
  Ok(last_id)
}

fn encode_query_value(value: &str) -> String {
  url::form_urlencoded::byte_serialize(value.as_bytes())
    .collect::<String>()
    .replace('+', "%20")
}

pub(super) async fn list_connections(call: RestCall) -> Result<Response, RestError> {
  call.version.require("2024-12-01", &call.uri)?;
  let group = call.param("group");
  let page_size = call.query.int_in_range("maxpagesize", 1, 200)?;
  let top = call.query.int_in_range("top", 1, i32::MAX as i64)?;
  let after = match call.query.one("continuationToken")? {
    Some(token) => Some(decode_continuation(&token, group)?),
    None => None,
  };
  let limit = page_size
    .unwrap_or(DEFAULT_PAGE_SIZE)
    .min(top.unwrap_or(i64::MAX)) as usize;
  let (members, more): (Vec<GroupMember>, bool) = match call.hub() {
    Some(hub) => hub.list_group(group, after.as_deref(), limit),
    None => (Vec::new(), false),
  };
  let remaining_top = top.map(|top| top - members.len() as i64);
  let next_link = match (more, remaining_top, members.last()) {
    (true, None, Some(last)) => Some(next_link(
      &call,
      None,
      page_size,
      group,
      &last.connection_id,
    )),
    (true, Some(rest), Some(last)) if rest > 0 => Some(next_link(
      &call,
      Some(rest),
      page_size,
      group,
      &last.connection_id,
    )),
    _ => None,
  };
  let page = Page {
    value: members
      .into_iter()
      .map(|m| Member {
        connection_id: m.connection_id,
        user_id: m.user_id,
      })
      .collect(),
    next_link,
  };
  let body = serde_json::to_vec(&page).unwrap_or_default();
  let mut response = (StatusCode::OK, body).into_response();
  response.headers_mut().insert(
    header::CONTENT_TYPE,
    HeaderValue::from_static("application/json; charset=utf-8"),
  );
  Ok(response)
}

/// An absolute link to the next page on the host the caller used, in the service's query order.
fn next_link(
  call: &RestCall,
  top: Option<i64>,
  page_size: Option<i64>,
  group: &str,
  last_id: &str,
) -> String {
  let mut query = Vec::new();
  if let Some(top) = top {
    query.push(format!("top={top}"));
  }
  if let Some(size) = page_size {
    query.push(format!("maxpagesize={size}"));
  }
  query.push(format!(
    "continuationToken={}",
    encode_query_value(&encode_continuation(group, last_id))
  ));
  query.push(format!("api-version={}", call.version.as_str()));
  format!("{}{}?{}", call.origin(), call.uri.path(), query.join("&"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn continuation_tokens_are_bound_to_their_group() {
    let token = encode_continuation("g 1", "abc");
    assert_eq!(decode_continuation(&token, "g 1").unwrap(), "abc");
    assert!(decode_continuation(&token, "g 2").is_err());
    assert!(decode_continuation("not a token", "g 1").is_err());
  }
}
