//! REST API tests: handlers through `tower::ServiceExt::oneshot` with connections registered
//! directly in the hub state, plus a real server on 127.0.0.1:0 driven with reqwest.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use tokio::sync::mpsc::Receiver;
use tower::ServiceExt;
use webpubsub_emulator::config::DEFAULT_ACCESS_KEY;
use webpubsub_emulator::roles::Roles;
use webpubsub_emulator::state::{Connection, ConnectionInit, MessageSource, Outbound};
use webpubsub_emulator::{app, EmulatorConfig, EmulatorState, SharedState};
use webpubsub_protocol::jwt::SigningKey;
use webpubsub_protocol::payload::ContentKind;

const HOST: &str = "localhost:8080";

fn now() -> u64 {
  webpubsub_emulator::auth::now_seconds()
}

fn new_state() -> SharedState {
  EmulatorState::new(EmulatorConfig::default())
}

fn connect(
  state: &SharedState,
  hub: &str,
  id: &str,
  user: Option<&str>,
) -> (Arc<Connection>, Receiver<Outbound>) {
  let hub = state.hubs.hub(hub);
  let (conn, rx) = Connection::new(ConnectionInit {
    max_queued_bytes: webpubsub_emulator::state::DEFAULT_MAX_QUEUED_BYTES,
    id: id.to_owned(),
    hub: hub.name().to_owned(),
    user_id: user.map(str::to_owned),
    protocol: Some("json.webpubsub.azure.v1".to_owned()),
    roles: Roles::default(),
  });
  hub.add_connection(conn.clone());
  (conn, rx)
}

/// A request signed like the SDK signs it: aud = the full request URL.
struct Call {
  method: Method,
  target: String,
  token: Option<String>,
  content_type: Option<&'static str>,
  headers: Vec<(&'static str, String)>,
  body: Vec<u8>,
}

impl Call {
  fn new(method: Method, target: &str) -> Self {
    let token =
      SigningKey::new(DEFAULT_ACCESS_KEY).sign_rest_token(&format!("http://{HOST}{target}"), now());
    Call {
      method,
      target: target.to_owned(),
      token: Some(token),
      content_type: None,
      headers: Vec::new(),
      body: Vec::new(),
    }
  }

  fn body(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
    self.content_type = Some(content_type);
    self.body = body.into();
    self
  }

  fn header(mut self, name: &'static str, value: &str) -> Self {
    self.headers.push((name, value.to_owned()));
    self
  }

  fn token(mut self, token: Option<String>) -> Self {
    self.token = token;
    self
  }

  async fn send(self, state: &SharedState) -> Response {
    let mut request = Request::builder()
      .method(self.method)
      .uri(&self.target)
      .header(header::HOST, HOST);
    if let Some(token) = &self.token {
      request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = self.content_type {
      request = request.header(header::CONTENT_TYPE, content_type);
    }
    for (name, value) in &self.headers {
      request = request.header(*name, value);
    }
    let request = request.body(Body::from(self.body)).unwrap();
    app(state.clone()).oneshot(request).await.unwrap()
  }
}

async fn text(response: Response) -> String {
  let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
    .await
    .unwrap();
  String::from_utf8(bytes.to_vec()).unwrap()
}

fn error_code(response: &Response) -> Option<&str> {
  response
    .headers()
    .get("x-ms-error-code")
    .map(|v| v.to_str().unwrap())
}

fn has_versions(response: &Response) -> bool {
  response.headers().contains_key("api-supported-versions")
}

fn next_data(rx: &mut Receiver<Outbound>) -> Arc<webpubsub_emulator::state::DataMessage> {
  match rx.try_recv() {
    Ok(Outbound::Data(message)) => message,
    other => panic!("expected a data message, got {other:?}"),
  }
}

#[tokio::test]
async fn health_needs_no_token_and_has_no_version_header() {
  let state = new_state();
  let response = Call::new(Method::HEAD, "/api/health?api-version=2024-12-01")
    .token(None)
    .send(&state)
    .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert!(!has_versions(&response));
}

#[tokio::test]
async fn send_to_all_delivers_json_with_metadata_and_honours_excluded_and_filter() {
  let state = new_state();
  let (_a, mut rx_a) = connect(&state, "chat", "conn-a", Some("alice"));
  let (_b, mut rx_b) = connect(&state, "chat", "conn-b", Some("bob"));
  let (_c, mut rx_c) = connect(&state, "chat", "conn-c", None);

  let response = Call::new(
    Method::POST,
    "/api/hubs/Chat/:send?api-version=2024-12-01&excluded=conn-c",
  )
  .body("application/json", r#"{"x":1}"#)
  .header("X-WebPubSub-Metadata-Trace", "t1")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::ACCEPTED);
  assert!(has_versions(&response));
  assert_eq!(text(response).await, "");
  for rx in [&mut rx_a, &mut rx_b] {
    let message = next_data(rx);
    assert_eq!(message.kind, ContentKind::Json);
    assert_eq!(&message.data[..], br#"{"x":1}"#);
    assert_eq!(message.source, MessageSource::Server);
    assert_eq!(
      message.metadata,
      vec![("trace".to_owned(), "t1".to_owned())]
    );
  }
  assert!(rx_c.try_recv().is_err());

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:send?api-version=2024-12-01&filter=userId%20ne%20%27alice%27",
  )
  .body("text/plain; charset=utf-8", "hi")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::ACCEPTED);
  assert!(rx_a.try_recv().is_err());
  let message = next_data(&mut rx_b);
  assert_eq!(
    (message.kind, &message.data[..]),
    (ContentKind::Text, &b"hi"[..])
  );
  let message = next_data(&mut rx_c);
  assert_eq!(message.kind, ContentKind::Text);
}

#[tokio::test]
async fn invalid_filter_is_the_recorded_validation_problem() {
  let state = new_state();
  let response = Call::new(
    Method::POST,
    "/api/hubs/simplechat/:send?api-version=2024-12-01&filter=invalid%20filter",
  )
  .body("text/plain", "hello")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  assert_eq!(error_code(&response), Some("Error.BadRequest"));
  assert!(!has_versions(&response));
  assert_eq!(
    response.headers()[header::CONTENT_TYPE],
    "application/problem+json; charset=utf-8"
  );
  let message = "Invalid syntax for 'invalid filter': Syntax error at position 14 in 'invalid filter'. (Parameter 'filter')";
  let expected = serde_json::json!({
    "code": "Error.BadRequest", "message": message, "target": "filter",
    "errors": {"filter": [message]}, "type": null,
    "title": "One or more validation errors occurred.", "status": 400,
    "detail": null, "instance": null, "extensions": {}
  });
  let body = text(response).await;
  assert_eq!(body.len(), 416);
  assert_eq!(
    serde_json::from_str::<serde_json::Value>(&body).unwrap(),
    expected
  );
}

#[tokio::test]
async fn send_bodies_are_checked() {
  let state = new_state();
  let (_a, mut rx) = connect(&state, "chat", "conn-a", None);
  let send = |content_type: &'static str, body: Vec<u8>| {
    Call::new(
      Method::POST,
      "/api/hubs/chat/connections/conn-a/:send?api-version=2024-12-01",
    )
    .body(content_type, body)
  };
  assert_eq!(
    send("application/json", b"{oops".to_vec())
      .send(&state)
      .await
      .status(),
    StatusCode::BAD_REQUEST
  );
  assert_eq!(
    send("application/xml", b"<a/>".to_vec())
      .send(&state)
      .await
      .status(),
    StatusCode::UNSUPPORTED_MEDIA_TYPE
  );
  assert_eq!(
    send("application/octet-stream", vec![0; 1024 * 1024 + 1])
      .send(&state)
      .await
      .status(),
    StatusCode::PAYLOAD_TOO_LARGE
  );
  assert!(rx.try_recv().is_err(), "rejected sends deliver nothing");
  let response = send("application/octet-stream", vec![0, 1, 2])
    .send(&state)
    .await;
  assert_eq!(response.status(), StatusCode::ACCEPTED);
  let message = next_data(&mut rx);
  assert_eq!(
    (message.kind, &message.data[..]),
    (ContentKind::Binary, &[0u8, 1, 2][..])
  );

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:send?api-version=2024-12-01&messageTtlSeconds=301",
  )
  .body("text/plain", "x")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  assert_eq!(body["target"], "messageTtlSeconds");
  assert_eq!(
    body["message"],
    "The field messageTtlSeconds must be between 0 and 300."
  );

  let response = Call::new(Method::POST, "/api/hubs/chat/:send?api-version=2024-12-01")
    .body("text/plain", "x")
    .header("X-WebPubSub-Metadata-", "v")
    .send(&state)
    .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sends_to_nobody_are_accepted() {
  let state = new_state();
  for target in [
    "/api/hubs/nobody/:send?api-version=2024-12-01",
    "/api/hubs/nobody/groups/g/:send?api-version=2024-12-01",
    "/api/hubs/nobody/users/u/:send?api-version=2024-12-01",
    "/api/hubs/nobody/connections/c/:send?api-version=2024-12-01",
  ] {
    let response = Call::new(Method::POST, target)
      .body("text/plain", "x")
      .send(&state)
      .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{target}");
  }
}

#[tokio::test]
async fn auth_failures_are_empty_401s_and_change_nothing() {
  let state = new_state();
  let (_a, mut rx) = connect(&state, "chat", "conn-a", None);
  let target = "/api/hubs/chat/connections/conn-a?api-version=2024-12-01";
  let other_key = SigningKey::new("ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210ZYXWVUTS");
  let tokens = [
    None,
    Some("not-a-jwt".to_owned()),
    Some(other_key.sign_rest_token(&format!("http://{HOST}{target}"), now())),
    Some(SigningKey::new(DEFAULT_ACCESS_KEY).sign_rest_token(
      &format!("http://{HOST}/api/hubs/chat/connections/conn-b"),
      now(),
    )),
    Some(
      SigningKey::new(DEFAULT_ACCESS_KEY)
        .sign_rest_token(&format!("http://{HOST}{target}"), now() - 3600 - 301),
    ),
  ];
  for token in tokens {
    let response = Call::new(Method::DELETE, target)
      .token(token)
      .send(&state)
      .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(response).await, "");
  }
  assert!(state.hubs.hub("chat").connection("conn-a").is_some());
  assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn tokens_for_another_host_or_without_query_are_accepted() {
  let state = new_state();
  let key = SigningKey::new(DEFAULT_ACCESS_KEY);
  let target = "/api/hubs/chat/users/u/:send?api-version=2024-12-01";
  for aud in [
    "http://127.0.0.1:9999/api/hubs/chat/users/u/:send?api-version=2024-12-01".to_owned(),
    format!("HTTP://{HOST}/API/hubs/chat/users/u/:send"),
  ] {
    let response = Call::new(Method::POST, target)
      .token(Some(key.sign_rest_token(&aud, now())))
      .body("text/plain", "x")
      .send(&state)
      .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{aud}");
  }
}

#[tokio::test]
async fn close_connection_sends_close_with_reason_and_removes_it() {
  let state = new_state();
  let (_a, mut rx_a) = connect(&state, "chat", "conn-a", None);
  let (_b, mut rx_b) = connect(&state, "chat", "conn-b", None);
  let response = Call::new(
    Method::DELETE,
    "/api/hubs/chat/connections/conn-a?api-version=2024-12-01&reason=bye%20now",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NO_CONTENT);
  assert!(
    matches!(rx_a.try_recv(), Ok(Outbound::Close { code: 1000, reason }) if reason == "bye now")
  );

  let response = Call::new(
    Method::HEAD,
    "/api/hubs/chat/connections/conn-a?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NOT_FOUND);
  assert_eq!(error_code(&response), Some("Warning.Connection.NotExisted"));
  assert!(has_versions(&response));
  assert_eq!(text(response).await, "", "HEAD carries no body");

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:closeConnections?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NO_CONTENT);
  assert!(
    matches!(rx_b.try_recv(), Ok(Outbound::Close { code: 1000, reason }) if reason == "Closed by REST API.")
  );
  assert_eq!(state.hubs.hub("chat").connection_count(), 0);
}

#[tokio::test]
async fn group_membership_and_exists() {
  let state = new_state();
  let (_a, mut rx) = connect(&state, "chat", "conn-a", Some("alice"));
  let response = Call::new(
    Method::PUT,
    "/api/hubs/chat/groups/group/connections/xxxx?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NOT_FOUND);
  assert_eq!(error_code(&response), Some("Error.Connection.NotExisted"));
  assert_eq!(
    text(response).await,
    r#"{"code":"Error.Connection.NotExisted","message":"Connection `xxxx` is not found.","target":"Connection","details":null,"inner":null}"#
  );

  let put = Call::new(
    Method::PUT,
    "/api/hubs/chat/groups/g%2F1%20%C3%A4/connections/conn-a?api-version=2024-12-01",
  );
  assert_eq!(put.send(&state).await.status(), StatusCode::OK);
  let response = Call::new(
    Method::HEAD,
    "/api/hubs/chat/groups/g%2F1%20%C3%A4?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert!(state
    .hubs
    .hub("chat")
    .connection("conn-a")
    .unwrap()
    .in_group("g/1 ä"));

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/groups/g%2F1%20%C3%A4/:send?api-version=2024-12-01",
  )
  .body("text/plain", "to group")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::ACCEPTED);
  assert_eq!(&next_data(&mut rx).data[..], b"to group");

  let response = Call::new(
    Method::DELETE,
    "/api/hubs/chat/connections/conn-a/groups?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NO_CONTENT);
  let response = Call::new(
    Method::HEAD,
    "/api/hubs/chat/groups/g%2F1%20%C3%A4?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NOT_FOUND);
  assert_eq!(error_code(&response), Some("Warning.Group.NotExisted"));

  let response = Call::new(
    Method::DELETE,
    "/api/hubs/chat/connections/conn-a/groups?api-version=2021-10-01",
  )
  .send(&state)
  .await;
  assert_eq!(
    response.status(),
    StatusCode::BAD_REQUEST,
    "RemoveConnectionFromAllGroups needs 2022-11-01"
  );
}

#[tokio::test]
async fn user_names_with_special_characters_round_trip() {
  let state = new_state();
  let user = "tenant/ä b%+";
  let (_a, mut rx) = connect(&state, "chat", "conn-a", Some(user));
  let encoded = "tenant%2F%C3%A4%20b%25%2B";
  let response = Call::new(
    Method::HEAD,
    &format!("/api/hubs/chat/users/{encoded}?api-version=2024-12-01"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  let response = Call::new(
    Method::POST,
    &format!("/api/hubs/chat/users/{encoded}/:send?api-version=2024-12-01"),
  )
  .body("text/plain", "hi")
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::ACCEPTED);
  assert_eq!(&next_data(&mut rx).data[..], b"hi");

  let response = Call::new(
    Method::PUT,
    "/api/hubs/chat/users/fake-user/groups/group1?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NOT_FOUND);
  assert_eq!(
    text(response).await,
    r#"{"code":"Warning.User.NotExisted","message":"User `fake-user` is not found.","target":"User","details":null,"inner":null}"#
  );
  let response = Call::new(
    Method::PUT,
    &format!("/api/hubs/chat/users/{encoded}/groups/g?api-version=2024-12-01"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert!(state.hubs.hub("chat").group_exists("g"));
  let response = Call::new(
    Method::DELETE,
    &format!("/api/hubs/chat/users/{encoded}/groups/g?api-version=2024-12-01"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NO_CONTENT);
  assert!(
    !state.hubs.hub("chat").group_exists("g"),
    "empty groups are removed"
  );
}

#[tokio::test]
async fn bulk_group_calls_use_the_filter() {
  let state = new_state();
  let (a, _rx_a) = connect(&state, "chat", "conn-a", Some("user 1"));
  let (b, _rx_b) = connect(&state, "chat", "conn-b", Some("user 2"));
  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:addToGroups?api-version=2024-12-01",
  )
  .body(
    "application/json",
    r#"{"groups":["group1","group2"],"filter":"userId eq 'user 1'"}"#,
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert!(a.in_group("group1") && a.in_group("group2"));
  assert!(!b.in_group("group1"));

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:removeFromGroups?api-version=2024-12-01",
  )
  .body("application/json", r#"{"groups":["group2"]}"#)
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert!(a.in_group("group1") && !a.in_group("group2"));

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:addToGroups?api-version=2024-12-01",
  )
  .body("application/json", r#"{"filter":"userId eq 'user 1'"}"#)
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  assert_eq!(body["target"], "Groups");

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:addToGroups?api-version=2024-12-01",
  )
  .body(
    "application/json",
    r#"{"groups":["g"],"filter":"invalid filter"}"#,
  )
  .send(&state)
  .await;
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  assert_eq!(body["target"], "Filter");
  assert!(!a.in_group("g"), "validation happens before any change");

  let response = Call::new(
    Method::POST,
    "/api/hubs/chat/:addToGroups?api-version=2024-12-01",
  )
  .body("text/plain", r#"{"groups":["g"]}"#)
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn listing_pages_follow_next_link() {
  let state = new_state();
  let hub = state.hubs.hub("chat");
  let mut receivers = Vec::new();
  for i in 0..6 {
    let id = format!("conn-{i}");
    let (_conn, rx) = connect(&state, "chat", &id, None);
    receivers.push(rx);
    hub.join_group(&id, "group 1");
  }
  let mut target =
    "/api/hubs/chat/groups/group%201/connections?api-version=2024-12-01&maxpagesize=2&top=5"
      .to_owned();
  let mut pages = Vec::new();
  loop {
    let response = Call::new(Method::GET, &target).send(&state).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
      response.headers()[header::CONTENT_TYPE],
      "application/json; charset=utf-8"
    );
    let page: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
    let ids: Vec<String> = page["value"]
      .as_array()
      .unwrap()
      .iter()
      .map(|item| {
        assert!(item["userId"].is_null());
        item["connectionId"].as_str().unwrap().to_owned()
      })
      .collect();
    pages.push(ids);
    match page.get("nextLink") {
      Some(link) => {
        let link = link.as_str().unwrap();
        let rest = link
          .strip_prefix(&format!("http://{HOST}"))
          .expect("absolute link on the caller's host");
        assert!(
          rest.starts_with("/api/hubs/chat/groups/group%201/connections?top="),
          "{rest}"
        );
        assert!(rest.contains("&maxpagesize=2&continuationToken="));
        assert!(rest.ends_with("&api-version=2024-12-01"));
        target = rest.to_owned();
      }
      None => break,
    }
  }
  assert_eq!(
    pages,
    vec![
      vec!["conn-0", "conn-1"],
      vec!["conn-2", "conn-3"],
      vec!["conn-4"],
    ]
  );

  let response = Call::new(
    Method::GET,
    "/api/hubs/chat/groups/group%201/connections?api-version=2024-12-01&maxpagesize=3",
  )
  .send(&state)
  .await;
  let page: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  let link = page["nextLink"]
    .as_str()
    .unwrap()
    .strip_prefix(&format!("http://{HOST}"))
    .unwrap()
    .to_owned();
  let response = Call::new(Method::GET, &link).send(&state).await;
  let body = text(response).await;
  let page: serde_json::Value = serde_json::from_str(&body).unwrap();
  assert_eq!(page["value"].as_array().unwrap().len(), 3);
  assert!(
    page.get("nextLink").is_none(),
    "a full last page has no nextLink: {body}"
  );

  let response = Call::new(
    Method::GET,
    "/api/hubs/chat/groups/empty/connections?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(text(response).await, r#"{"value":[]}"#);
  let response = Call::new(
    Method::GET,
    "/api/hubs/chat/groups/g/connections?api-version=2024-12-01&continuationToken=bogus",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let response = Call::new(
    Method::GET,
    "/api/hubs/chat/groups/g/connections?api-version=2024-12-01&maxpagesize=201",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let response = Call::new(
    Method::GET,
    "/api/hubs/chat/groups/g/connections?api-version=2024-01-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn permissions_grant_check_revoke() {
  let state = new_state();
  let (_a, _rx) = connect(&state, "chat", "conn-a", None);
  let base = "/api/hubs/chat/permissions/joinLeaveGroup/connections";
  let response = Call::new(
    Method::PUT,
    &format!("{base}/xxxx?api-version=2024-12-01&targetName=x"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NOT_FOUND);
  assert_eq!(error_code(&response), Some("Info.Connection.NotExisted"));
  let response = Call::new(
    Method::HEAD,
    &format!("{base}/xxxx?api-version=2024-12-01&targetName=x"),
  )
  .send(&state)
  .await;
  assert_eq!(
    (response.status(), error_code(&response)),
    (StatusCode::NOT_FOUND, Some("Info.Connection.NotExisted"))
  );

  let check = || {
    Call::new(
      Method::HEAD,
      &format!("{base}/conn-a?api-version=2024-12-01&targetName=x"),
    )
  };
  assert_eq!(check().send(&state).await.status(), StatusCode::NOT_FOUND);
  let response = Call::new(
    Method::PUT,
    &format!("{base}/conn-a?api-version=2024-12-01&targetName=x"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert_eq!(check().send(&state).await.status(), StatusCode::OK);
  let response = Call::new(
    Method::DELETE,
    &format!("{base}/conn-a?api-version=2024-12-01&targetName=x"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::NO_CONTENT);
  assert_eq!(check().send(&state).await.status(), StatusCode::NOT_FOUND);

  let response = Call::new(
    Method::DELETE,
    &format!("{base}/xxxx?api-version=2024-12-01"),
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  assert!(has_versions(&response));
  assert_eq!(
    text(response).await,
    r#"{"code":"Error.BadRequest","message":"Invalid group name. Valid group name should be in between 1 and 1024 characters long.","target":"Request","details":null,"inner":null}"#
  );
  let response = Call::new(
    Method::PUT,
    "/api/hubs/chat/permissions/bogus/connections/conn-a?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn generate_token_signs_for_the_callers_host() {
  let state = new_state();
  let response = Call::new(
    Method::POST,
    "/api/hubs/Chat/:generateToken?api-version=2024-12-01&userId=u%201&role=webpubsub.sendToGroup&role=r2&minutesToExpire=7&group=g1",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::OK);
  assert_eq!(
    response.headers()[header::CONTENT_TYPE],
    "application/json; charset=utf-8"
  );
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  let claims = SigningKey::new(DEFAULT_ACCESS_KEY)
    .verify(body["token"].as_str().unwrap(), now())
    .unwrap();
  assert_eq!(
    claims.audience.as_deref(),
    Some("http://localhost:8080/client/hubs/Chat")
  );
  assert_eq!(claims.subject.as_deref(), Some("u 1"));
  assert_eq!(claims.roles, vec!["webpubsub.sendToGroup", "r2"]);
  assert_eq!(claims.groups, vec!["g1"]);
  assert!(claims.expires_at <= now() + 7 * 60 && claims.expires_at + 60 >= now() + 7 * 60);

  let response = Call::new(
    Method::POST,
    "/api/hubs/Chat/:generateToken?api-version=2024-12-01&clientType=MQTT",
  )
  .send(&state)
  .await;
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  let claims = SigningKey::new(DEFAULT_ACCESS_KEY)
    .verify(body["token"].as_str().unwrap(), now())
    .unwrap();
  assert_eq!(
    claims.audience.as_deref(),
    Some("http://localhost:8080/clients/mqtt/hubs/Chat")
  );

  let response = Call::new(
    Method::POST,
    "/api/hubs/Chat/:generateToken?api-version=2024-01-01&clientType=socketio",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  assert_eq!(
    response.headers()[header::CONTENT_TYPE],
    "application/json; charset=utf-8"
  );
  assert!(!has_versions(&response));
  assert_eq!(
    text(response).await,
    r#"{"code":"Error.BadRequest","message":"The value 'socketio' is not valid.","target":"clientType","errors":{"clientType":["The value 'socketio' is not valid."]},"type":null,"title":"One or more validation errors occurred.","status":400,"detail":null,"instance":null,"extensions":{}}"#
  );
}

#[tokio::test]
async fn names_and_versions_are_validated() {
  let state = new_state();
  let response = Call::new(Method::POST, "/api/hubs/1bad/:send?api-version=2024-12-01")
    .body("text/plain", "x")
    .send(&state)
    .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  assert_eq!(body["target"], "hub");
  assert!(body["errors"]["hub"][0]
    .as_str()
    .unwrap()
    .starts_with("The field hub must match the regular expression"));

  let response = Call::new(
    Method::HEAD,
    "/api/hubs/chat/groups/%20%20?api-version=2024-12-01",
  )
  .send(&state)
  .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);

  let response = Call::new(Method::POST, "/api/hubs/chat/:send?api-version=2020-01-01")
    .body("text/plain", "x")
    .send(&state)
    .await;
  assert_eq!(response.status(), StatusCode::BAD_REQUEST);
  let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
  assert_eq!(body["target"], "api-version");

  let response = Call::new(Method::POST, "/api/hubs/chat/:send")
    .body("text/plain", "x")
    .send(&state)
    .await;
  assert_eq!(
    response.status(),
    StatusCode::ACCEPTED,
    "a missing api-version means the latest"
  );
}

#[tokio::test]
async fn a_real_server_serves_and_frees_its_port() {
  let emulator = webpubsub_emulator::start(EmulatorConfig {
    port: 0,
    ..EmulatorConfig::default()
  })
  .await
  .unwrap();
  let addr = emulator.local_addr();
  assert_eq!(
    emulator.endpoint(),
    format!("http://127.0.0.1:{}", addr.port())
  );
  assert_eq!(
    emulator.connection_string(),
    format!(
      "Endpoint=http://127.0.0.1:{};AccessKey={DEFAULT_ACCESS_KEY};Version=1.0;",
      addr.port()
    )
  );
  let client = webpubsub_emulator::events::dispatcher::http_client().unwrap();
  let health = client
    .head(format!("{}/api/health", emulator.endpoint()))
    .send()
    .await
    .unwrap();
  assert_eq!(health.status().as_u16(), 200);

  let url = format!(
    "{}/api/hubs/chat/groups/g/connections?api-version=2024-12-01",
    emulator.endpoint()
  );
  let token = SigningKey::new(DEFAULT_ACCESS_KEY).sign_rest_token(&url, now());
  let response = client.get(&url).bearer_auth(token).send().await.unwrap();
  assert_eq!(response.status().as_u16(), 200);
  assert_eq!(response.text().await.unwrap(), r#"{"value":[]}"#);
  let response = client.get(&url).send().await.unwrap();
  assert_eq!(response.status().as_u16(), 401);

  emulator.shutdown().await;
  let rebound = tokio::net::TcpListener::bind(addr).await;
  assert!(rebound.is_ok(), "the port is free after shutdown");
}
