//! Permission operations: grant (PUT), revoke (DELETE) and check (HEAD) `sendToGroup` /
//! `joinLeaveGroup` for one connection, optionally for one group (`targetName`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use webpubsub_protocol::names::{self, NameError};
use webpubsub_protocol::permission::Permission;

use super::params::invalid_enum_value;
use super::{empty, RestCall};
use crate::error::RestError;
use crate::roles::{allows, allows_all_groups, GroupAction};
use crate::state::Connection;

/// The permission and target group of a permission call.
struct PermissionCall {
  action: GroupAction,
  target: Option<String>,
}

fn permission_call(call: &RestCall) -> Result<PermissionCall, RestError> {
  let name = call.param("permission");
  let permission: Permission = name
    .parse()
    .map_err(|_| invalid_enum_value("permission", name))?;
  let action = match permission {
    Permission::SendToGroup => GroupAction::Send,
    Permission::JoinLeaveGroup => GroupAction::JoinLeave,
  };
  let target = call.query.one("targetName")?;
  if let Some(Err(invalid)) = target.as_deref().map(names::validate_group) {
    return Err(RestError::bad_request(invalid.to_string(), "Request"));
  }
  Ok(PermissionCall { action, target })
}

fn connection_not_found(id: &str) -> RestError {
  RestError::not_existed("Info.Connection.NotExisted", "Connection", id)
}

fn too_many_grants() -> RestError {
  RestError::Service {
    status: StatusCode::CONFLICT,
    code: "Error.Permission.TooManyGrants",
    message: "The connection already has the maximum number of group-specific permission rules."
      .to_owned(),
    target: "Permission",
  }
}

fn find_connection(call: &RestCall) -> Option<std::sync::Arc<Connection>> {
  call
    .hub()
    .and_then(|hub| hub.connection(call.param("connectionId")))
}

/// Grants on one group, or on every group when `targetName` is absent; 404 for an unknown
/// connection.
pub(super) async fn grant(call: RestCall) -> Result<Response, RestError> {
  let request = permission_call(&call)?;
  let conn =
    find_connection(&call).ok_or_else(|| connection_not_found(call.param("connectionId")))?;
  conn
    .grants
    .lock()
    .unwrap()
    .grant(request.action, request.target.as_deref())
    .map_err(|_| too_many_grants())?;
  Ok(empty(StatusCode::OK))
}

/// Revokes on one group; the service requires `targetName` here and answers 204 for unknown
/// connections.
pub(super) async fn revoke(call: RestCall) -> Result<Response, RestError> {
  let request = permission_call(&call)?;
  let Some(target) = request.target else {
    return Err(RestError::bad_request(
      NameError::InvalidGroup.to_string(),
      "Request",
    ));
  };
  if let Some(conn) = find_connection(&call) {
    conn
      .grants
      .lock()
      .unwrap()
      .revoke(request.action, Some(&target))
      .map_err(|_| too_many_grants())?;
  }
  Ok(empty(StatusCode::NO_CONTENT))
}

/// 200 when the connection has the permission (on `targetName`, or on every group), a bare 404
/// when it does not, and 404 `Info.Connection.NotExisted` for an unknown connection.
pub(super) async fn check(call: RestCall) -> Result<Response, RestError> {
  let request = permission_call(&call)?;
  let conn =
    find_connection(&call).ok_or_else(|| connection_not_found(call.param("connectionId")))?;
  let grants = conn.grants.lock().unwrap();
  let allowed = match &request.target {
    Some(group) => allows(&conn.roles, &grants, request.action, group),
    None => allows_all_groups(&conn.roles, &grants, request.action),
  };
  Ok(if allowed {
    empty(StatusCode::OK)
  } else {
    StatusCode::NOT_FOUND.into_response()
  })
}
