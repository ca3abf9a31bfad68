//! Replays the real service's recorded REST exchanges against the emulator and compares the
//! status, `x-ms-error-code` and body. Exchanges whose answer depends on live WebSocket
//! connections (exists → 200, add → 200, non-empty listings, continuation tokens) and legacy
//! recordings are left out. Skipped with a message when the recordings file is absent.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request};
use base64::Engine;
use serde_json::Value;
use tower::ServiceExt;
use webpubsub_emulator::config::DEFAULT_ACCESS_KEY;
use webpubsub_emulator::{app, EmulatorConfig, EmulatorState};
use webpubsub_protocol::jwt::SigningKey;

fn recordings_path() -> PathBuf {
  PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    .join("../../../shared/reference/service-recordings.json")
}

/// Whether the recorded answer needs connections this test cannot have.
fn needs_live_connections(exchange: &Value) -> bool {
  let method = exchange["method"].as_str().unwrap_or_default();
  let status = exchange["status"].as_u64().unwrap_or_default();
  let template = exchange["path_template"].as_str().unwrap_or_default();
  let url = exchange["url_path"].as_str().unwrap_or_default();
  match (method, status) {
    ("HEAD", 200) => !template.ends_with("/api/health"),
    ("PUT", 200) => true,
    ("GET", 200) => {
      url.contains("continuationToken=")
        || exchange["response_body"]["value"]
          .as_array()
          .is_some_and(|v| !v.is_empty())
    }
    _ => false,
  }
}

fn request_body(exchange: &Value) -> Vec<u8> {
  let text = exchange["request_body"].as_str().unwrap_or_default();
  if exchange["request_body_encoding"].as_str() == Some("base64") {
    base64::engine::general_purpose::STANDARD
      .decode(text)
      .expect("base64 request body")
  } else {
    text.as_bytes().to_vec()
  }
}

/// The differences between the recorded and the emulator's answer, empty when they agree.
async fn replay(exchange: &Value) -> Vec<String> {
  let state = EmulatorState::new(EmulatorConfig::default());
  let method = exchange["method"].as_str().unwrap();
  let target = exchange["url_path"].as_str().unwrap();
  let token = SigningKey::new(DEFAULT_ACCESS_KEY).sign_rest_token(
    &format!("http://localhost{target}"),
    webpubsub_emulator::auth::now_seconds(),
  );
  let mut request = Request::builder()
    .method(method)
    .uri(target)
    .header(header::HOST, "localhost")
    .header(header::AUTHORIZATION, format!("Bearer {token}"));
  if let Some(content_type) = exchange["request_content_type"].as_str() {
    request = request.header(header::CONTENT_TYPE, content_type);
  }
  let request = request.body(Body::from(request_body(exchange))).unwrap();
  let response = app(state).oneshot(request).await.unwrap();

  let mut problems = Vec::new();
  let status = response.status().as_u16() as u64;
  if Some(status) != exchange["status"].as_u64() {
    problems.push(format!("status {status}, recorded {}", exchange["status"]));
  }
  let code = response
    .headers()
    .get("x-ms-error-code")
    .and_then(|v| v.to_str().ok())
    .map(str::to_owned);
  if code.as_deref() != exchange["error_code"].as_str() {
    problems.push(format!(
      "x-ms-error-code {code:?}, recorded {}",
      exchange["error_code"]
    ));
  }
  // Older recordings come from service builds that listed fewer versions or none at all.
  let current_service = exchange["recorded"]
    .as_str()
    .is_some_and(|date| date >= "2025");
  let recorded_versions = exchange["interesting_headers"]
    .get("api-supported-versions")
    .is_some();
  if current_service
    && response.headers().contains_key("api-supported-versions") != recorded_versions
  {
    problems.push(format!(
      "api-supported-versions present: recorded {recorded_versions}"
    ));
  }
  let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
    .await
    .unwrap();
  match &exchange["response_body"] {
    Value::Null => {
      if !bytes.is_empty() {
        problems.push(format!(
          "body {:?}, recorded none",
          String::from_utf8_lossy(&bytes)
        ));
      }
    }
    Value::Object(recorded) if recorded.contains_key("token") => {
      let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
      if !body["token"].is_string() {
        problems.push(format!("body {body}, recorded a token"));
      }
    }
    recorded => {
      let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
      if &body != recorded {
        problems.push(format!("body {body}, recorded {recorded}"));
      }
      let recorded_length = exchange["interesting_headers"]["Content-Length"].as_str();
      if recorded_length.is_some_and(|length| length != bytes.len().to_string()) {
        problems.push(format!(
          "body length {}, recorded {recorded_length:?}",
          bytes.len()
        ));
      }
    }
  }
  problems
}

#[tokio::test]
async fn recorded_exchanges_replay_with_the_same_answers() {
  let path = recordings_path();
  let Ok(text) = std::fs::read_to_string(&path) else {
    eprintln!("skipping: {} not found", path.display());
    return;
  };
  let exchanges: Vec<Value> = serde_json::from_str(&text).expect("recordings are a JSON array");
  let mut replayed = 0;
  let mut failures = Vec::new();
  for exchange in &exchanges {
    if exchange["legacy"].as_bool() == Some(true) || needs_live_connections(exchange) {
      continue;
    }
    replayed += 1;
    let problems = replay(exchange).await;
    if !problems.is_empty() {
      failures.push(format!(
        "{} {}: {}",
        exchange["method"].as_str().unwrap_or_default(),
        exchange["url_path"].as_str().unwrap_or_default(),
        problems.join("; ")
      ));
    }
  }
  assert!(replayed > 80, "only {replayed} exchanges replayed");
  assert!(
    failures.is_empty(),
    "{} of {replayed} differ:\n{}",
    failures.len(),
    failures.join("\n")
  );
}
