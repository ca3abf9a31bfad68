//! The blocking `connect` event, raised during the WebSocket handshake before the upgrade: the request
//! body (claims, query, headers, offered subprotocols) and what the handler's answer decides.
//!
//! 204, or 200 with an empty or `null` body, accepts with the token's defaults; a JSON body may set
//! `userId`, `groups` (a non-empty list replaces the token's), `roles` (replaces the token's) and
//! `subprotocol` (one the client offered). Any non-2xx status is returned to the client as is; a
//! failed delivery or an unusable answer is a 500. Either way no other event follows.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::cloudevents::CloudEvent;
use super::cookies::CookieJar;
use super::dispatcher::{DeliveryError, Dispatcher, HandlerResponse, Outgoing};
use super::settings::{EventKind, SystemEvent};
use super::upstream::{connection_state, Carried, ConnectionInfo, JSON_CONTENT_TYPE};

/// Query parameters never shown to the handler.
const HIDDEN_QUERY: [&str; 1] = ["access_token"];

/// What the connecting client sent.
pub struct ConnectRequest<'a> {
  /// The connection as the token describes it (`subprotocol` is not sent with `connect`).
  pub info: &'a ConnectionInfo,
  pub claims: &'a Map<String, Value>,
  pub query: &'a [(String, String)],
  pub headers: &'a HeaderMap,
  pub subprotocols: &'a [String],
  /// MQTT clients: what their CONNECT packet says (`protocolVersion`, `cleanStart`, `username`,
  /// `password`, `userProperties`).
  pub mqtt: Option<Value>,
}

/// The `connect` request body.
#[derive(Serialize)]
struct ConnectBody {
  #[serde(skip_serializing_if = "Option::is_none")]
  mqtt: Option<Value>,
  claims: BTreeMap<String, Vec<String>>,
  query: BTreeMap<String, Vec<String>>,
  headers: BTreeMap<String, Vec<String>>,
  subprotocols: Vec<String>,
  #[serde(rename = "clientCertificates")]
  client_certificates: Vec<Value>,
}

/// The handler's JSON answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectAnswer {
  user_id: Option<String>,
  groups: Option<Vec<String>>,
  roles: Option<Vec<String>>,
  subprotocol: Option<String>,
  mqtt: Option<MqttAnswer>,
}

/// The `mqtt` part of an answer to an MQTT client's `connect` (success or refusal).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MqttAnswer {
  /// The CONNACK reason code (MQTT 5) or return code (3.1.1) of a refusal.
  pub code: Option<i64>,
  pub reason: Option<String>,
  #[serde(default)]
  pub user_properties: Option<Vec<UserProperty>>,
}

/// One MQTT user property as event bodies write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProperty {
  pub name: String,
  pub value: String,
}

/// The `mqtt` part of a refusal's body, when it has one.
pub fn mqtt_refusal(response: &HandlerResponse) -> MqttAnswer {
  #[derive(Deserialize)]
  struct Refusal {
    mqtt: Option<MqttAnswer>,
  }
  serde_json::from_slice::<Refusal>(&response.body)
    .ok()
    .and_then(|refusal| refusal.mqtt)
    .unwrap_or_default()
}

/// What the handler decided for an accepted connection.
#[derive(Debug, Default)]
pub struct ConnectDecision {
  /// `Some` replaces the token's user; an empty id means no user.
  pub user_id: Option<String>,
  /// Replaces the token's groups when present and not empty.
  pub groups: Option<Vec<String>>,
  pub roles: Option<Vec<String>>,
  /// One of the offered subprotocols.
  pub subprotocol: Option<String>,
  /// User properties for an MQTT 5 client's CONNACK.
  pub mqtt_user_properties: Vec<UserProperty>,
  pub carried: Carried,
}

/// Why a connection was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
  #[error("the connect handler rejected the connection with HTTP {}", .0.status)]
  Rejected(Box<HandlerResponse>),
  #[error("the connect event failed: {0}")]
  Failed(DeliveryError),
  #[error("the connect handler's answer is invalid: {0}")]
  InvalidAnswer(String),
}

impl IntoResponse for ConnectError {
  fn into_response(self) -> Response {
    match self {
      ConnectError::Rejected(response) => response.status.into_response(),
      ConnectError::Failed(_) | ConnectError::InvalidAnswer(_) => {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
      }
    }
  }
}

/// Raises `connect` when a handler of the hub takes it; `Ok(None)` when none does.
pub async fn connect(
  dispatcher: &Dispatcher,
  request: ConnectRequest<'_>,
) -> Result<Option<ConnectDecision>, ConnectError> {
  let kind = EventKind::System(SystemEvent::Connect);
  let info = request.info;
  let Some(handler) = dispatcher.handler_for(&info.hub, &kind) else {
    return Ok(None);
  };
  let body = serde_json::to_vec(&body(&request)).expect("the connect body always serializes");
  let signature = dispatcher.signature(&info.connection_id);
  let event = CloudEvent {
    kind: &kind,
    hub: &info.hub,
    connection_id: &info.connection_id,
    user_id: info.user_id.as_deref(),
    // Unknown for Web PubSub clients until the handler picks one; always `mqtt` for MQTT clients.
    subprotocol: info.subprotocol.as_deref(),
    connection_state: None,
    physical_connection_id: info.physical_connection_id.as_deref(),
    session_id: None,
    origin: &info.origin,
    event_id: 0,
    signature: &signature,
    time: SystemTime::now(),
  };
  let outgoing = Outgoing {
    event,
    handler,
    content_type: JSON_CONTENT_TYPE,
    body: Bytes::from(body),
    extra_headers: Vec::new(),
  };
  let response = match dispatcher.deliver(outgoing).await {
    Ok(response) => response,
    Err(DeliveryError::Status(response)) => return Err(ConnectError::Rejected(response)),
    Err(error) => return Err(ConnectError::Failed(error)),
  };
  decide(response, request.subprotocols)
    .map(Some)
    .inspect_err(|error| {
      eprintln!(
        "webpubsub-emulator: connection {} in hub '{}' refused: {error}",
        info.connection_id, info.hub
      );
    })
}

fn body(request: &ConnectRequest<'_>) -> ConnectBody {
  let claims = request
    .claims
    .iter()
    .map(|(name, value)| (name.clone(), claim_values(value)))
    .collect();
  let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
  for (name, value) in request.query {
    if !HIDDEN_QUERY.contains(&name.as_str()) {
      query.entry(name.clone()).or_default().push(value.clone());
    }
  }
  let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
  for (name, value) in request.headers {
    if name != header::AUTHORIZATION {
      let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
      headers.entry(name.to_string()).or_default().push(value);
    }
  }
  ConnectBody {
    mqtt: request.mqtt.clone(),
    claims,
    query,
    headers,
    subprotocols: request.subprotocols.to_vec(),
    client_certificates: Vec::new(),
  }
}

/// A claim as a list of strings: arrays element by element, strings as they are, others as JSON.
fn claim_values(value: &Value) -> Vec<String> {
  let text = |value: &Value| match value {
    Value::String(text) => text.clone(),
    other => other.to_string(),
  };
  match value {
    Value::Array(items) => items.iter().map(text).collect(),
    other => vec![text(other)],
  }
}

fn decide(response: HandlerResponse, offered: &[String]) -> Result<ConnectDecision, ConnectError> {
  let invalid = |why: String| ConnectError::InvalidAnswer(why);
  let answer: ConnectAnswer = if response.body.iter().all(u8::is_ascii_whitespace) {
    ConnectAnswer::default()
  } else {
    serde_json::from_slice::<Option<ConnectAnswer>>(&response.body)
      .map_err(|e| invalid(e.to_string()))?
      .unwrap_or_default()
  };
  if let Some(groups) = &answer.groups {
    if let Some(bad) = groups
      .iter()
      .find(|g| webpubsub_protocol::names::validate_group(g).is_err())
    {
      return Err(invalid(format!("invalid group name '{bad}'")));
    }
  }
  let subprotocol = answer.subprotocol.filter(|name| !name.is_empty());
  if let Some(name) = &subprotocol {
    if !offered.contains(name) {
      return Err(invalid(format!(
        "subprotocol '{name}' was not offered by the client"
      )));
    }
  }
  let mut cookies = CookieJar::default();
  cookies.store(&response.headers);
  Ok(ConnectDecision {
    user_id: answer.user_id,
    groups: answer.groups.filter(|groups| !groups.is_empty()),
    roles: answer.roles,
    subprotocol,
    mqtt_user_properties: answer
      .mqtt
      .and_then(|mqtt| mqtt.user_properties)
      .unwrap_or_default(),
    carried: Carried {
      connection_state: connection_state(&response.headers).flatten(),
      cookies,
    },
  })
}

#[cfg(test)]
mod tests {
  use axum::http::HeaderValue;
  use serde_json::json;

  use super::*;

  fn response(body: &'static str, state: Option<&'static str>) -> HandlerResponse {
    let mut headers = HeaderMap::new();
    if let Some(state) = state {
      headers.insert("ce-connectionstate", HeaderValue::from_static(state));
    }
    HandlerResponse {
      status: reqwest::StatusCode::OK,
      headers,
      body: Bytes::from_static(body.as_bytes()),
    }
  }

  #[test]
  fn empty_and_null_answers_keep_the_defaults() {
    for body in ["", "null", " "] {
      let decision = decide(response(body, None), &[]).unwrap();
      assert!(decision.user_id.is_none() && decision.groups.is_none() && decision.roles.is_none());
    }
  }

  #[test]
  fn answers_set_user_groups_roles_subprotocol_and_state() {
    let offered = vec!["json.webpubsub.azure.v1".to_owned()];
    let decision = decide(
      response(
        r#"{"userId":"u","groups":["a"],"roles":["webpubsub.joinLeaveGroup"],"subprotocol":"json.webpubsub.azure.v1"}"#,
        Some("e30="),
      ),
      &offered,
    )
    .unwrap();
    assert_eq!(decision.user_id.as_deref(), Some("u"));
    assert_eq!(decision.groups, Some(vec!["a".to_owned()]));
    assert_eq!(
      decision.roles,
      Some(vec!["webpubsub.joinLeaveGroup".to_owned()])
    );
    assert_eq!(
      decision.subprotocol.as_deref(),
      Some("json.webpubsub.azure.v1")
    );
    assert_eq!(decision.carried.connection_state.as_deref(), Some("e30="));
  }

  #[test]
  fn unusable_answers_are_errors() {
    assert!(decide(response("{", None), &[]).is_err());
    assert!(decide(response(r#"{"groups":[""]}"#, None), &[]).is_err());
    assert!(decide(response(r#"{"subprotocol":"other"}"#, None), &[]).is_err());
    let mut refusal = response(r#"{"mqtt":{"code":138,"reason":"banned"}}"#, None);
    refusal.status = StatusCode::UNAUTHORIZED;
    let mqtt = mqtt_refusal(&refusal);
    assert_eq!(
      (mqtt.code, mqtt.reason.as_deref()),
      (Some(138), Some("banned"))
    );
    assert_eq!(
      ConnectError::Rejected(Box::new(refusal))
        .into_response()
        .status(),
      StatusCode::UNAUTHORIZED
    );
  }

  #[test]
  fn the_body_hides_the_token() {
    let info = ConnectionInfo {
      hub: "chat".into(),
      connection_id: "c".into(),
      user_id: None,
      subprotocol: None,
      origin: "localhost".into(),
      physical_connection_id: None,
      session_id: None,
    };
    let claims = json!({"sub": "u", "role": ["a", "b"], "exp": 5});
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer x"));
    headers.insert("x-test", HeaderValue::from_static("1"));
    let query = vec![
      ("access_token".to_owned(), "t".to_owned()),
      ("k".to_owned(), "1".to_owned()),
      ("k".to_owned(), "2".to_owned()),
    ];
    let request = ConnectRequest {
      info: &info,
      claims: claims.as_object().unwrap(),
      query: &query,
      headers: &headers,
      subprotocols: &[],
      mqtt: None,
    };
    let body = serde_json::to_value(body(&request)).unwrap();
    assert_eq!(
      body,
      json!({
        "claims": {"sub": ["u"], "role": ["a", "b"], "exp": ["5"]},
        "query": {"k": ["1", "2"]},
        "headers": {"x-test": ["1"]},
        "subprotocols": [],
        "clientCertificates": []
      })
    );
  }
}
