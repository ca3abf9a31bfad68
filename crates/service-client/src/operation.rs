//! The 25 data-plane operations (plus following a paging `nextLink`) and how each becomes an
//! HTTP request: method, path, query order, body, `Accept` and success statuses, all as
//! `@azure/web-pubsub` 1.2.0 sends them.

use bytes::Bytes;
use serde::Serialize;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::encoding::{path_segment, query_value};
use webpubsub_protocol::payload::ContentKind;
use webpubsub_protocol::permission::Permission;

/// A message body and its kind (decides `Content-Type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
  /// JSON, text or binary.
  pub kind: ContentKind,
  /// The bytes sent as they are.
  pub body: Bytes,
}
/// The permission segment of the permission operations. Usually a [`Permission`]; any other name is sent as
/// given, as `@azure/web-pubsub` does for untyped callers, and the service answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionName(std::borrow::Cow<'static, str>);

impl PermissionName {
  /// A name that is not one of the known [`Permission`]s.
  pub fn other(name: impl Into<String>) -> Self {
    Self(std::borrow::Cow::Owned(name.into()))
  }

  /// The name as it goes into the path.
  pub fn as_str(&self) -> &str {
    &self.0
  }
}

impl From<Permission> for PermissionName {
  fn from(permission: Permission) -> Self {
    Self(std::borrow::Cow::Borrowed(permission.as_str()))
  }
}

/// One data-plane call. Names are sent as given and percent-encoded by the client; the SDK does
/// not validate them, so neither does this client (the service answers 400/404).
/// Numbers are sent as given (`messageTtlSeconds`, `maxpagesize`, `top`, `minutesToExpire`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
  /// `POST /api/hubs/{hub}/:send` → 202.
  SendToAll {
    /// The message.
    payload: Payload,
    /// `excluded` (repeated), connection IDs that do not receive the message.
    excluded: Vec<String>,
    /// `filter`, an OData expression.
    filter: Option<String>,
    /// `messageTtlSeconds`.
    message_ttl_seconds: Option<i64>,
  },
  /// `POST /api/hubs/{hub}/groups/{group}/:send` → 202.
  SendToGroup {
    /// Target group.
    group: String,
    /// The message.
    payload: Payload,
    /// `excluded` (repeated).
    excluded: Vec<String>,
    /// `filter`.
    filter: Option<String>,
    /// `messageTtlSeconds`.
    message_ttl_seconds: Option<i64>,
  },
  /// `POST /api/hubs/{hub}/users/{userId}/:send` → 202.
  SendToUser {
    /// Target user.
    user_id: String,
    /// The message.
    payload: Payload,
    /// `filter`.
    filter: Option<String>,
    /// `messageTtlSeconds`.
    message_ttl_seconds: Option<i64>,
  },
  /// `POST /api/hubs/{hub}/connections/{connectionId}/:send` → 202.
  SendToConnection {
    /// Target connection.
    connection_id: String,
    /// The message.
    payload: Payload,
    /// `messageTtlSeconds`.
    message_ttl_seconds: Option<i64>,
  },
  /// `HEAD /api/hubs/{hub}/connections/{connectionId}` → 200 (true) / 404 (false).
  ConnectionExists {
    /// The connection.
    connection_id: String,
  },
  /// `HEAD /api/hubs/{hub}/groups/{group}` → 200 / 404.
  GroupExists {
    /// The group.
    group: String,
  },
  /// `HEAD /api/hubs/{hub}/users/{userId}` → 200 / 404.
  UserExists {
    /// The user.
    user_id: String,
  },
  /// `DELETE /api/hubs/{hub}/connections/{connectionId}` → 204.
  CloseConnection {
    /// The connection.
    connection_id: String,
    /// `reason`.
    reason: Option<String>,
  },
  /// `POST /api/hubs/{hub}/:closeConnections` → 204.
  CloseAllConnections {
    /// `excluded` (repeated).
    excluded: Vec<String>,
    /// `reason`.
    reason: Option<String>,
  },
  /// `POST /api/hubs/{hub}/groups/{group}/:closeConnections` → 204.
  CloseGroupConnections {
    /// The group.
    group: String,
    /// `excluded` (repeated).
    excluded: Vec<String>,
    /// `reason`.
    reason: Option<String>,
  },
  /// `POST /api/hubs/{hub}/users/{userId}/:closeConnections` → 204.
  CloseUserConnections {
    /// The user.
    user_id: String,
    /// `excluded` (repeated).
    excluded: Vec<String>,
    /// `reason`.
    reason: Option<String>,
  },
  /// `PUT /api/hubs/{hub}/groups/{group}/connections/{connectionId}` → 200.
  AddConnectionToGroup {
    /// The group.
    group: String,
    /// The connection.
    connection_id: String,
  },
  /// `DELETE /api/hubs/{hub}/groups/{group}/connections/{connectionId}` → 204.
  RemoveConnectionFromGroup {
    /// The group.
    group: String,
    /// The connection.
    connection_id: String,
  },
  /// `PUT /api/hubs/{hub}/users/{userId}/groups/{group}` → 200.
  AddUserToGroup {
    /// The group.
    group: String,
    /// The user.
    user_id: String,
  },
  /// `DELETE /api/hubs/{hub}/users/{userId}/groups/{group}` → 204.
  RemoveUserFromGroup {
    /// The group.
    group: String,
    /// The user.
    user_id: String,
  },
  /// `DELETE /api/hubs/{hub}/users/{userId}/groups` → 204.
  RemoveUserFromAllGroups {
    /// The user.
    user_id: String,
  },
  /// `DELETE /api/hubs/{hub}/connections/{connectionId}/groups` → 204.
  RemoveConnectionFromAllGroups {
    /// The connection.
    connection_id: String,
  },
  /// `POST /api/hubs/{hub}/:addToGroups`, JSON `{"groups":[…],"filter":"…"}` → 200.
  AddConnectionsToGroups {
    /// Groups to join.
    groups: Vec<String>,
    /// OData filter selecting the connections (omitted from the body when `None`).
    filter: Option<String>,
  },
  /// `POST /api/hubs/{hub}/:removeFromGroups`, same body → 200.
  RemoveConnectionsFromGroups {
    /// Groups to leave.
    groups: Vec<String>,
    /// OData filter (omitted when `None`).
    filter: Option<String>,
  },
  /// `PUT /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}` → 200.
  GrantPermission {
    /// The permission.
    permission: PermissionName,
    /// The connection.
    connection_id: String,
    /// `targetName` (a group); `None` means every group.
    target_name: Option<String>,
  },
  /// `DELETE` on the permission path → 204.
  RevokePermission {
    /// The permission.
    permission: PermissionName,
    /// The connection.
    connection_id: String,
    /// `targetName`.
    target_name: Option<String>,
  },
  /// `HEAD` on the permission path → 200 (granted) / 404 (not).
  CheckPermission {
    /// The permission.
    permission: PermissionName,
    /// The connection.
    connection_id: String,
    /// `targetName`.
    target_name: Option<String>,
  },
  /// `GET /api/hubs/{hub}/groups/{group}/connections` → 200 `{"value":[…],"nextLink":…}`.
  ListConnectionsInGroup {
    /// The group.
    group: String,
    /// `maxpagesize`.
    max_page_size: Option<i64>,
    /// `top`.
    top: Option<i64>,
  },
  /// `GET <nextLink>` → 200: an absolute link as it is, a relative one under the endpoint, each
  /// `api-version` in its query set to the client's (as the SDK's URL builder does).
  NextPage {
    /// The `nextLink` the service returned.
    url: String,
  },
  /// `POST /api/hubs/{hub}/:generateToken` → 200 `{"token":"…"}` (token credentials).
  GenerateClientToken {
    /// `userId`, sent when `Some` (even when empty).
    user_id: Option<String>,
    /// `role` (repeated).
    roles: Vec<String>,
    /// `minutesToExpire`, always sent (the SDK's default is 60).
    minutes_to_expire: i64,
    /// `group` (repeated).
    groups: Vec<String>,
    /// `clientType`, sent only when the caller chose a protocol.
    client_type: Option<ClientProtocol>,
  },
  /// `HEAD /api/health` → 200.
  GetServiceStatus,
}

/// HTTP methods the operations use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
  Get,
  Head,
  Post,
  Put,
  Delete,
}

impl Method {
  pub(crate) fn as_str(self) -> &'static str {
    match self {
      Self::Get => "GET",
      Self::Head => "HEAD",
      Self::Post => "POST",
      Self::Put => "PUT",
      Self::Delete => "DELETE",
    }
  }

  pub(crate) fn to_reqwest(self) -> reqwest::Method {
    match self {
      Self::Get => reqwest::Method::GET,
      Self::Head => reqwest::Method::HEAD,
      Self::Post => reqwest::Method::POST,
      Self::Put => reqwest::Method::PUT,
      Self::Delete => reqwest::Method::DELETE,
    }
  }
}

/// The URL pieces fixed for one client: built once.
#[derive(Debug, Clone)]
pub(crate) struct UrlBase {
  /// `scheme://host[:port][/base]`.
  root: String,
  /// The endpoint's query, if any.
  query: Option<String>,
  /// The `api-version` value, encoded.
  api_version: String,
  /// `scheme://host[:port][/base]/api/hubs/{encoded hub}`.
  pub(crate) hub_prefix: String,
  /// `scheme://host[:port][/base]/api/health`.
  pub(crate) health: String,
  /// `?[endpoint query&]api-version={version}`.
  pub(crate) version_query: String,
}

impl UrlBase {
  /// `endpoint` must already be a parsed URL; its path loses trailing slashes, its query is kept
  /// before `api-version` (as the SDK's URL builder does).
  pub(crate) fn new(endpoint: &url::Url, hub: &str, api_version: &str) -> Self {
    let root = endpoint[..url::Position::AfterPath].trim_end_matches('/');
    let mut version_query = String::from("?");
    if let Some(query) = endpoint.query().filter(|q| !q.is_empty()) {
      version_query.push_str(query);
      version_query.push('&');
    }
    let api_version = query_value(api_version).into_owned();
    version_query.push_str("api-version=");
    version_query.push_str(&api_version);
    Self {
      hub_prefix: format!("{root}/api/hubs/{}", path_segment(hub)),
      health: format!("{root}/api/health"),
      version_query,
      root: root.to_owned(),
      query: endpoint
        .query()
        .filter(|q| !q.is_empty())
        .map(str::to_owned),
      api_version,
    }
  }

  /// The URL the SDK requests for a `nextLink`: an absolute link as it is; a relative one (a path,
  /// with or without its leading `/`, or just a query) appended to the endpoint's path, its query
  /// after the endpoint's. Every `api-version` in the query then gets this client's value, in place;
  /// none is added.
  fn next_page(&self, link: &str) -> String {
    let mut url = if url::Url::parse(link).is_ok() {
      link.to_owned()
    } else {
      let relative = link.strip_prefix('/').unwrap_or(link);
      let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
      let mut url = format!("{}/{path}", self.root);
      let queries = [self.query.as_deref().unwrap_or(""), query];
      for (i, query) in queries.iter().filter(|q| !q.is_empty()).enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(query);
      }
      url
    };
    if let Some(start) = url.find('?') {
      let pairs: Vec<String> = url[start + 1..]
        .split('&')
        .map(|pair| match pair.split_once('=') {
          Some(("api-version", _)) => format!("api-version={}", self.api_version),
          _ => pair.to_owned(),
        })
        .collect();
      url.truncate(start + 1);
      url.push_str(&pairs.join("&"));
    }
    url
  }
}

/// A request ready to be sent (before authorisation).
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
  pub(crate) method: Method,
  /// Full URL text before WHATWG normalisation.
  pub(crate) url: String,
  pub(crate) body: Option<(&'static str, Bytes)>,
  pub(crate) accept: Option<&'static str>,
  pub(crate) success: &'static [u16],
}

#[derive(Serialize)]
struct GroupsBody<'a> {
  groups: &'a [String],
  #[serde(skip_serializing_if = "Option::is_none")]
  filter: Option<&'a str>,
}

/// Appends path segments and `&name=value` query pairs to a URL under construction.
struct UrlWriter(String);

impl UrlWriter {
  fn start(prefix: &str, extra: usize) -> Self {
    let mut url = String::with_capacity(prefix.len() + extra + 64);
    url.push_str(prefix);
    Self(url)
  }

  fn literal(&mut self, text: &str) -> &mut Self {
    self.0.push_str(text);
    self
  }

  fn segment(&mut self, value: &str) -> &mut Self {
    self.0.push('/');
    self.0.push_str(&path_segment(value));
    self
  }

  fn param(&mut self, name: &str, value: Option<&str>) -> &mut Self {
    if let Some(value) = value {
      self.0.push('&');
      self.0.push_str(name);
      self.0.push('=');
      self.0.push_str(&query_value(value));
    }
    self
  }

  fn number(&mut self, name: &str, value: Option<i64>) -> &mut Self {
    if let Some(value) = value {
      self.0.push('&');
      self.0.push_str(name);
      self.0.push('=');
      self.0.push_str(&value.to_string());
    }
    self
  }

  fn repeated(&mut self, name: &str, values: &[String]) -> &mut Self {
    for value in values {
      self.param(name, Some(value));
    }
    self
  }

  fn finish(&mut self) -> String {
    std::mem::take(&mut self.0)
  }
}

const ACCEPT_JSON: Option<&str> = Some("application/json");
const OK: &[u16] = &[200];
const ACCEPTED: &[u16] = &[202];
const NO_CONTENT: &[u16] = &[204];
const EXISTS: &[u16] = &[200, 404];

impl Operation {
  /// The request for this operation.
  pub(crate) fn prepare(self, base: &UrlBase) -> PreparedRequest {
    use Method::*;
    let q = &base.version_query;
    let hub = |path_len: usize| UrlWriter::start(&base.hub_prefix, path_len + q.len());
    let request = |method, url, body, accept, success| PreparedRequest {
      method,
      url,
      body,
      accept,
      success,
    };
    let payload_body = |p: Payload| Some((p.kind.content_type(), p.body));
    match self {
      Self::SendToAll {
        payload,
        excluded,
        filter,
        message_ttl_seconds,
      } => {
        let url = hub(6)
          .literal("/:send")
          .literal(q)
          .repeated("excluded", &excluded)
          .param("filter", filter.as_deref())
          .number("messageTtlSeconds", message_ttl_seconds)
          .finish();
        request(Post, url, payload_body(payload), ACCEPT_JSON, ACCEPTED)
      }
      Self::SendToGroup {
        group,
        payload,
        excluded,
        filter,
        message_ttl_seconds,
      } => {
        let url = hub(group.len() + 14)
          .literal("/groups")
          .segment(&group)
          .literal("/:send")
          .literal(q)
          .repeated("excluded", &excluded)
          .param("filter", filter.as_deref())
          .number("messageTtlSeconds", message_ttl_seconds)
          .finish();
        request(Post, url, payload_body(payload), ACCEPT_JSON, ACCEPTED)
      }
      Self::SendToUser {
        user_id,
        payload,
        filter,
        message_ttl_seconds,
      } => {
        let url = hub(user_id.len() + 13)
          .literal("/users")
          .segment(&user_id)
          .literal("/:send")
          .literal(q)
          .param("filter", filter.as_deref())
          .number("messageTtlSeconds", message_ttl_seconds)
          .finish();
        request(Post, url, payload_body(payload), ACCEPT_JSON, ACCEPTED)
      }
      Self::SendToConnection {
        connection_id,
        payload,
        message_ttl_seconds,
      } => {
        let url = hub(connection_id.len() + 19)
          .literal("/connections")
          .segment(&connection_id)
          .literal("/:send")
          .literal(q)
          .number("messageTtlSeconds", message_ttl_seconds)
          .finish();
        request(Post, url, payload_body(payload), ACCEPT_JSON, ACCEPTED)
      }
      Self::ConnectionExists { connection_id } => {
        let url = hub(connection_id.len() + 13)
          .literal("/connections")
          .segment(&connection_id)
          .literal(q)
          .finish();
        request(Head, url, None, None, EXISTS)
      }
      Self::GroupExists { group } => {
        let url = hub(group.len() + 8)
          .literal("/groups")
          .segment(&group)
          .literal(q)
          .finish();
        request(Head, url, None, None, EXISTS)
      }
      Self::UserExists { user_id } => {
        let url = hub(user_id.len() + 7)
          .literal("/users")
          .segment(&user_id)
          .literal(q)
          .finish();
        request(Head, url, None, None, EXISTS)
      }
      Self::CloseConnection {
        connection_id,
        reason,
      } => {
        let url = hub(connection_id.len() + 13)
          .literal("/connections")
          .segment(&connection_id)
          .literal(q)
          .param("reason", reason.as_deref())
          .finish();
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::CloseAllConnections { excluded, reason } => {
        let url = hub(18)
          .literal("/:closeConnections")
          .literal(q)
          .repeated("excluded", &excluded)
          .param("reason", reason.as_deref())
          .finish();
        request(Post, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::CloseGroupConnections {
        group,
        excluded,
        reason,
      } => {
        let url = hub(group.len() + 26)
          .literal("/groups")
          .segment(&group)
          .literal("/:closeConnections")
          .literal(q)
          .repeated("excluded", &excluded)
          .param("reason", reason.as_deref())
          .finish();
        request(Post, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::CloseUserConnections {
        user_id,
        excluded,
        reason,
      } => {
        let url = hub(user_id.len() + 25)
          .literal("/users")
          .segment(&user_id)
          .literal("/:closeConnections")
          .literal(q)
          .repeated("excluded", &excluded)
          .param("reason", reason.as_deref())
          .finish();
        request(Post, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::AddConnectionToGroup {
        group,
        connection_id,
      } => {
        let url = group_connection_url(
          hub(group.len() + connection_id.len() + 21),
          &group,
          &connection_id,
          q,
        );
        request(Put, url, None, ACCEPT_JSON, OK)
      }
      Self::RemoveConnectionFromGroup {
        group,
        connection_id,
      } => {
        let url = group_connection_url(
          hub(group.len() + connection_id.len() + 21),
          &group,
          &connection_id,
          q,
        );
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::AddUserToGroup { group, user_id } => {
        let url = user_group_url(hub(group.len() + user_id.len() + 15), &user_id, &group, q);
        request(Put, url, None, ACCEPT_JSON, OK)
      }
      Self::RemoveUserFromGroup { group, user_id } => {
        let url = user_group_url(hub(group.len() + user_id.len() + 15), &user_id, &group, q);
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::RemoveUserFromAllGroups { user_id } => {
        let url = hub(user_id.len() + 14)
          .literal("/users")
          .segment(&user_id)
          .literal("/groups")
          .literal(q)
          .finish();
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::RemoveConnectionFromAllGroups { connection_id } => {
        let url = hub(connection_id.len() + 20)
          .literal("/connections")
          .segment(&connection_id)
          .literal("/groups")
          .literal(q)
          .finish();
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::AddConnectionsToGroups { groups, filter } => {
        let url = hub(12).literal("/:addToGroups").literal(q).finish();
        let body = groups_body(&groups, filter.as_deref());
        request(Post, url, body, ACCEPT_JSON, OK)
      }
      Self::RemoveConnectionsFromGroups { groups, filter } => {
        let url = hub(17).literal("/:removeFromGroups").literal(q).finish();
        let body = groups_body(&groups, filter.as_deref());
        request(Post, url, body, ACCEPT_JSON, OK)
      }
      Self::GrantPermission {
        permission,
        connection_id,
        target_name,
      } => {
        let url = permission_url(
          hub(connection_id.len() + 40),
          permission,
          &connection_id,
          target_name.as_deref(),
          q,
        );
        request(Put, url, None, ACCEPT_JSON, OK)
      }
      Self::RevokePermission {
        permission,
        connection_id,
        target_name,
      } => {
        let url = permission_url(
          hub(connection_id.len() + 40),
          permission,
          &connection_id,
          target_name.as_deref(),
          q,
        );
        request(Delete, url, None, ACCEPT_JSON, NO_CONTENT)
      }
      Self::CheckPermission {
        permission,
        connection_id,
        target_name,
      } => {
        let url = permission_url(
          hub(connection_id.len() + 40),
          permission,
          &connection_id,
          target_name.as_deref(),
          q,
        );
        request(Head, url, None, None, EXISTS)
      }
      Self::ListConnectionsInGroup {
        group,
        max_page_size,
        top,
      } => {
        let url = hub(group.len() + 20)
          .literal("/groups")
          .segment(&group)
          .literal("/connections")
          .literal(q)
          .number("maxpagesize", max_page_size)
          .number("top", top)
          .finish();
        request(Get, url, None, ACCEPT_JSON, OK)
      }
      Self::NextPage { url } => request(Get, base.next_page(&url), None, ACCEPT_JSON, OK),
      Self::GenerateClientToken {
        user_id,
        roles,
        minutes_to_expire,
        groups,
        client_type,
      } => {
        let url = hub(14)
          .literal("/:generateToken")
          .literal(q)
          .param("userId", user_id.as_deref())
          .repeated("role", &roles)
          .number("minutesToExpire", Some(minutes_to_expire))
          .repeated("group", &groups)
          .param("clientType", client_type.map(ClientProtocol::as_str))
          .finish();
        request(Post, url, None, Some("application/json, text/json"), OK)
      }
      Self::GetServiceStatus => {
        let url = UrlWriter::start(&base.health, q.len()).literal(q).finish();
        request(Head, url, None, None, OK)
      }
    }
  }
}

fn group_connection_url(mut url: UrlWriter, group: &str, connection_id: &str, q: &str) -> String {
  url
    .literal("/groups")
    .segment(group)
    .literal("/connections")
    .segment(connection_id)
    .literal(q)
    .finish()
}

fn user_group_url(mut url: UrlWriter, user_id: &str, group: &str, q: &str) -> String {
  url
    .literal("/users")
    .segment(user_id)
    .literal("/groups")
    .segment(group)
    .literal(q)
    .finish()
}

fn permission_url(
  mut url: UrlWriter,
  permission: PermissionName,
  connection_id: &str,
  target_name: Option<&str>,
  q: &str,
) -> String {
  url
    .literal("/permissions")
    .segment(permission.as_str())
    .literal("/connections")
    .segment(connection_id)
    .literal(q)
    .param("targetName", target_name)
    .finish()
}

fn groups_body(groups: &[String], filter: Option<&str>) -> Option<(&'static str, Bytes)> {
  let json = serde_json::to_vec(&GroupsBody { groups, filter }).expect("strings always serialise");
  Some((ContentKind::Json.content_type(), Bytes::from(json)))
}

#[cfg(test)]
mod tests {
  use super::*;

  const WEIRD_USER: &str = "u 1/ü'()*!~%😀+&=?#";
  const WEIRD_USER_PATH: &str = "u%201%2F%C3%BC'()*!~%25%F0%9F%98%80%2B%26%3D%3F%23";
  const WEIRD_GROUP: &str = "g 1/ü'()*!~%😀";
  const WEIRD_GROUP_PATH: &str = "g%201%2F%C3%BC'()*!~%25%F0%9F%98%80";

  fn base() -> UrlBase {
    UrlBase::new(
      &url::Url::parse("http://127.0.0.1:41415/").unwrap(),
      "Hub_1",
      "2024-12-01",
    )
  }

  fn json(text: &str) -> Payload {
    Payload {
      kind: ContentKind::Json,
      body: Bytes::copy_from_slice(text.as_bytes()),
    }
  }

  /// (method, path and query, accept, body content type, success statuses)
  fn summary(
    op: Operation,
  ) -> (
    &'static str,
    String,
    Option<&'static str>,
    Option<&'static str>,
    &'static [u16],
  ) {
    let prepared = op.prepare(&base());
    let path = prepared
      .url
      .strip_prefix("http://127.0.0.1:41415")
      .expect("built on the endpoint")
      .to_owned();
    (
      prepared.method.as_str(),
      path,
      prepared.accept,
      prepared.body.map(|(content_type, _)| content_type),
      prepared.success,
    )
  }

  // Expected method / path / query / Accept values are what @azure/web-pubsub 1.2.0 sent for the
  // same calls to a recording server.
  #[test]
  fn sends() {
    assert_eq!(
      summary(Operation::SendToAll {
        payload: Payload {
          kind: ContentKind::Text,
          body: "hi".into()
        },
        excluded: vec!["a b".into(), "c'd".into()],
        filter: Some("userId eq 'o''k' and x ü".into()),
        message_ttl_seconds: Some(10),
      }),
      (
        "POST",
        "/api/hubs/Hub_1/:send?api-version=2024-12-01&excluded=a%20b&excluded=c%27d&filter=userId%20eq%20%27o%27%27k%27%20and%20x%20%C3%BC&messageTtlSeconds=10".into(),
        Some("application/json"),
        Some("text/plain"),
        &[202][..]
      )
    );
    assert_eq!(
      summary(Operation::SendToAll {
        payload: json("\"s\""),
        excluded: vec![],
        filter: Some(String::new()),
        message_ttl_seconds: Some(0),
      })
      .1,
      "/api/hubs/Hub_1/:send?api-version=2024-12-01&filter=&messageTtlSeconds=0"
    );
    assert_eq!(
      summary(Operation::SendToUser {
        user_id: WEIRD_USER.into(),
        payload: json("\"x\""),
        filter: Some("f".into()),
        message_ttl_seconds: Some(5),
      })
      .1,
      format!("/api/hubs/Hub_1/users/{WEIRD_USER_PATH}/:send?api-version=2024-12-01&filter=f&messageTtlSeconds=5")
    );
    assert_eq!(
      summary(Operation::SendToConnection {
        connection_id: WEIRD_USER.into(),
        payload: Payload {
          kind: ContentKind::Binary,
          body: Bytes::from_static(&[1, 2, 3])
        },
        message_ttl_seconds: Some(5),
      }),
      (
        "POST",
        format!("/api/hubs/Hub_1/connections/{WEIRD_USER_PATH}/:send?api-version=2024-12-01&messageTtlSeconds=5"),
        Some("application/json"),
        Some("application/octet-stream"),
        &[202][..]
      )
    );
    assert_eq!(
      summary(Operation::SendToGroup {
        group: WEIRD_GROUP.into(),
        payload: json("\"x\""),
        excluded: vec!["a".into()],
        filter: Some("f".into()),
        message_ttl_seconds: Some(1),
      })
      .1,
      format!("/api/hubs/Hub_1/groups/{WEIRD_GROUP_PATH}/:send?api-version=2024-12-01&excluded=a&filter=f&messageTtlSeconds=1")
    );
  }

  #[test]
  fn exists_checks_send_no_accept_and_accept_404() {
    let exists = |op| summary(op);
    assert_eq!(
      exists(Operation::ConnectionExists {
        connection_id: WEIRD_USER.into()
      }),
      (
        "HEAD",
        format!("/api/hubs/Hub_1/connections/{WEIRD_USER_PATH}?api-version=2024-12-01"),
        None,
        None,
        &[200, 404][..]
      )
    );
    assert_eq!(
      exists(Operation::GroupExists { group: "g".into() }).1,
      "/api/hubs/Hub_1/groups/g?api-version=2024-12-01"
    );
    assert_eq!(
      exists(Operation::UserExists {
        user_id: "u".into()
      })
      .1,
      "/api/hubs/Hub_1/users/u?api-version=2024-12-01"
    );
    assert_eq!(
      exists(Operation::CheckPermission {
        permission: Permission::JoinLeaveGroup.into(),
        connection_id: "cid".into(),
        target_name: Some("t".into()),
      }),
      (
        "HEAD",
        "/api/hubs/Hub_1/permissions/joinLeaveGroup/connections/cid?api-version=2024-12-01&targetName=t".into(),
        None,
        None,
        &[200, 404][..]
      )
    );
    assert_eq!(
      exists(Operation::GetServiceStatus),
      (
        "HEAD",
        "/api/health?api-version=2024-12-01".into(),
        None,
        None,
        &[200][..]
      )
    );
  }

  #[test]
  fn closes() {
    assert_eq!(
      summary(Operation::CloseConnection {
        connection_id: "cid".into(),
        reason: Some("bye now'".into()),
      }),
      (
        "DELETE",
        "/api/hubs/Hub_1/connections/cid?api-version=2024-12-01&reason=bye%20now%27".into(),
        Some("application/json"),
        None,
        &[204][..]
      )
    );
    assert_eq!(
      summary(Operation::CloseConnection {
        connection_id: "cid".into(),
        reason: None,
      })
      .1,
      "/api/hubs/Hub_1/connections/cid?api-version=2024-12-01"
    );
    assert_eq!(
      summary(Operation::CloseAllConnections {
        excluded: vec!["a".into(), "b".into()],
        reason: Some("r".into()),
      }),
      (
        "POST",
        "/api/hubs/Hub_1/:closeConnections?api-version=2024-12-01&excluded=a&excluded=b&reason=r"
          .into(),
        Some("application/json"),
        None,
        &[204][..]
      )
    );
    assert_eq!(
      summary(Operation::CloseGroupConnections {
        group: WEIRD_GROUP.into(),
        excluded: vec![],
        reason: Some("r".into()),
      })
      .1,
      format!("/api/hubs/Hub_1/groups/{WEIRD_GROUP_PATH}/:closeConnections?api-version=2024-12-01&reason=r")
    );
    assert_eq!(
      summary(Operation::CloseUserConnections {
        user_id: "u".into(),
        excluded: vec![],
        reason: Some("r".into()),
      })
      .1,
      "/api/hubs/Hub_1/users/u/:closeConnections?api-version=2024-12-01&reason=r"
    );
  }

  #[test]
  fn membership() {
    assert_eq!(
      summary(Operation::AddConnectionToGroup {
        group: WEIRD_GROUP.into(),
        connection_id: "cid".into(),
      }),
      (
        "PUT",
        format!("/api/hubs/Hub_1/groups/{WEIRD_GROUP_PATH}/connections/cid?api-version=2024-12-01"),
        Some("application/json"),
        None,
        &[200][..]
      )
    );
    assert_eq!(
      summary(Operation::RemoveConnectionFromGroup {
        group: WEIRD_GROUP.into(),
        connection_id: "cid".into(),
      })
      .0,
      "DELETE"
    );
    assert_eq!(
      summary(Operation::AddUserToGroup {
        group: WEIRD_GROUP.into(),
        user_id: WEIRD_USER.into(),
      })
      .1,
      format!(
        "/api/hubs/Hub_1/users/{WEIRD_USER_PATH}/groups/{WEIRD_GROUP_PATH}?api-version=2024-12-01"
      )
    );
    assert_eq!(
      summary(Operation::RemoveUserFromGroup {
        group: WEIRD_GROUP.into(),
        user_id: "u".into(),
      }),
      (
        "DELETE",
        format!("/api/hubs/Hub_1/users/u/groups/{WEIRD_GROUP_PATH}?api-version=2024-12-01"),
        Some("application/json"),
        None,
        &[204][..]
      )
    );
    assert_eq!(
      summary(Operation::RemoveUserFromAllGroups {
        user_id: "u".into()
      })
      .1,
      "/api/hubs/Hub_1/users/u/groups?api-version=2024-12-01"
    );
    assert_eq!(
      summary(Operation::RemoveConnectionFromAllGroups {
        connection_id: "cid".into()
      }),
      (
        "DELETE",
        "/api/hubs/Hub_1/connections/cid/groups?api-version=2024-12-01".into(),
        Some("application/json"),
        None,
        &[204][..]
      )
    );
  }

  #[test]
  fn bulk_groups_bodies() {
    let prepared = Operation::AddConnectionsToGroups {
      groups: vec!["g1".into(), "g2".into()],
      filter: Some("userId eq 'a'".into()),
    }
    .prepare(&base());
    assert_eq!(
      prepared.url,
      "http://127.0.0.1:41415/api/hubs/Hub_1/:addToGroups?api-version=2024-12-01"
    );
    assert_eq!(prepared.success, &[200]);
    let (content_type, body) = prepared.body.unwrap();
    assert_eq!(content_type, "application/json");
    assert_eq!(
      &body[..],
      br#"{"groups":["g1","g2"],"filter":"userId eq 'a'"}"#
    );
    let prepared = Operation::RemoveConnectionsFromGroups {
      groups: vec!["g1".into()],
      filter: None,
    }
    .prepare(&base());
    assert_eq!(
      prepared.url,
      "http://127.0.0.1:41415/api/hubs/Hub_1/:removeFromGroups?api-version=2024-12-01"
    );
    assert_eq!(&prepared.body.unwrap().1[..], br#"{"groups":["g1"]}"#);
  }

  #[test]
  fn permissions() {
    assert_eq!(
      summary(Operation::GrantPermission {
        permission: Permission::SendToGroup.into(),
        connection_id: "cid".into(),
        target_name: Some("t 1".into()),
      }),
      (
        "PUT",
        "/api/hubs/Hub_1/permissions/sendToGroup/connections/cid?api-version=2024-12-01&targetName=t%201".into(),
        Some("application/json"),
        None,
        &[200][..]
      )
    );
    assert_eq!(
      summary(Operation::GrantPermission {
        permission: Permission::JoinLeaveGroup.into(),
        connection_id: "cid".into(),
        target_name: None,
      })
      .1,
      "/api/hubs/Hub_1/permissions/joinLeaveGroup/connections/cid?api-version=2024-12-01"
    );
    assert_eq!(
      summary(Operation::RevokePermission {
        permission: Permission::SendToGroup.into(),
        connection_id: "cid".into(),
        target_name: Some("t".into()),
      }),
      (
        "DELETE",
        "/api/hubs/Hub_1/permissions/sendToGroup/connections/cid?api-version=2024-12-01&targetName=t".into(),
        Some("application/json"),
        None,
        &[204][..]
      )
    );
  }

  #[test]
  fn listing_and_paging() {
    assert_eq!(
      summary(Operation::ListConnectionsInGroup {
        group: WEIRD_GROUP.into(),
        max_page_size: Some(5),
        top: Some(7),
      }),
      (
        "GET",
        format!("/api/hubs/Hub_1/groups/{WEIRD_GROUP_PATH}/connections?api-version=2024-12-01&maxpagesize=5&top=7"),
        Some("application/json"),
        None,
        &[200][..]
      )
    );
    let next = "https://other/api/hubs/h/groups/g/connections?maxpagesize=2&continuationToken=x&api-version=2024-12-01";
    let prepared = Operation::NextPage { url: next.into() }.prepare(&base());
    assert_eq!(prepared.url, next);
    assert_eq!(prepared.method, Method::Get);
  }

  #[test]
  fn next_links_resolve_as_the_sdk_resolves_them() {
    let prefixed = UrlBase::new(
      &url::Url::parse("http://h:1/prefix/").unwrap(),
      "hub",
      "2024-12-01",
    );
    let cases = [
      (
        "/a/b?continuationToken=c",
        "http://h:1/prefix/a/b?continuationToken=c",
      ),
      (
        "a/b?continuationToken=c",
        "http://h:1/prefix/a/b?continuationToken=c",
      ),
      (
        "?continuationToken=c",
        "http://h:1/prefix/?continuationToken=c",
      ),
      ("//elsewhere/x", "http://h:1/prefix//elsewhere/x"),
      (
        "/q?api-version=1&API-VERSION=2&c=x%20y",
        "http://h:1/prefix/q?api-version=2024-12-01&API-VERSION=2&c=x%20y",
      ),
      (
        "https://other/x?api-version=1&api-version=2&t=1",
        "https://other/x?api-version=2024-12-01&api-version=2024-12-01&t=1",
      ),
      ("https://other/x", "https://other/x"),
    ];
    for (link, expected) in cases {
      assert_eq!(prefixed.next_page(link), expected, "{link}");
    }
  }

  #[test]
  fn generate_token_query_matches_the_sdk() {
    assert_eq!(
      summary(Operation::GenerateClientToken {
        user_id: Some("u 1'".into()),
        roles: vec!["a".into(), "b".into()],
        minutes_to_expire: 5,
        groups: vec!["g1".into(), "g2".into()],
        client_type: Some(ClientProtocol::Mqtt),
      }),
      (
        "POST",
        "/api/hubs/Hub_1/:generateToken?api-version=2024-12-01&userId=u%201%27&role=a&role=b&minutesToExpire=5&group=g1&group=g2&clientType=mqtt".into(),
        Some("application/json, text/json"),
        None,
        &[200][..]
      )
    );
    assert_eq!(
      summary(Operation::GenerateClientToken {
        user_id: None,
        roles: vec![],
        minutes_to_expire: 60,
        groups: vec![],
        client_type: None,
      })
      .1,
      "/api/hubs/Hub_1/:generateToken?api-version=2024-12-01&minutesToExpire=60"
    );
    assert_eq!(
      summary(Operation::GenerateClientToken {
        user_id: Some(String::new()),
        roles: vec![],
        minutes_to_expire: 60,
        groups: vec![],
        client_type: Some(ClientProtocol::SocketIo),
      })
      .1,
      "/api/hubs/Hub_1/:generateToken?api-version=2024-12-01&userId=&minutesToExpire=60&clientType=socketio"
    );
  }

  #[test]
  fn endpoint_forms_like_the_sdk() {
    let url = |endpoint: &str| {
      let base = UrlBase::new(
        &url::Url::parse(endpoint).unwrap(),
        "h[u]b`,.x",
        "2024-12-01",
      );
      Operation::GetServiceStatus.prepare(&base).url + " " + &base.hub_prefix
    };
    assert_eq!(
      url("http://h:1/base/"),
      "http://h:1/base/api/health?api-version=2024-12-01 http://h:1/base/api/hubs/h%5Bu%5Db%60%2C.x"
    );
    assert_eq!(
      url("http://h:1/base"),
      "http://h:1/base/api/health?api-version=2024-12-01 http://h:1/base/api/hubs/h%5Bu%5Db%60%2C.x"
    );
    assert_eq!(
      url("http://h/a?x=1"),
      "http://h/a/api/health?x=1&api-version=2024-12-01 http://h/a/api/hubs/h%5Bu%5Db%60%2C.x"
    );
  }
}
