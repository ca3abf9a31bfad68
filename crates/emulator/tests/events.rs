//! Event delivery against a scripted handler server: abuse-protection validation, retries of 5xx but
//! not 4xx, the `connect` status returned to the client, and a stalled handler not delaying other
//! connections.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use webpubsub_emulator::config::DEFAULT_ACCESS_KEY;
use webpubsub_emulator::{EmulatorConfig, RunningEmulator};
use webpubsub_protocol::jwt::{ClientTokenClaims, SigningKey};

const WAIT: Duration = Duration::from_secs(20);

/// How the scripted handler answers.
#[derive(Clone, Copy)]
enum Script {
  /// OPTIONS without `WebHook-Allowed-Origin`.
  RefuseValidation,
  /// `connect` answers 503 this many times, then 204.
  UnavailableTimes(usize),
  /// `connect` answers this status.
  ConnectStatus(u16),
  /// A user event whose body is `stall` never gets an answer; everything else is 204.
  StallOn,
}

#[derive(Default)]
struct Seen {
  /// (method, ce-eventName) of every request.
  requests: Vec<(Method, String)>,
}

#[derive(Clone)]
struct Handler {
  script: Script,
  seen: Arc<Mutex<Seen>>,
}

async fn handle(
  State(handler): State<Handler>,
  method: Method,
  headers: HeaderMap,
  body: axum::body::Bytes,
) -> Response {
  let event = headers
    .get("ce-eventName")
    .and_then(|v| v.to_str().ok())
    .unwrap_or_default()
    .to_owned();
  let count = {
    let mut seen = handler.seen.lock().unwrap();
    seen.requests.push((method.clone(), event.clone()));
    seen
      .requests
      .iter()
      .filter(|(m, e)| *m == method && *e == event)
      .count()
  };
  if method == Method::OPTIONS {
    return match handler.script {
      Script::RefuseValidation => StatusCode::OK.into_response(),
      _ => (StatusCode::OK, [("WebHook-Allowed-Origin", "*")]).into_response(),
    };
  }
  match (handler.script, event.as_str()) {
    (Script::UnavailableTimes(times), "connect") if count <= times => {
      StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
    (Script::ConnectStatus(status), "connect") => {
      StatusCode::from_u16(status).unwrap().into_response()
    }
    (Script::StallOn, "message") if &body[..] == b"stall" => std::future::pending().await,
    _ => StatusCode::NO_CONTENT.into_response(),
  }
}

struct Setup {
  emulator: RunningEmulator,
  seen: Arc<Mutex<Seen>>,
}

impl Setup {
  async fn start(script: Script) -> Setup {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = axum::Router::new()
      .route("/events/{event}", axum::routing::any(handle))
      .with_state(Handler {
        script,
        seen: seen.clone(),
      });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = EmulatorConfig {
      port: 0,
      ..EmulatorConfig::default()
    };
    config
      .event_handlers
      .add_spec(&format!(
        "hub=chat;url=http://127.0.0.1:{port}/events/{{event}};events=connect,connected,disconnected;user=*"
      ))
      .unwrap();
    let emulator = webpubsub_emulator::start(config).await.unwrap();
    Setup { emulator, seen }
  }

  fn url(&self, user: &str) -> String {
    let base = format!("127.0.0.1:{}", self.emulator.port());
    let claims = ClientTokenClaims {
      audience: format!("http://{base}/client/hubs/chat"),
      user_id: Some(user.to_owned()),
      roles: None,
      groups: None,
      lifetime_minutes: 60,
    };
    let now = std::time::SystemTime::now()
      .duration_since(std::time::UNIX_EPOCH)
      .unwrap()
      .as_secs();
    let token = SigningKey::new(DEFAULT_ACCESS_KEY).sign_client_token(&claims, now);
    format!("ws://{base}/client/hubs/chat?access_token={token}")
  }

  fn posts(&self, event: &str) -> usize {
    let seen = self.seen.lock().unwrap();
    seen
      .requests
      .iter()
      .filter(|(m, e)| *m == Method::POST && e == event)
      .count()
  }

  async fn wait_for_posts(&self, event: &str, count: usize) {
    tokio::time::timeout(WAIT, async {
      while self.posts(event) < count {
        tokio::time::sleep(Duration::from_millis(20)).await;
      }
    })
    .await
    .unwrap_or_else(|_| panic!("expected {count} '{event}' requests"));
  }
}

fn rejected_status(result: Result<impl Sized, WsError>) -> u16 {
  match result {
    Err(WsError::Http(response)) => response.status().as_u16(),
    Err(other) => panic!("expected an HTTP refusal, got {other}"),
    Ok(_) => panic!("expected the handshake to be refused"),
  }
}

#[tokio::test]
async fn a_failed_validation_refuses_the_connection_without_posting() {
  let setup = Setup::start(Script::RefuseValidation).await;
  let result = tokio_tungstenite::connect_async(setup.url("u")).await;
  assert_eq!(rejected_status(result), 500);
  let seen = setup.seen.lock().unwrap();
  assert_eq!(seen.requests, vec![(Method::OPTIONS, String::new())]);
}

#[tokio::test]
async fn server_errors_are_retried_until_the_handler_recovers() {
  let setup = Setup::start(Script::UnavailableTimes(2)).await;
  let (mut socket, _) =
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(setup.url("u")))
      .await
      .unwrap()
      .unwrap();
  assert_eq!(setup.posts("connect"), 3);
  setup.wait_for_posts("connected", 1).await;
  socket.close(None).await.unwrap();
  setup.wait_for_posts("disconnected", 1).await;
}

#[tokio::test]
async fn client_errors_are_returned_to_the_client_without_retries() {
  let setup = Setup::start(Script::ConnectStatus(403)).await;
  let result = tokio_tungstenite::connect_async(setup.url("u")).await;
  assert_eq!(rejected_status(result), 403);
  assert_eq!(setup.posts("connect"), 1);
  tokio::time::sleep(Duration::from_millis(200)).await;
  assert_eq!(setup.posts("connected"), 0);
}

#[tokio::test]
async fn a_stalled_handler_does_not_delay_other_connections() {
  let setup = Setup::start(Script::StallOn).await;
  let (mut stalled, _) = tokio_tungstenite::connect_async(setup.url("a"))
    .await
    .unwrap();
  stalled.send(Message::text("stall")).await.unwrap();
  setup.wait_for_posts("message", 1).await;
  let (mut other, _) = tokio_tungstenite::connect_async(setup.url("b"))
    .await
    .unwrap();
  other.send(Message::text("hello")).await.unwrap();
  setup.wait_for_posts("message", 2).await;
  other.close(None).await.unwrap();
  while other.next().await.is_some() {}
}
