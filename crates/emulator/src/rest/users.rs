//! User operations: exists, close a user's connections, add/remove the user's connections to
//! and from groups.

use axum::http::StatusCode;
use axum::response::Response;

use super::connections::close_reason;
use super::{empty, RestCall};
use crate::error::RestError;

pub(super) async fn exists(call: RestCall) -> Result<Response, RestError> {
  let user = call.param("userId");
  if call.hub().is_some_and(|hub| hub.user_exists(user)) {
    Ok(empty(StatusCode::OK))
  } else {
    Err(user_not_found(user))
  }
}

pub(super) fn close_connections(call: RestCall) -> Result<Response, RestError> {
  let reason = close_reason(&call)?;
  if let Some(hub) = call.hub() {
    hub.close_user(call.param("userId"), &call.query.all("excluded"), &reason);
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

/// Adds the user's current connections; the service answers 404 when the user has none.
pub(super) async fn add_to_group(call: RestCall) -> Result<Response, RestError> {
  let user = call.param("userId");
  if call
    .hub()
    .is_some_and(|hub| hub.add_user_to_group(user, call.param("group")))
  {
    Ok(empty(StatusCode::OK))
  } else {
    Err(user_not_found(user))
  }
}

pub(super) async fn remove_from_group(call: RestCall) -> Result<Response, RestError> {
  if let Some(hub) = call.hub() {
    hub.remove_user_from_group(call.param("userId"), call.param("group"));
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn remove_from_all_groups(call: RestCall) -> Result<Response, RestError> {
  if let Some(hub) = call.hub() {
    hub.remove_user_from_all_groups(call.param("userId"));
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

fn user_not_found(user: &str) -> RestError {
  RestError::not_existed("Warning.User.NotExisted", "User", user)
}
