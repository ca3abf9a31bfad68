//! `:generateToken`: a client access token signed with the access key, for the host the caller
//! used (`http://<Host>/client/hubs/<hub>`, or the MQTT path).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::jwt::ClientTokenClaims;
use webpubsub_protocol::names;

use super::params::invalid_enum_value;
use super::RestCall;
use crate::auth::now_seconds;
use crate::error::RestError;

/// Lifetime when `minutesToExpire` is absent.
const DEFAULT_MINUTES_TO_EXPIRE: i64 = 60;

/// `clientType` as the service binds it: `Default` or `MQTT`, case-insensitive. MQTT tokens
/// need api-version 2024-01-01 or later.
fn client_type(call: &RestCall) -> Result<ClientProtocol, RestError> {
  let Some(value) = call.query.one("clientType")? else {
    return Ok(ClientProtocol::Default);
  };
  if value.eq_ignore_ascii_case("default") {
    Ok(ClientProtocol::Default)
  } else if value.eq_ignore_ascii_case("mqtt") && call.version.as_str() >= "2024-01-01" {
    Ok(ClientProtocol::Mqtt)
  } else {
    Err(invalid_enum_value("clientType", &value))
  }
}

pub(super) fn generate(call: RestCall) -> Result<Response, RestError> {
  let protocol = client_type(&call)?;
  let minutes = call
    .query
    .int_in_range("minutesToExpire", 1, i32::MAX as i64)?
    .unwrap_or(DEFAULT_MINUTES_TO_EXPIRE);
  let groups = call.query.all("group");
  if let Some(invalid) = groups.iter().find_map(|g| names::validate_group(g).err()) {
    return Err(RestError::validation("group", invalid.to_string()));
  }
  let roles = call.query.all("role");
  let claims = ClientTokenClaims {
    audience: format!("{}/{}", call.origin(), protocol.client_path(&call.hub_name)),
    user_id: call.query.one("userId")?,
    roles: (!roles.is_empty()).then_some(roles),
    groups: (!groups.is_empty()).then_some(groups),
    lifetime_minutes: minutes as u64,
  };
  let token = call
    .state
    .signing_key
    .sign_client_token(&claims, now_seconds());
  let body = serde_json::json!({ "token": token }).to_string();
  let mut response = (StatusCode::OK, body).into_response();
  response.headers_mut().insert(
    header::CONTENT_TYPE,
    HeaderValue::from_static("application/json; charset=utf-8"),
  );
  Ok(response)
}
