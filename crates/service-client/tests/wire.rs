//! What the client puts on the wire for each operation, checked against a recording server.

mod common;

use bytes::Bytes;
use common::{status, Recorder, Reply};
use std::sync::Arc;
use webpubsub_protocol::jwt::SigningKey;
use webpubsub_protocol::payload::ContentKind;
use webpubsub_protocol::permission::Permission;
use webpubsub_service_client::{
  CallOptions, ClientConfig, ClientTokenOptions, Credential, KeyCredential, Operation, Payload,
  ServiceClient,
};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";

fn success_for(method: &str, target: &str) -> Reply {
  let code = if target.contains(":send") {
    202
  } else if target.contains(":closeConnections") || method == "DELETE" {
    204
  } else {
    200
  };
  status(code)
}

async fn client_for(recorder: &Recorder, hub: &str) -> ServiceClient {
  let mut config = ClientConfig::from_connection_string(
    &format!(
      "Endpoint={};AccessKey={KEY};Version=1.0;",
      recorder.endpoint()
    ),
    hub,
  )
  .unwrap();
  config.allow_insecure_connection = true;
  config.user_agent_prefix = Some("my-app/1.0".into());
  ServiceClient::new(config).unwrap()
}

/// (operation, method, path and query, content type, body)
type Case = (
  Operation,
  &'static str,
  String,
  Option<&'static str>,
  &'static [u8],
);

fn is_uuid_v4(text: &str) -> bool {
  let bytes = text.as_bytes();
  text.len() == 36
    && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
    && bytes[14] == b'4'
    && matches!(bytes[19], b'8' | b'9' | b'a' | b'b')
    && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn every_operation_matches_the_sdk_on_the_wire() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let client = client_for(&recorder, "Hub_1").await;
  let text = |s: &'static str| Payload {
    kind: ContentKind::Text,
    body: Bytes::from_static(s.as_bytes()),
  };
  let cases: Vec<Case> = vec![
    (
      Operation::SendToAll {
        payload: Payload {
          kind: ContentKind::Json,
          body: Bytes::from_static(br#"{"a":1}"#),
        },
        excluded: vec!["a b".into(), "c'd".into()],
        filter: Some("userId eq 'o''k'".into()),
        message_ttl_seconds: Some(10),
      },
      "POST",
      "/api/hubs/Hub_1/:send?api-version=2024-12-01&excluded=a%20b&excluded=c%27d&filter=userId%20eq%20%27o%27%27k%27&messageTtlSeconds=10".into(),
      Some("application/json"),
      br#"{"a":1}"#,
    ),
    (
      Operation::SendToGroup {
        group: "g 1".into(),
        payload: text("hi"),
        excluded: vec![],
        filter: None,
        message_ttl_seconds: None,
      },
      "POST",
      "/api/hubs/Hub_1/groups/g%201/:send?api-version=2024-12-01".into(),
      Some("text/plain"),
      b"hi",
    ),
    (
      Operation::SendToUser {
        user_id: "user/1 x".into(),
        payload: Payload {
          kind: ContentKind::Binary,
          body: Bytes::from_static(&[0, 1, 2]),
        },
        filter: None,
        message_ttl_seconds: Some(0),
      },
      "POST",
      "/api/hubs/Hub_1/users/user%2F1%20x/:send?api-version=2024-12-01&messageTtlSeconds=0".into(),
      Some("application/octet-stream"),
      &[0, 1, 2],
    ),
    (
      Operation::SendToConnection {
        connection_id: "c1".into(),
        payload: text(""),
        message_ttl_seconds: None,
      },
      "POST",
      "/api/hubs/Hub_1/connections/c1/:send?api-version=2024-12-01".into(),
      Some("text/plain"),
      b"",
    ),
    (
      Operation::CloseAllConnections {
        excluded: vec!["x".into()],
        reason: Some("bye".into()),
      },
      "POST",
      "/api/hubs/Hub_1/:closeConnections?api-version=2024-12-01&excluded=x&reason=bye".into(),
      None,
      b"",
    ),
    (
      Operation::AddConnectionsToGroups {
        groups: vec!["g1".into(), "g2".into()],
        filter: Some("userId eq 'a'".into()),
      },
      "POST",
      "/api/hubs/Hub_1/:addToGroups?api-version=2024-12-01".into(),
      Some("application/json"),
      br#"{"groups":["g1","g2"],"filter":"userId eq 'a'"}"#,
    ),
    (
      Operation::AddUserToGroup {
        group: "g".into(),
        user_id: "u".into(),
      },
      "PUT",
      "/api/hubs/Hub_1/users/u/groups/g?api-version=2024-12-01".into(),
      None,
      b"",
    ),
    (
      Operation::RevokePermission {
        permission: Permission::SendToGroup.into(),
        connection_id: "c1".into(),
        target_name: Some("t".into()),
      },
      "DELETE",
      "/api/hubs/Hub_1/permissions/sendToGroup/connections/c1?api-version=2024-12-01&targetName=t".into(),
      None,
      b"",
    ),
    (
      Operation::ConnectionExists {
        connection_id: "c1".into(),
      },
      "HEAD",
      "/api/hubs/Hub_1/connections/c1?api-version=2024-12-01".into(),
      None,
      b"",
    ),
    (
      Operation::ListConnectionsInGroup {
        group: "g".into(),
        max_page_size: Some(2),
        top: None,
      },
      "GET",
      "/api/hubs/Hub_1/groups/g/connections?api-version=2024-12-01&maxpagesize=2".into(),
      None,
      b"",
    ),
    (
      Operation::GetServiceStatus,
      "HEAD",
      "/api/health?api-version=2024-12-01".into(),
      None,
      b"",
    ),
  ];
  let key = SigningKey::new(KEY);
  for (index, (op, method, target, content_type, body)) in cases.into_iter().enumerate() {
    let response = client.execute(op, &CallOptions::default()).await.unwrap();
    let req = &recorder.requests()[index];
    assert_eq!(req.method, method, "{target}");
    assert_eq!(req.target, target);
    assert_eq!(req.body, body, "{target}");
    assert_eq!(req.header("content-type"), content_type, "{target}");
    let bodiless_post_or_put =
      body.is_empty() && content_type.is_none() && (method == "POST" || method == "PUT");
    let expected_length = if content_type.is_some() || bodiless_post_or_put {
      Some(body.len().to_string())
    } else {
      None
    };
    assert_eq!(
      req.header("content-length").map(str::to_owned),
      expected_length,
      "{target}"
    );
    // The SDK sends no Accept on HEAD; reqwest 0.13 always fills in `*/*` when a request has
    // none (its default headers cannot be removed), so that is what goes out.
    let accept = match method {
      "HEAD" => Some("*/*"),
      _ => Some("application/json"),
    };
    assert_eq!(req.header("accept"), accept, "{target}");
    assert!(is_uuid_v4(req.header("x-ms-client-request-id").unwrap()));
    let agent = req.header("user-agent").unwrap();
    assert!(
      agent.starts_with("my-app/1.0 web-pubsub-native/"),
      "{agent}"
    );
    // The JWT: exact header, aud = the full URL as sent, exp = iat + 1 h, nothing else.
    let token = req.bearer();
    assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
    let claims = key.verify(token, now()).unwrap();
    let url = format!("{}{}", recorder.endpoint(), target);
    assert_eq!(claims.audience.as_deref(), Some(url.as_str()));
    assert_eq!(claims.claims.len(), 3);
    assert_eq!(
      claims.claims["exp"].as_u64().unwrap() - claims.claims["iat"].as_u64().unwrap(),
      3600
    );
    assert_eq!(response.request.url, url);
    assert_eq!(response.request.method, method);
    assert!(response.request.headers.contains_key("authorization"));
  }
}

#[tokio::test]
async fn dot_segments_are_normalised_before_signing_like_whatwg_urls() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let client = client_for(&recorder, "hub").await;
  let op = Operation::SendToGroup {
    group: "..".into(),
    payload: Payload {
      kind: ContentKind::Text,
      body: Bytes::from_static(b"x"),
    },
    excluded: vec![],
    filter: None,
    message_ttl_seconds: None,
  };
  client.execute(op, &CallOptions::default()).await.unwrap();
  let req = &recorder.requests()[0];
  // The SDK sends this to /api/hubs/hub/:send, signed for that URL.
  assert_eq!(req.target, "/api/hubs/hub/:send?api-version=2024-12-01");
  let token = req.bearer();
  let claims = SigningKey::new(KEY).verify(token, now()).unwrap();
  assert_eq!(
    claims.audience.unwrap(),
    format!(
      "{}/api/hubs/hub/:send?api-version=2024-12-01",
      recorder.endpoint()
    )
  );
}

#[tokio::test]
async fn reverse_proxy_changes_the_host_after_signing() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let mut config = ClientConfig::new(
    "http://webpubsub.example.invalid:9",
    "hub",
    Credential::Key(Arc::new(KeyCredential::new(KEY))),
  );
  config.allow_insecure_connection = true;
  config.reverse_proxy_endpoint = Some(format!("https://127.0.0.1:{}/ignored", recorder.port));
  let client = ServiceClient::new(config).unwrap();
  let response = client
    .execute(
      Operation::UserExists {
        user_id: "u".into(),
      },
      &CallOptions::default(),
    )
    .await
    .unwrap();
  let req = &recorder.requests()[0];
  assert_eq!(
    req.header("host"),
    Some(format!("127.0.0.1:{}", recorder.port).as_str())
  );
  let token = req.bearer();
  let claims = SigningKey::new(KEY).verify(token, now()).unwrap();
  assert_eq!(
    claims.audience.as_deref(),
    Some("http://webpubsub.example.invalid:9/api/hubs/hub/users/u?api-version=2024-12-01")
  );
  // The scheme stays the endpoint's.
  assert_eq!(
    response.request.url,
    format!(
      "http://127.0.0.1:{}/api/hubs/hub/users/u?api-version=2024-12-01",
      recorder.port
    )
  );
}

#[tokio::test]
async fn key_rotation_applies_to_the_next_request() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let key = Arc::new(KeyCredential::new(KEY));
  let mut config = ClientConfig::new(recorder.endpoint(), "hub", Credential::Key(key.clone()));
  config.allow_insecure_connection = true;
  let client = ServiceClient::new(config).unwrap();
  client
    .execute(Operation::GetServiceStatus, &CallOptions::default())
    .await
    .unwrap();
  key.update("a completely different access key value");
  client
    .execute(Operation::GetServiceStatus, &CallOptions::default())
    .await
    .unwrap();
  let requests = recorder.requests();
  assert!(SigningKey::new(KEY)
    .verify(requests[0].bearer(), now())
    .is_ok());
  assert!(SigningKey::new("a completely different access key value")
    .verify(requests[1].bearer(), now())
    .is_ok());
}

#[tokio::test]
async fn custom_headers_are_sent() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let client = client_for(&recorder, "hub").await;
  let call = CallOptions {
    custom_headers: vec![
      ("X-Custom".into(), "v1".into()),
      ("Accept".into(), "text/plain".into()),
    ],
    ..Default::default()
  };
  client
    .execute(
      Operation::RemoveUserFromAllGroups {
        user_id: "u".into(),
      },
      &call,
    )
    .await
    .unwrap();
  let req = &recorder.requests()[0];
  assert_eq!(req.header("x-custom"), Some("v1"));
  assert_eq!(req.header("accept"), Some("text/plain"));
}

#[tokio::test]
async fn client_access_token_is_signed_locally_like_the_sdk() {
  let recorder = Recorder::start(|req, _| success_for(&req.method, &req.target)).await;
  let client = client_for(&recorder, "Hub_1").await;
  let token = client
    .client_access_token(&ClientTokenOptions {
      user_id: Some("u1".into()),
      roles: Some(vec!["webpubsub.joinLeaveGroup".into()]),
      groups: Some(vec!["g1".into()]),
      expiration_minutes: Some(7),
      client_protocol: None,
    })
    .unwrap();
  let base = format!("ws://127.0.0.1:{}/client/hubs/Hub_1", recorder.port);
  assert_eq!(token.base_url, base);
  assert_eq!(token.url, format!("{base}?access_token={}", token.token));
  let claims = SigningKey::new(KEY).verify(&token.token, now()).unwrap();
  let keys: Vec<&str> = claims.claims.keys().map(String::as_str).collect();
  assert_eq!(keys.len(), 6, "{keys:?}");
  assert_eq!(
    claims.audience.unwrap(),
    format!("http://127.0.0.1:{}/client/hubs/Hub_1", recorder.port)
  );
  assert_eq!(claims.subject.as_deref(), Some("u1"));
  assert_eq!(claims.roles, vec!["webpubsub.joinLeaveGroup"]);
  assert_eq!(claims.groups, vec!["g1"]);
  assert_eq!(
    claims.expires_at - claims.claims["iat"].as_u64().unwrap(),
    420
  );
  let via_async = client
    .get_client_access_token(&ClientTokenOptions::default(), &CallOptions::default())
    .await
    .unwrap();
  assert_eq!(via_async.base_url, base);
  assert!(
    recorder.requests().is_empty(),
    "no request for key credentials"
  );
}

fn now() -> u64 {
  std::time::SystemTime::now()
    .duration_since(std::time::UNIX_EPOCH)
    .unwrap()
    .as_secs()
}
