//! Connection operations: close one or all, exists, remove from all groups.

use axum::http::StatusCode;
use axum::response::Response;

use super::{empty, RestCall};
use crate::error::RestError;

/// Reason sent to clients when a close call gives none.
pub const DEFAULT_CLOSE_REASON: &str = "Closed by REST API.";

/// The `reason` query parameter, or the default.
pub(super) fn close_reason(call: &RestCall) -> Result<String, RestError> {
  Ok(
    call
      .query
      .one("reason")?
      .filter(|reason| !reason.is_empty())
      .unwrap_or_else(|| DEFAULT_CLOSE_REASON.to_owned()),
  )
}

pub(super) async fn close(call: RestCall) -> Result<Response, RestError> {
  let reason = close_reason(&call)?;
  if let Some(hub) = call.hub() {
    hub.close_connection(call.param("connectionId"), &reason);
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn close_all(call: RestCall) -> Result<Response, RestError> {
  let reason = close_reason(&call)?;
  if let Some(hub) = call.hub() {
    hub.close_all(&call.query.all("excluded"), &reason);
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn exists(call: RestCall) -> Result<Response, RestError> {
  let id = call.param("connectionId");
  match call.hub().and_then(|hub| hub.connection(id)) {
    Some(_) => Ok(empty(StatusCode::OK)),
    None => Err(RestError::not_existed(
      "Warning.Connection.NotExisted",
      "Connection",
      id,
    )),
  }
}

pub(super) async fn remove_from_all_groups(call: RestCall) -> Result<Response, RestError> {
  call.version.require("2022-11-01", &call.uri)?;
  if let Some(hub) = call.hub() {
    hub.leave_all_groups(call.param("connectionId"));
  }
  Ok(empty(StatusCode::NO_CONTENT))
}
