//! The WebSocket client endpoint against a started emulator: raw and JSON clients, permissions, acks,
//! close codes, reliable recovery and shutdown.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use webpubsub_emulator::config::DEFAULT_ACCESS_KEY;
use webpubsub_emulator::state::{DataMessage, MessageSource, Selection};
use webpubsub_emulator::{EmulatorConfig, RunningEmulator};
use webpubsub_protocol::jwt::{ClientTokenClaims, SigningKey};
use webpubsub_protocol::payload::ContentKind;

const JSON: &str = "json.webpubsub.azure.v1";
const RELIABLE: &str = "json.reliable.webpubsub.azure.v1";
/// A generous bound for anything the test waits for.
const WAIT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Emulator {
  running: RunningEmulator,
  key: SigningKey,
  http: reqwest::Client,
}

fn now() -> u64 {
  std::time::SystemTime::now()
    .duration_since(std::time::UNIX_EPOCH)
    .unwrap()
    .as_secs()
}

impl Emulator {
  async fn start() -> Emulator {
    let config = EmulatorConfig {
      port: 0,
      ..EmulatorConfig::default()
    };
    let running = webpubsub_emulator::start(config).await.unwrap();
    Emulator {
      running,
      key: SigningKey::new(DEFAULT_ACCESS_KEY),
      http: webpubsub_emulator::events::dispatcher::http_client().unwrap(),
    }
  }

  fn base(&self) -> String {
    format!("127.0.0.1:{}", self.running.port())
  }

  fn token(&self, hub: &str, user: Option<&str>, roles: &[&str], groups: &[&str]) -> String {
    let owned =
      |list: &[&str]| (!list.is_empty()).then(|| list.iter().map(|s| s.to_string()).collect());
    let claims = ClientTokenClaims {
      audience: format!("http://{}/client/hubs/{hub}", self.base()),
      user_id: user.map(str::to_owned),
      roles: owned(roles),
      groups: owned(groups),
      lifetime_minutes: 60,
    };
    self.key.sign_client_token(&claims, now())
  }

  fn url(&self, hub: &str, user: Option<&str>, roles: &[&str]) -> String {
    format!(
      "ws://{}/client/hubs/{hub}?access_token={}",
      self.base(),
      self.token(hub, user, roles, &[])
    )
  }

  /// Sends a REST request signed like the SDK and returns its status.
  async fn rest(&self, method: reqwest::Method, path: &str, body: Option<(&str, Vec<u8>)>) -> u16 {
    let url = format!("http://{}{path}", self.base());
    let token = self.key.sign_rest_token(&url, now());
    let mut request = self.http.request(method, &url).bearer_auth(token);
    if let Some((content_type, body)) = body {
      request = request.header("content-type", content_type).body(body);
    }
    request.send().await.unwrap().status().as_u16()
  }

  async fn send_to_all(&self, hub: &str, content_type: &str, body: &[u8]) {
    let path = format!("/api/hubs/{hub}/:send?api-version=2024-12-01");
    let status = self
      .rest(
        reqwest::Method::POST,
        &path,
        Some((content_type, body.to_vec())),
      )
      .await;
    assert_eq!(status, 202);
  }
}

async fn connect(url: &str, protocols: &[&str]) -> Result<(Ws, Option<String>), WsError> {
  let mut request = url.into_client_request().unwrap();
  if !protocols.is_empty() {
    let offer = HeaderValue::from_str(&protocols.join(", ")).unwrap();
    request
      .headers_mut()
      .insert("sec-websocket-protocol", offer);
  }
  let (ws, response) = tokio_tungstenite::connect_async(request).await?;
  let chosen = response
    .headers()
    .get("sec-websocket-protocol")
    .map(|v| v.to_str().unwrap().to_owned());
  Ok((ws, chosen))
}

async fn connect_status(url: &str, protocols: &[&str]) -> StatusCode {
  match connect(url, protocols).await {
    Err(WsError::Http(response)) => response.status(),
    other => panic!("expected an HTTP error, got {:?}", other.map(|(_, p)| p)),
  }
}

async fn next(ws: &mut Ws) -> Message {
  loop {
    let message = tokio::time::timeout(WAIT, ws.next())
      .await
      .expect("timed out")
      .expect("stream ended")
      .unwrap();
    if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
      return message;
    }
  }
}

async fn next_json(ws: &mut Ws) -> Value {
  match next(ws).await {
    Message::Text(text) => serde_json::from_str(&text).unwrap(),
    other => panic!("expected a text frame, got {other:?}"),
  }
}

async fn send_json(ws: &mut Ws, value: Value) {
  ws.send(Message::text(value.to_string())).await.unwrap();
}

/// Waits for the close frame and returns its code and reason.
async fn closed(ws: &mut Ws) -> (u16, String) {
  loop {
    match next(ws).await {
      Message::Close(Some(frame)) => return (u16::from(frame.code), frame.reason.to_string()),
      Message::Close(None) => return (1005, String::new()),
      _ => {}
    }
  }
}

/// A JSON client after its `connected` message, with its connection id.
async fn json_client(
  emulator: &Emulator,
  protocol: &str,
  user: Option<&str>,
  roles: &[&str],
) -> (Ws, Value) {
  let (mut ws, chosen) = connect(&emulator.url("chat", user, roles), &[protocol])
    .await
    .unwrap();
  assert_eq!(chosen.as_deref(), Some(protocol));
  let connected = next_json(&mut ws).await;
  assert_eq!(connected["type"], "system");
  assert_eq!(connected["event"], "connected");
  (ws, connected)
}

#[tokio::test]
async fn raw_clients_receive_payloads_without_envelope() {
  let emulator = Emulator::start().await;
  let (mut ws, chosen) = connect(&emulator.url("chat", Some("u1"), &[]), &[])
    .await
    .unwrap();
  assert_eq!(chosen, None);

  emulator.send_to_all("Chat", "text/plain", b"hello").await;
  emulator
    .send_to_all("chat", "application/json", br#""Hello World""#)
    .await;
  emulator
    .send_to_all("chat", "application/octet-stream", &[0, 1, 255])
    .await;

  assert_eq!(next(&mut ws).await, Message::text("hello"));
  assert_eq!(next(&mut ws).await, Message::text(r#""Hello World""#));
  assert_eq!(next(&mut ws).await, Message::binary(vec![0u8, 1, 255]));
}

#[tokio::test]
async fn json_clients_get_connected_and_message_envelopes() {
  let emulator = Emulator::start().await;
  let (mut ws, connected) = json_client(&emulator, JSON, Some("u1"), &[]).await;
  let id = connected["connectionId"].as_str().unwrap();
  assert!(
    id.len() == 32 && id.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
    "{id}"
  );
  assert_eq!(connected["userId"], "u1");
  assert!(connected.get("reconnectionToken").is_none());

  emulator
    .send_to_all("chat", "application/json", br#"{"a":[1,2]}"#)
    .await;
  assert_eq!(
    next_json(&mut ws).await,
    json!({"type":"message","from":"server","dataType":"json","data":{"a":[1,2]}})
  );
  emulator
    .send_to_all("chat", "application/octet-stream", b"\x01\x02")
    .await;
  assert_eq!(
    next_json(&mut ws).await,
    json!({"type":"message","from":"server","dataType":"binary","data":"AQI="})
  );

  let (mut anonymous, connected) = json_client(&emulator, JSON, None, &[]).await;
  assert_eq!(connected["userId"], Value::Null);
  send_json(&mut anonymous, json!({"type":"ping"})).await;
  assert_eq!(next_json(&mut anonymous).await, json!({"type":"pong"}));
}

#[tokio::test]
async fn negotiation_picks_the_first_predefined_protocol_offered() {
  let emulator = Emulator::start().await;
  let url = emulator.url("chat", None, &[]);
  let (_, chosen) = connect(&url, &["custom", RELIABLE, JSON]).await.unwrap();
  assert_eq!(chosen.as_deref(), Some(RELIABLE));
  // Nothing predefined offered: no subprotocol is echoed, which a client that insists on one refuses.
  let refused = connect(&url, &["custom"]).await.map(|(_, chosen)| chosen);
  assert!(
    matches!(refused, Err(WsError::Protocol(ref e)) if e.to_string().contains("SubProtocol")),
    "{refused:?}"
  );
  let query_url = format!(
    "ws://{}/client/?hub=chat&access_token={}",
    emulator.base(),
    emulator.token("chat", None, &[], &[])
  );
  let (_, chosen) = connect(&query_url, &[JSON]).await.unwrap();
  assert_eq!(chosen.as_deref(), Some(JSON));
}

#[tokio::test]
async fn handshake_errors_come_before_the_upgrade() {
  let emulator = Emulator::start().await;
  let base = emulator.base();
  assert_eq!(
    connect_status(&format!("ws://{base}/client/hubs/chat"), &[]).await,
    StatusCode::UNAUTHORIZED
  );
  assert_eq!(
    connect_status(
      &format!("ws://{base}/client/hubs/chat?access_token=nope"),
      &[]
    )
    .await,
    StatusCode::UNAUTHORIZED
  );
  let other_hub = emulator.token("other", None, &[], &[]);
  assert_eq!(
    connect_status(
      &format!("ws://{base}/client/hubs/chat?access_token={other_hub}"),
      &[]
    )
    .await,
    StatusCode::UNAUTHORIZED
  );
  let bad_group = emulator.token("chat", None, &[], &["   "]);
  assert_eq!(
    connect_status(
      &format!("ws://{base}/client/hubs/chat?access_token={bad_group}"),
      &[]
    )
    .await,
    StatusCode::BAD_REQUEST
  );
  let url = emulator.url("chat", None, &[]);
  assert_eq!(
    connect_status(&format!("{url}&webpubsub_mode=shout"), &[]).await,
    StatusCode::BAD_REQUEST
  );
  assert_eq!(
    connect_status(&format!("{url}&webpubsub_mode=sendToGroup"), &[]).await,
    StatusCode::BAD_REQUEST
  );

  // A bearer header works as well as the query.
  let mut request = format!("ws://{base}/client/hubs/chat")
    .into_client_request()
    .unwrap();
  let bearer = format!("Bearer {}", emulator.token("chat", None, &[], &[]));
  request
    .headers_mut()
    .insert("authorization", HeaderValue::from_str(&bearer).unwrap());
  assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

#[tokio::test]
async fn group_requests_check_permissions_and_ack() {
  let emulator = Emulator::start().await;
  let roles = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];
  let (mut member, _) = json_client(&emulator, JSON, Some("alice"), &roles).await;
  let (mut guest, _) = json_client(&emulator, JSON, Some("bob"), &[]).await;

  send_json(
    &mut guest,
    json!({"type":"joinGroup","group":"room","ackId":1}),
  )
  .await;
  assert_eq!(
    next_json(&mut guest).await,
    json!({"type":"ack","ackId":1,"success":false,"error":{"name":"Forbidden","message":"The client does not have permission to join group 'room'."}})
  );
  send_json(
    &mut guest,
    json!({"type":"sendToGroup","group":"room","ackId":2,"data":1}),
  )
  .await;
  assert_eq!(next_json(&mut guest).await["error"]["name"], "Forbidden");

  send_json(
    &mut member,
    json!({"type":"joinGroup","group":"room","ackId":1}),
  )
  .await;
  assert_eq!(
    next_json(&mut member).await,
    json!({"type":"ack","ackId":1,"success":true})
  );

  send_json(
    &mut member,
    json!({"type":"sendToGroup","group":"room","ackId":2,"dataType":"text","data":"hi","metadata":{"K":"v"}}),
  )
  .await;
  assert_eq!(
    next_json(&mut member).await,
    json!({"type":"ack","ackId":2,"success":true})
  );
  assert_eq!(
    next_json(&mut member).await,
    json!({"type":"message","from":"group","group":"room","fromUserId":"alice","dataType":"text","data":"hi","metadata":{"k":"v"}})
  );

  // noEcho: the ack and then the pong, with no echo in between.
  send_json(
    &mut member,
    json!({"type":"sendToGroup","group":"room","ackId":3,"noEcho":true,"data":{"x":1}}),
  )
  .await;
  assert_eq!(
    next_json(&mut member).await,
    json!({"type":"ack","ackId":3,"success":true})
  );
  send_json(&mut member, json!({"type":"ping"})).await;
  assert_eq!(next_json(&mut member).await, json!({"type":"pong"}));

  // Duplicates: only successful ack ids are recorded.
  send_json(
    &mut member,
    json!({"type":"joinGroup","group":"room","ackId":1}),
  )
  .await;
  assert_eq!(
    next_json(&mut member).await,
    json!({"type":"ack","ackId":1,"success":false,"error":{"name":"Duplicate","message":"Message with ack-id: 1 has been processed"}})
  );
  send_json(
    &mut guest,
    json!({"type":"joinGroup","group":"room","ackId":1}),
  )
  .await;
  assert_eq!(next_json(&mut guest).await["error"]["name"], "Forbidden");

  // Leaving stops delivery; events without a handler fail with InternalServerError.
  send_json(
    &mut member,
    json!({"type":"leaveGroup","group":"room","ackId":4}),
  )
  .await;
  assert_eq!(next_json(&mut member).await["success"], true);
  send_json(
    &mut member,
    json!({"type":"sendToGroup","group":"room","data":"again"}),
  )
  .await;
  send_json(
    &mut member,
    json!({"type":"event","event":"chat","ackId":5,"data":"x"}),
  )
  .await;
  let ack = next_json(&mut member).await;
  assert_eq!(
    (ack["ackId"].clone(), ack["error"]["name"].clone()),
    (json!(5), json!("InternalServerError"))
  );
}

#[tokio::test]
async fn invalid_frames_close_with_protocol_codes() {
  let emulator = Emulator::start().await;
  let (mut ws, _) = json_client(&emulator, JSON, None, &[]).await;
  ws.send(Message::text("{not json")).await.unwrap();
  assert_eq!(
    closed(&mut ws).await,
    (
      1007,
      "The client message is not a valid JSON protocol message.".into()
    )
  );

  let (mut ws, _) = json_client(&emulator, JSON, None, &[]).await;
  ws.send(Message::binary(vec![1u8])).await.unwrap();
  assert_eq!(closed(&mut ws).await.0, 1003);

  let (mut ws, _) = json_client(&emulator, RELIABLE, None, &[]).await;
  ws.send(Message::text("x".repeat(1024 * 1024 + 1)))
    .await
    .unwrap();
  assert_eq!(closed(&mut ws).await.0, 1009);

  // A raw client's frames are user events; without a handler the connection is closed with 1011.
  let (mut raw, _) = connect(&emulator.url("chat", None, &[]), &[])
    .await
    .unwrap();
  raw.send(Message::text("hello")).await.unwrap();
  assert_eq!(closed(&mut raw).await.0, 1011);
}

/// A JSON client (user `l`) that has joined group `g`.
async fn group_g_listener(emulator: &Emulator) -> Ws {
  let (mut listener, _) =
    json_client(emulator, JSON, Some("l"), &["webpubsub.joinLeaveGroup"]).await;
  send_json(
    &mut listener,
    json!({"type":"joinGroup","group":"g","ackId":1}),
  )
  .await;
  assert_eq!(next_json(&mut listener).await["success"], true);
  listener
}

#[tokio::test]
async fn raw_send_to_group_mode_publishes_frames() {
  let emulator = Emulator::start().await;
  let mut listener = group_g_listener(&emulator).await;

  let allowed = emulator.url("chat", Some("r"), &["webpubsub.sendToGroup.g"]);
  let (mut raw, _) = connect(
    &format!("{allowed}&webpubsub_mode=sendToGroup&group=g&noEcho=true"),
    &[],
  )
  .await
  .unwrap();
  raw.send(Message::text("from raw")).await.unwrap();
  raw.send(Message::binary(vec![7u8])).await.unwrap();
  assert_eq!(
    next_json(&mut listener).await,
    json!({"type":"message","from":"group","group":"g","fromUserId":"r","dataType":"text","data":"from raw"})
  );
  assert_eq!(next_json(&mut listener).await["data"], "Bw==");

  let denied = emulator.url("chat", Some("d"), &[]);
  let (mut raw_denied, _) = connect(&format!("{denied}&webpubsub_mode=sendToGroup&group=g"), &[])
    .await
    .unwrap();
  raw_denied.send(Message::text("dropped")).await.unwrap();
  raw.send(Message::text("second")).await.unwrap();
  assert_eq!(next_json(&mut listener).await["data"], "second");
}

#[tokio::test]
async fn client_frames_up_to_the_size_limit_arrive_whole() {
  let emulator = Emulator::start().await;
  let mut listener = group_g_listener(&emulator).await;
  let allowed = emulator.url("chat", Some("r"), &["webpubsub.sendToGroup.g"]);
  let (mut raw, _) = connect(
    &format!("{allowed}&webpubsub_mode=sendToGroup&group=g"),
    &[],
  )
  .await
  .unwrap();

  // Far beyond the connection's read buffer, exactly at the message limit.
  let largest = "y".repeat(1024 * 1024);
  raw.send(Message::text(largest.clone())).await.unwrap();
  raw.send(Message::text("after")).await.unwrap();
  assert_eq!(next_json(&mut listener).await["data"], largest);
  assert_eq!(next_json(&mut listener).await["data"], "after");
}

#[tokio::test]
async fn rest_close_sends_disconnected_then_close_frame() {
  let emulator = Emulator::start().await;
  let (mut ws, connected) = json_client(&emulator, JSON, None, &[]).await;
  let id = connected["connectionId"].as_str().unwrap();
  let path = format!("/api/hubs/chat/connections/{id}?api-version=2024-12-01&reason=bye%20now");
  assert_eq!(
    emulator.rest(reqwest::Method::DELETE, &path, None).await,
    204
  );
  assert_eq!(
    next_json(&mut ws).await,
    json!({"type":"system","event":"disconnected","message":"bye now"})
  );
  assert_eq!(closed(&mut ws).await, (1000, "bye now".into()));
}

#[tokio::test]
async fn queued_messages_arrive_in_order_and_before_a_queued_close() {
  let emulator = Emulator::start().await;
  let (mut json, connected) = json_client(&emulator, JSON, None, &[]).await;
  let (mut reliable, _) = json_client(&emulator, RELIABLE, None, &[]).await;
  let id = connected["connectionId"].as_str().unwrap();
  let hub = emulator.running.state().hubs.find("chat").unwrap();
  // Queued in one go on this single-threaded runtime, before the connections' tasks run again,
  // so the tasks write them in batches.
  for n in 0..300 {
    let msg = Arc::new(DataMessage::new(
      ContentKind::Text,
      Bytes::from(n.to_string()),
      MessageSource::Server,
    ));
    assert_eq!(hub.send_to_all(&msg, Selection::default()), 2);
  }
  assert!(hub.close_connection(id, "done"));

  for n in 0..300 {
    assert_eq!(
      next_json(&mut json).await,
      json!({"type":"message","from":"server","dataType":"text","data":n.to_string()})
    );
  }
  assert_eq!(
    next_json(&mut json).await,
    json!({"type":"system","event":"disconnected","message":"done"})
  );
  assert_eq!(closed(&mut json).await, (1000, "done".into()));
  for n in 0..300 {
    let message = next_json(&mut reliable).await;
    assert_eq!(message["data"], n.to_string());
    assert_eq!(message["sequenceId"], n + 1);
  }
}

#[tokio::test]
async fn reliable_clients_recover_and_get_unacked_messages_replayed() {
  let emulator = Emulator::start().await;
  let (mut ws, connected) = json_client(
    &emulator,
    RELIABLE,
    Some("u"),
    &["webpubsub.joinLeaveGroup"],
  )
  .await;
  let id = connected["connectionId"].as_str().unwrap().to_owned();
  let token = connected["reconnectionToken"].as_str().unwrap().to_owned();
  send_json(&mut ws, json!({"type":"joinGroup","group":"g","ackId":1})).await;
  assert_eq!(next_json(&mut ws).await["success"], true);

  emulator.send_to_all("chat", "text/plain", b"one").await;
  emulator.send_to_all("chat", "text/plain", b"two").await;
  assert_eq!(
    next_json(&mut ws).await,
    json!({"type":"message","from":"server","dataType":"text","data":"one","sequenceId":1})
  );
  assert_eq!(next_json(&mut ws).await["sequenceId"], 2);
  send_json(&mut ws, json!({"type":"sequenceAck","sequenceId":1})).await;
  send_json(&mut ws, json!({"type":"ping"})).await;
  assert_eq!(next_json(&mut ws).await, json!({"type":"pong"}));

  // An abrupt drop: no close frame.
  drop(ws);
  tokio::time::sleep(Duration::from_millis(200)).await;
  let hub = emulator.running.state().hubs.find("chat").unwrap();
  assert!(hub.connection(&id).is_some(), "kept for recovery");
  let (mut publisher, _) =
    json_client(&emulator, JSON, Some("p"), &["webpubsub.sendToGroup"]).await;
  send_json(
    &mut publisher,
    json!({"type":"sendToGroup","group":"g","ackId":1,"dataType":"text","data":"three"}),
  )
  .await;
  assert_eq!(next_json(&mut publisher).await["success"], true);

  // Recovery works without a valid access token.
  let base = emulator.base();
  let wrong = format!("ws://{base}/client/hubs/chat?access_token=expired&awps_connection_id={id}&awps_reconnection_token=bad");
  let (mut rejected, _) = connect(&wrong, &[RELIABLE]).await.unwrap();
  assert_eq!(closed(&mut rejected).await.0, 1008);

  let url = format!("ws://{base}/client/hubs/chat?access_token=expired&awps_connection_id={id}&awps_reconnection_token={token}");
  let (mut resumed, chosen) = connect(&url, &[RELIABLE]).await.unwrap();
  assert_eq!(chosen.as_deref(), Some(RELIABLE));
  // `connected` again, with a new reconnection token, then the replay.
  let again = next_json(&mut resumed).await;
  assert_eq!(
    (&again["event"], &again["connectionId"]),
    (&json!("connected"), &json!(id))
  );
  assert!(again["reconnectionToken"].is_string());
  assert_eq!(
    next_json(&mut resumed).await,
    json!({"type":"message","from":"server","dataType":"text","data":"two","sequenceId":2})
  );
  assert_eq!(
    next_json(&mut resumed).await,
    json!({"type":"message","from":"group","group":"g","fromUserId":"p","dataType":"text","data":"three","sequenceId":3})
  );
  // Ack records survive: ack id 1 is a duplicate.
  send_json(
    &mut resumed,
    json!({"type":"joinGroup","group":"g","ackId":1}),
  )
  .await;
  assert_eq!(next_json(&mut resumed).await["error"]["name"], "Duplicate");

  send_json(&mut resumed, json!({"type":"sequenceAck","sequenceId":3})).await;
  send_json(&mut resumed, json!({"type":"ping"})).await;
  assert_eq!(next_json(&mut resumed).await, json!({"type":"pong"}));

  // A second transport replaces the first; everything was acknowledged, so nothing is replayed.
  let (mut replacement, _) = connect(&url, &[RELIABLE]).await.unwrap();
  assert_eq!(next_json(&mut replacement).await["event"], "connected");
  send_json(&mut replacement, json!({"type":"ping"})).await;
  assert_eq!(next_json(&mut replacement).await, json!({"type":"pong"}));
  let old_end = tokio::time::timeout(WAIT, resumed.next())
    .await
    .expect("old transport ended");
  assert!(!matches!(old_end, Some(Ok(Message::Text(_)))));

  // A client close is final.
  replacement.close(None).await.unwrap();
  tokio::time::sleep(Duration::from_millis(200)).await;
  assert!(hub.connection(&id).is_none());
  let (mut late, _) = connect(&url, &[RELIABLE]).await.unwrap();
  assert_eq!(closed(&mut late).await.0, 1008);
}

#[tokio::test]
async fn shutdown_closes_clients_with_going_away() {
  let emulator = Emulator::start().await;
  let (mut json_ws, _) = json_client(&emulator, JSON, None, &[]).await;
  let (mut raw, _) = connect(&emulator.url("chat", None, &[]), &[])
    .await
    .unwrap();
  let shutdown = tokio::spawn(emulator.running.shutdown());
  assert_eq!(closed(&mut json_ws).await.0, 1001);
  assert_eq!(closed(&mut raw).await.0, 1001);
  shutdown.await.unwrap();
}

#[tokio::test]
async fn closing_clients_leave_the_hub() {
  let emulator = Emulator::start().await;
  let (mut ws, connected) = json_client(&emulator, JSON, Some("u"), &[]).await;
  let id = connected["connectionId"].as_str().unwrap();
  let hub = emulator.running.state().hubs.find("chat").unwrap();
  assert!(hub.connection(id).is_some());
  ws.close(None).await.unwrap();
  assert_eq!(closed(&mut ws).await.0, 1005);
  tokio::time::timeout(WAIT, async {
    while hub.connection(id).is_some() {
      tokio::time::sleep(Duration::from_millis(20)).await;
    }
  })
  .await
  .expect("the connection left the hub");
  assert!(!hub.user_exists("u"));
}
