//! JS records <-> core types: client options, operation records, response records.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use napi::bindgen_prelude::{Either, FromNapiValue, JsObjectValue, Object, Uint8Array};
use napi_derive::napi;
use tokio_util::sync::CancellationToken;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::payload::ContentKind;
use webpubsub_protocol::permission::Permission;
use webpubsub_service_client::{
  AttemptEnd, CallOptions, ClientConfig, ClientTokenOptions, Error, Operation, Payload,
  PermissionName, Response, SentRequest, Tracer,
};

use crate::error::invalid_arg;

/// Client options `index.js` picks from the official `WebPubSubServiceClientOptions`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeClientOptions {
  /// Allow `http://` endpoints (off by default, as in the official pipeline).
  pub allow_insecure_connection: Option<bool>,
  /// Send requests to this host instead of the endpoint's (APIM); tokens stay signed for the endpoint.
  pub reverse_proxy_endpoint: Option<String>,
  /// Put in front of the User-Agent value.
  pub user_agent_prefix: Option<String>,
  /// `retryOptions.maxRetries`.
  pub max_retries: Option<u32>,
  /// `retryOptions.retryDelayInMs`.
  pub retry_delay_in_ms: Option<f64>,
  /// `retryOptions.maxRetryDelayInMs`.
  pub max_retry_delay_in_ms: Option<f64>,
  /// A proxy URL (`proxyOptions` of the official client).
  pub proxy: Option<String>,
  /// Extra trusted CA certificates in PEM (the file `NODE_EXTRA_CA_CERTS` names).
  pub extra_ca_pem: Option<Uint8Array>,
  /// `false` accepts any server certificate (`NODE_TLS_REJECT_UNAUTHORIZED=0`).
  pub reject_unauthorized: Option<bool>,
}

/// Applies the JS options to a core configuration.
pub(crate) fn configure(config: &mut ClientConfig, options: NativeClientOptions) {
  if let Some(allow) = options.allow_insecure_connection {
    config.allow_insecure_connection = allow;
  }
  config.reverse_proxy_endpoint = options.reverse_proxy_endpoint;
  config.user_agent_prefix = options.user_agent_prefix;
  config.proxy = options.proxy;
  config.extra_ca_pem = options.extra_ca_pem.map(|pem| pem.to_vec());
  config.verify_certificates = options.reject_unauthorized.unwrap_or(true);
  if let Some(n) = options.max_retries {
    config.retry.max_retries = n;
  }
  if let Some(ms) = options.retry_delay_in_ms {
    config.retry.retry_delay_ms = whole(ms);
  }
  if let Some(ms) = options.max_retry_delay_in_ms {
    config.retry.max_retry_delay_ms = whole(ms);
  }
}

/// A JS number as a non-negative whole number (NaN and negatives count as 0).
fn whole(value: f64) -> u64 {
  if value.is_finite() && value > 0.0 {
    value as u64
  } else {
    0
  }
}

/// One operation as `index.js` describes it: `kind` names it, the other fields are its arguments
/// and the per-call `requestOptions`. Read by [`operation_record`].
#[derive(Default)]
pub struct NativeOperation {
  /// The operation name, e.g. `sendToAll`, `groupExists`, `listConnectionsNext`.
  pub kind: String,
  pub group: Option<String>,
  pub user: Option<String>,
  pub connection: Option<String>,
  /// `application/json`, `text/plain` or `application/octet-stream` for sends.
  pub content_type: Option<String>,
  pub excluded: Option<Vec<String>>,
  pub filter: Option<String>,
  pub message_ttl_seconds: Option<i64>,
  pub reason: Option<String>,
  pub permission: Option<String>,
  pub target_name: Option<String>,
  /// Groups of `addConnectionsToGroups` / `removeConnectionsFromGroups` / client tokens.
  pub groups: Option<Vec<String>>,
  pub max_page_size: Option<i64>,
  pub top: Option<i64>,
  /// The absolute URL of the next page, followed verbatim.
  pub next_link: Option<String>,
  pub user_id: Option<String>,
  pub roles: Option<Vec<String>>,
  pub expiration_time_in_minutes: Option<f64>,
  pub client_protocol: Option<String>,
  /// `requestOptions.timeout` in milliseconds (0 means none).
  pub timeout: Option<f64>,
  /// `requestOptions.customHeaders`.
  pub custom_headers: Option<HashMap<String, String>>,
  /// Log this call's attempts (the callback given to `observeAttempts`).
  pub log: Option<bool>,
}

/// Reads an operation object. Only the properties the object has are read (each read is a
/// property lookup in V8, and a call sets a few of the fields); `undefined` counts as absent, a
/// value of the wrong type fails as the field's conversion does, and an unknown name fails.
pub(crate) fn operation_record(op: &Object) -> napi::Result<NativeOperation> {
  fn field<T: FromNapiValue>(op: &Object, name: &str) -> napi::Result<Option<T>> {
    op.get::<T>(name).map_err(|mut error| {
      error.reason = format!("{} on NativeOperation.{name}", error.reason);
      error
    })
  }
  let mut record = NativeOperation::default();
  let names = op.get_property_names()?;
  for index in 0..names.get_array_length()? {
    let name: String = names.get_element(index)?;
    match name.as_str() {
      "kind" => record.kind = field(op, &name)?.unwrap_or_default(),
      "group" => record.group = field(op, &name)?,
      "user" => record.user = field(op, &name)?,
      "connection" => record.connection = field(op, &name)?,
      "contentType" => record.content_type = field(op, &name)?,
      "excluded" => record.excluded = field(op, &name)?,
      "filter" => record.filter = field(op, &name)?,
      "messageTtlSeconds" => record.message_ttl_seconds = field(op, &name)?,
      "reason" => record.reason = field(op, &name)?,
      "permission" => record.permission = field(op, &name)?,
      "targetName" => record.target_name = field(op, &name)?,
      "groups" => record.groups = field(op, &name)?,
      "maxPageSize" => record.max_page_size = field(op, &name)?,
      "top" => record.top = field(op, &name)?,
      "nextLink" => record.next_link = field(op, &name)?,
      "userId" => record.user_id = field(op, &name)?,
      "roles" => record.roles = field(op, &name)?,
      "expirationTimeInMinutes" => record.expiration_time_in_minutes = field(op, &name)?,
      "clientProtocol" => record.client_protocol = field(op, &name)?,
      "timeout" => record.timeout = field(op, &name)?,
      "customHeaders" => record.custom_headers = field(op, &name)?,
      "log" => record.log = field(op, &name)?,
      other => return Err(invalid_arg(format!("unknown operation field '{other}'"))),
    }
  }
  Ok(record)
}

/// A message body: JSON or plain text made in JS, or bytes viewed from the caller's memory.
pub(crate) fn body_bytes(body: Option<Either<String, Uint8Array>>) -> Bytes {
  match body {
    None => Bytes::new(),
    Some(Either::A(text)) => Bytes::from(text),
    // The Uint8Array keeps the JS memory alive until the request is done; no copy is made.
    Some(Either::B(bytes)) => Bytes::from_owner(bytes),
  }
}

fn required(value: Option<String>, what: &str) -> napi::Result<String> {
  value.ok_or_else(|| invalid_arg(format!("{what} is required")))
}

/// The per-call options of an operation record.
pub(crate) fn call_options(
  op: &mut NativeOperation,
  cancel: Option<CancellationToken>,
  tracer: Option<Tracer>,
) -> CallOptions {
  CallOptions {
    custom_headers: op
      .custom_headers
      .take()
      .map(|headers| headers.into_iter().collect())
      .unwrap_or_default(),
    timeout: op
      .timeout
      .filter(|ms| *ms > 0.0)
      .map(|ms| Duration::from_millis(whole(ms))),
    cancel,
    observe: op.log.unwrap_or(false),
    tracer,
  }
}

/// `clientProtocol` as given; `None` when absent.
pub(crate) fn client_protocol(value: Option<&str>) -> napi::Result<Option<ClientProtocol>> {
  value
    .map(|p| p.parse::<ClientProtocol>().map_err(invalid_arg))
    .transpose()
}

/// Options of `getClientAccessToken`, as the official SDK takes them.
#[napi(object)]
pub struct NativeClientTokenOptions {
  pub user_id: Option<String>,
  pub roles: Option<Vec<String>>,
  pub groups: Option<Vec<String>>,
  pub expiration_time_in_minutes: Option<f64>,
  /// `default`, `mqtt` or `socketio`.
  pub client_protocol: Option<String>,
}

/// The core options of a locally signed client access token.
pub(crate) fn client_token_options(
  options: NativeClientTokenOptions,
) -> napi::Result<ClientTokenOptions> {
  Ok(ClientTokenOptions {
    client_protocol: client_protocol(options.client_protocol.as_deref())?,
    user_id: options.user_id,
    roles: options.roles,
    groups: options.groups,
    expiration_minutes: options.expiration_time_in_minutes.map(|m| m as i64),
  })
}

/// Builds the core operation. Names and values are sent as given; the service checks them.
pub(crate) fn operation(op: NativeOperation, body: Bytes) -> napi::Result<Operation> {
  let NativeOperation {
    kind,
    group,
    user,
    connection,
    content_type,
    excluded,
    filter,
    message_ttl_seconds,
    reason,
    permission,
    target_name,
    groups,
    max_page_size,
    top,
    next_link,
    user_id,
    roles,
    expiration_time_in_minutes,
    client_protocol: protocol,
    ..
  } = op;
  let group = || required(group.clone(), "group");
  let user = || required(user.clone(), "user");
  let connection = || required(connection.clone(), "connection");
  let excluded = excluded.unwrap_or_default();
  let payload = || -> napi::Result<Payload> {
    let content_type = content_type.as_deref().unwrap_or_default();
    let kind = ContentKind::from_content_type(content_type)
      .ok_or_else(|| invalid_arg(format!("unsupported content type '{content_type}'")))?;
    Ok(Payload {
      kind,
      body: body.clone(),
    })
  };
  // Known names are typed; any other is sent as given, as @azure/web-pubsub does.
  let permission = || -> napi::Result<PermissionName> {
    let name = required(permission.clone(), "permission")?;
    Ok(match name.parse::<Permission>() {
      Ok(known) => known.into(),
      Err(_) => PermissionName::other(name),
    })
  };
  Ok(match kind.as_str() {
    "sendToAll" => Operation::SendToAll {
      payload: payload()?,
      excluded,
      filter,
      message_ttl_seconds,
    },
    "sendToGroup" => Operation::SendToGroup {
      group: group()?,
      payload: payload()?,
      excluded,
      filter,
      message_ttl_seconds,
    },
    "sendToUser" => Operation::SendToUser {
      user_id: user()?,
      payload: payload()?,
      filter,
      message_ttl_seconds,
    },
    "sendToConnection" => Operation::SendToConnection {
      connection_id: connection()?,
      payload: payload()?,
      message_ttl_seconds,
    },
    "connectionExists" => Operation::ConnectionExists {
      connection_id: connection()?,
    },
    "groupExists" => Operation::GroupExists { group: group()? },
    "userExists" => Operation::UserExists { user_id: user()? },
    "closeConnection" => Operation::CloseConnection {
      connection_id: connection()?,
      reason,
    },
    "closeAllConnections" => Operation::CloseAllConnections { excluded, reason },
    "closeGroupConnections" => Operation::CloseGroupConnections {
      group: group()?,
      excluded,
      reason,
    },
    "closeUserConnections" => Operation::CloseUserConnections {
      user_id: user()?,
      excluded,
      reason,
    },
    "removeUserFromAllGroups" => Operation::RemoveUserFromAllGroups { user_id: user()? },
    "removeConnectionFromAllGroups" => Operation::RemoveConnectionFromAllGroups {
      connection_id: connection()?,
    },
    "addConnectionsToGroups" => Operation::AddConnectionsToGroups {
      groups: groups.unwrap_or_default(),
      filter,
    },
    "removeConnectionsFromGroups" => Operation::RemoveConnectionsFromGroups {
      groups: groups.unwrap_or_default(),
      filter,
    },
    "addConnectionToGroup" => Operation::AddConnectionToGroup {
      group: group()?,
      connection_id: connection()?,
    },
    "removeConnectionFromGroup" => Operation::RemoveConnectionFromGroup {
      group: group()?,
      connection_id: connection()?,
    },
    "addUserToGroup" => Operation::AddUserToGroup {
      group: group()?,
      user_id: user()?,
    },
    "removeUserFromGroup" => Operation::RemoveUserFromGroup {
      group: group()?,
      user_id: user()?,
    },
    "grantPermission" => Operation::GrantPermission {
      permission: permission()?,
      connection_id: connection()?,
      target_name,
    },
    "revokePermission" => Operation::RevokePermission {
      permission: permission()?,
      connection_id: connection()?,
      target_name,
    },
    "checkPermission" => Operation::CheckPermission {
      permission: permission()?,
      connection_id: connection()?,
      target_name,
    },
    "listConnectionsInGroup" => Operation::ListConnectionsInGroup {
      group: group()?,
      max_page_size,
      top,
    },
    "listConnectionsNext" => Operation::NextPage {
      url: required(next_link, "nextLink")?,
    },
    "generateClientToken" => Operation::GenerateClientToken {
      client_type: client_protocol(protocol.as_deref())?,
      user_id,
      roles: roles.unwrap_or_default(),
      groups: groups.unwrap_or_default(),
      minutes_to_expire: expiration_time_in_minutes.map_or(60, |m| m as i64),
    },
    other => return Err(invalid_arg(format!("unknown operation '{other}'"))),
  })
}

/// What `invoke` resolves to: an HTTP answer, or a failure when there was none.
#[napi(object)]
pub struct NativeResponse {
  /// The HTTP status; 0 with `failure` set when no answer came.
  pub status: u32,
  /// Whether the operation accepts this status.
  pub ok: bool,
  /// The response body as text, when it is not empty.
  pub body_text: Option<String>,
  /// Response headers as `[name, value, name, value, ...]`; only when asked for, or on an error status.
  pub headers: Option<Vec<String>>,
  /// The request method, final URL and headers as sent, together with `headers`, or with a
  /// `failure` whose error carries the request.
  pub method: Option<String>,
  pub url: Option<String>,
  pub request_headers: Option<Vec<String>>,
  pub failure: Option<crate::error::NativeFailure>,
}

/// Turns a core response into the JS record. Headers and request details are built only when the
/// caller needs them (an `onResponse` callback, a body to parse, or an error).
pub(crate) fn response_record(response: Response, ok: bool, want_headers: bool) -> NativeResponse {
  let detail = want_headers || !ok;
  let body_text =
    (!response.body.is_empty()).then(|| String::from_utf8_lossy(&response.body).into_owned());
  NativeResponse {
    status: response.status.into(),
    ok,
    body_text,
    headers: detail.then(|| flatten(response.headers.iter())),
    method: detail.then(|| response.request.method.to_owned()),
    request_headers: detail.then(|| flatten(response.request.headers.iter())),
    url: detail.then_some(response.request.url),
    failure: None,
  }
}

/// The record of a call that ended without an answer, with the request as sent when the error
/// carries it.
pub(crate) fn error_record(error: Error) -> NativeResponse {
  let mut record = failure_record(crate::error::failure_of(&error));
  if let Error::Transport {
    request: Some(request),
    ..
  } = &error
  {
    with_request(&mut record, request);
  }
  record
}

/// The record of an attempt that will be retried: its answer's status and headers, or its
/// transport failure with the request as sent.
pub(crate) fn attempt_end_record(ended: AttemptEnd<'_>) -> NativeResponse {
  match ended {
    AttemptEnd::Answer { status, headers } => NativeResponse {
      status: status.into(),
      ok: false,
      body_text: None,
      headers: Some(flatten(headers.iter())),
      method: None,
      url: None,
      request_headers: None,
      failure: None,
    },
    AttemptEnd::Failed {
      code,
      message,
      request,
    } => {
      let mut record = failure_record(crate::error::NativeFailure {
        kind: "transport".to_owned(),
        code: Some(code.to_owned()),
        message: message.to_owned(),
      });
      if let Some(request) = request {
        with_request(&mut record, request);
      }
      record
    }
  }
}

fn with_request(record: &mut NativeResponse, request: &SentRequest) {
  record.method = Some(request.method.to_owned());
  record.request_headers = Some(flatten(request.headers.iter()));
  record.url = Some(request.url.clone());
}

/// The record of a call that got no HTTP answer.
pub(crate) fn failure_record(failure: crate::error::NativeFailure) -> NativeResponse {
  NativeResponse {
    status: 0,
    ok: false,
    body_text: None,
    headers: None,
    method: None,
    url: None,
    request_headers: None,
    failure: Some(failure),
  }
}

/// Header pairs as `[name, value, name, value, ...]`.
fn flatten<'a, N, V>(headers: impl Iterator<Item = (&'a N, &'a V)>) -> Vec<String>
where
  N: AsRef<str> + 'a,
  V: AsRef<[u8]> + 'a,
{
  let mut flat = Vec::with_capacity(headers.size_hint().0 * 2);
  for (name, value) in headers {
    flat.push(name.as_ref().to_owned());
    flat.push(String::from_utf8_lossy(value.as_ref()).into_owned());
  }
  flat
}
