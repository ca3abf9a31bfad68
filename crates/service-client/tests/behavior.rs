//! Retries, failures, cancellation and the insecure-connection rules.

mod common;

use bytes::Bytes;
use common::{status, Recorder, Reply};
use futures_util::future::{BoxFuture, FutureExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use webpubsub_protocol::payload::ContentKind;
use webpubsub_service_client::{
  AccessToken, CallOptions, ClientConfig, Credential, Error, KeyCredential, Operation, Payload,
  RetryOptions, SentRequest, ServiceClient, TokenProvider,
};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";

fn fast_retries() -> RetryOptions {
  RetryOptions {
    max_retries: 3,
    retry_delay_ms: 10,
    max_retry_delay_ms: 40,
  }
}

fn client(endpoint: String) -> ServiceClient {
  let mut config = ClientConfig::new(
    endpoint,
    "hub",
    Credential::Key(Arc::new(KeyCredential::new(KEY))),
  );
  config.allow_insecure_connection = true;
  config.retry = fast_retries();
  ServiceClient::new(config).unwrap()
}

/// How a `sendToAll` through `client` failed: the transport error's code, message and request.
async fn transport_failure(client: ServiceClient) -> (String, String, Option<Box<SentRequest>>) {
  let error = client
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  let Error::Transport {
    code,
    message,
    request,
  } = error
  else {
    panic!("expected Transport, got {error:?}");
  };
  (code, message, request)
}

fn send() -> Operation {
  Operation::SendToAll {
    payload: Payload {
      kind: ContentKind::Text,
      body: Bytes::from_static(b"hello"),
    },
    excluded: vec![],
    filter: None,
    message_ttl_seconds: None,
  }
}

#[tokio::test]
async fn service_unavailable_is_retried_with_the_same_request_id() {
  let recorder = Recorder::start(|_, i| if i == 0 { status(503) } else { status(202) }).await;
  let response = client(recorder.endpoint())
    .execute(send(), &CallOptions::default())
    .await
    .unwrap();
  assert_eq!(response.status, 202);
  let requests = recorder.requests();
  assert_eq!(requests.len(), 2);
  assert_eq!(
    requests[0].header("x-ms-client-request-id"),
    requests[1].header("x-ms-client-request-id")
  );
  assert_eq!(requests[1].body, b"hello");
}

#[tokio::test]
async fn retries_stop_after_max_retries_and_the_last_answer_is_the_error() {
  let recorder =
    Recorder::start(|_, i| Reply::Status(500, vec![], format!("attempt {i}").into_bytes())).await;
  let error = client(recorder.endpoint())
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  let Error::UnexpectedStatus(response) = error else {
    panic!("expected UnexpectedStatus, got {error:?}");
  };
  assert_eq!(response.status, 500);
  assert_eq!(&response.body[..], b"attempt 3");
  assert_eq!(recorder.requests().len(), 4);
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
  let recorder = Recorder::start(|_, i| {
    if i == 0 {
      Reply::Status(
        429,
        vec![("Retry-After", "1".into())],
        b"slow down".to_vec(),
      )
    } else {
      status(202)
    }
  })
  .await;
  let started = Instant::now();
  let response = client(recorder.endpoint())
    .execute(send(), &CallOptions::default())
    .await
    .unwrap();
  assert_eq!(response.status, 202);
  assert!(
    started.elapsed() >= Duration::from_millis(950),
    "{:?}",
    started.elapsed()
  );
  assert_eq!(recorder.requests().len(), 2);
}

#[tokio::test]
async fn bad_request_is_not_retried_and_keeps_the_body() {
  let body = br#"{"code":"Error.BadRequest","message":"bad filter"}"#;
  let recorder = Recorder::start(move |_, _| {
    Reply::Status(
      400,
      vec![("x-ms-error-code", "Error.BadRequest".into())],
      body.to_vec(),
    )
  })
  .await;
  let error = client(recorder.endpoint())
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  let Error::UnexpectedStatus(response) = error else {
    panic!("expected UnexpectedStatus, got {error:?}");
  };
  assert_eq!(response.status, 400);
  assert_eq!(&response.body[..], body);
  assert_eq!(response.headers["x-ms-error-code"], "Error.BadRequest");
  assert_eq!(recorder.requests().len(), 1);
}

#[tokio::test]
async fn other_success_codes_are_errors_and_404_is_an_answer_for_exists() {
  let recorder = Recorder::start(|req, _| match req.method.as_str() {
    "HEAD" => status(404),
    _ => status(200),
  })
  .await;
  let client = client(recorder.endpoint());
  let error = client
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  assert!(
    matches!(error, Error::UnexpectedStatus(ref r) if r.status == 200),
    "{error:?}"
  );
  let exists = client
    .execute(
      Operation::GroupExists { group: "g".into() },
      &CallOptions::default(),
    )
    .await
    .unwrap();
  assert_eq!(exists.status, 404);
  let health = client
    .execute(Operation::GetServiceStatus, &CallOptions::default())
    .await
    .unwrap_err();
  assert!(matches!(health, Error::UnexpectedStatus(ref r) if r.status == 404));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_like_node() {
  let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  let port = listener.local_addr().unwrap().port();
  drop(listener);
  let (code, message, _) = transport_failure(client(format!("http://127.0.0.1:{port}"))).await;
  assert_eq!(code, "ECONNREFUSED");
  assert_eq!(message, format!("connect ECONNREFUSED 127.0.0.1:{port}"));
}

#[tokio::test]
async fn cancelling_drops_the_request_in_flight() {
  let recorder = Recorder::start(|_, _| Reply::Hang).await;
  let cancel = CancellationToken::new();
  let call = CallOptions {
    cancel: Some(cancel.clone()),
    ..Default::default()
  };
  let trigger = cancel.clone();
  tokio::spawn(async move {
    tokio::time::sleep(Duration::from_millis(100)).await;
    trigger.cancel();
  });
  let started = Instant::now();
  let error = client(recorder.endpoint())
    .execute(send(), &call)
    .await
    .unwrap_err();
  assert!(matches!(error, Error::Cancelled), "{error:?}");
  assert!(started.elapsed() < Duration::from_secs(10));
  assert_eq!(error.to_string(), "The operation was aborted.");
  assert_eq!(recorder.requests().len(), 1);
}

#[tokio::test]
async fn an_already_cancelled_call_sends_nothing() {
  let recorder = Recorder::start(|_, _| status(202)).await;
  let cancel = CancellationToken::new();
  cancel.cancel();
  let call = CallOptions {
    cancel: Some(cancel),
    ..Default::default()
  };
  let error = client(recorder.endpoint())
    .execute(send(), &call)
    .await
    .unwrap_err();
  assert!(matches!(error, Error::Cancelled));
  assert!(recorder.requests().is_empty());
}

#[tokio::test]
async fn timeout_ends_the_call_without_retrying() {
  let recorder = Recorder::start(|_, _| Reply::Hang).await;
  let call = CallOptions {
    timeout: Some(Duration::from_millis(100)),
    ..Default::default()
  };
  let error = client(recorder.endpoint())
    .execute(send(), &call)
    .await
    .unwrap_err();
  assert!(matches!(error, Error::TimedOut), "{error:?}");
  assert_eq!(recorder.requests().len(), 1);
}

#[tokio::test]
async fn plain_http_needs_allow_insecure_connection() {
  let recorder = Recorder::start(|_, _| status(202)).await;
  let config = ClientConfig::from_connection_string(
    &format!("Endpoint={};AccessKey={KEY}", recorder.endpoint()),
    "hub",
  )
  .unwrap();
  let error = ServiceClient::new(config)
    .unwrap()
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  assert_eq!(
    error.to_string(),
    format!(
      "Cannot connect to {}/api/hubs/hub/:send?api-version=2024-12-01 while allowInsecureConnection is false.",
      recorder.endpoint()
    )
  );
  assert!(recorder.requests().is_empty());
}

struct StaticToken;

impl TokenProvider for StaticToken {
  fn get_token(&self, _: Vec<String>) -> BoxFuture<'static, Result<AccessToken, String>> {
    async {
      Ok(AccessToken {
        token: "entra".into(),
        expires_on_ms: u64::MAX / 2,
        refresh_after_ms: None,
      })
    }
    .boxed()
  }
}

#[tokio::test]
async fn bearer_tokens_are_refused_over_http() {
  let recorder = Recorder::start(|_, _| status(202)).await;
  let mut config = ClientConfig::new(
    recorder.endpoint(),
    "hub",
    Credential::Token(Arc::new(StaticToken)),
  );
  config.allow_insecure_connection = true;
  let error = ServiceClient::new(config)
    .unwrap()
    .execute(send(), &CallOptions::default())
    .await
    .unwrap_err();
  assert_eq!(
    error.to_string(),
    "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs."
  );
  assert!(recorder.requests().is_empty());
}

#[tokio::test]
async fn unresolvable_host_reports_enotfound() {
  let mut config = ClientConfig::new(
    "http://host.invalid",
    "hub",
    Credential::Key(Arc::new(KeyCredential::new(KEY))),
  );
  config.allow_insecure_connection = true;
  config.retry.max_retries = 0;
  let (code, message, _) = transport_failure(ServiceClient::new(config).unwrap()).await;
  assert_eq!(code, "ENOTFOUND");
  assert_eq!(message, "getaddrinfo ENOTFOUND host.invalid");
}

/// A server that answers every request it reads with `answer` and closes; returns its port and
/// a counter of the requests it read.
async fn raw_server(answer: &'static [u8]) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
  use std::sync::atomic::Ordering;
  use tokio::io::{AsyncReadExt, AsyncWriteExt};
  let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
  let port = listener.local_addr().unwrap().port();
  let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
  let counter = requests.clone();
  tokio::spawn(async move {
    while let Ok((mut socket, _)) = listener.accept().await {
      let counter = counter.clone();
      tokio::spawn(async move {
        let mut head = [0u8; 4096];
        if socket.read(&mut head).await.unwrap_or(0) > 0 {
          counter.fetch_add(1, Ordering::SeqCst);
          let _ = socket.write_all(answer).await;
        }
      });
    }
  });
  (port, requests)
}

#[tokio::test]
async fn an_answer_that_breaks_off_mid_body_is_not_retried() {
  let (port, requests) =
    raw_server(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\n{\"a\":").await;
  let (code, message, request) =
    transport_failure(client(format!("http://127.0.0.1:{port}"))).await;
  assert_eq!(code, "PARSE_ERROR");
  assert_eq!(message, "Error reading response as text: aborted");
  assert!(request.is_none());
  assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unparsable_answers_get_node_parser_codes_and_are_not_retried() {
  let cases: [(&[u8], &str); 4] = [
    (b"GARBAGE garbage\r\n\r\n", "HPE_INVALID_CONSTANT"),
    (b"HTTP/1.1 2x0 OK\r\n\r\n", "HPE_INVALID_STATUS"),
    (
      b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
      "HPE_INVALID_HEADER_TOKEN",
    ),
    (
      b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
      "HPE_INVALID_CONTENT_LENGTH",
    ),
  ];
  for (answer, expected) in cases {
    let (port, requests) = raw_server(answer).await;
    let (code, _, request) = transport_failure(client(format!("http://127.0.0.1:{port}"))).await;
    assert_eq!(code, expected);
    let request = request.expect("the error carries the request");
    assert_eq!(request.method, "POST");
    assert!(request
      .url
      .ends_with("/api/hubs/hub/:send?api-version=2024-12-01"));
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
  }
}

#[tokio::test]
async fn a_connection_closed_before_the_head_is_retried_with_the_request_attached() {
  let (port, requests) = raw_server(b"").await;
  let (code, _, request) = transport_failure(client(format!("http://127.0.0.1:{port}"))).await;
  assert_eq!(code, "ECONNRESET");
  assert!(request.is_some());
  assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// Records what a tracer is told and gives each attempt a `traceparent` of its own.
#[derive(Default)]
struct RecordingTracer {
  events: Arc<std::sync::Mutex<Vec<String>>>,
}

impl webpubsub_service_client::AttemptTracer for RecordingTracer {
  fn start(
    &self,
    attempt: webpubsub_service_client::AttemptStart<'_>,
  ) -> webpubsub_service_client::TraceHeaders {
    let mut events = self.events.lock().unwrap();
    let signed = attempt.headers.contains_key("authorization");
    events.push(format!("start {} signed={signed}", attempt.method));
    let traceparent = format!("00-{:032x}-{:016x}-01", 1, events.len());
    Box::pin(async move {
      vec![
        ("traceparent".to_owned(), traceparent),
        ("not a header name".to_owned(), "left out".to_owned()),
      ]
    })
  }

  fn retrying(&self, ended: webpubsub_service_client::AttemptEnd<'_>) {
    let event = match ended {
      webpubsub_service_client::AttemptEnd::Answer { status, .. } => format!("retrying {status}"),
      webpubsub_service_client::AttemptEnd::Failed { code, request, .. } => {
        format!("retrying {code} {}", request.is_some())
      }
    };
    self.events.lock().unwrap().push(event);
  }
}

#[tokio::test]
async fn a_tracer_opens_each_attempt_and_its_headers_are_sent() {
  let recorder = Recorder::start(|_, i| match i {
    0 => status(503),
    1 => status(500),
    _ => status(202),
  })
  .await;
  let tracer = RecordingTracer::default();
  let events = Arc::clone(&tracer.events);
  let call = CallOptions {
    tracer: Some(webpubsub_service_client::Tracer::new(tracer)),
    ..CallOptions::default()
  };
  let response = client(recorder.endpoint())
    .execute(send(), &call)
    .await
    .unwrap();
  assert_eq!(response.status, 202);
  let sent: Vec<_> = recorder
    .requests()
    .iter()
    .map(|r| r.header("traceparent").map(str::to_owned))
    .collect();
  let expected = |n: usize| Some(format!("00-{:032x}-{n:016x}-01", 1));
  // The attempts' span ids: 1, then 3 and 5 (a `retrying` event comes between starts).
  assert_eq!(sent, vec![expected(1), expected(3), expected(5)]);
  assert_eq!(
    *events.lock().unwrap(),
    vec![
      "start POST signed=false",
      "retrying 503",
      "start POST signed=false",
      "retrying 500",
      "start POST signed=false",
    ]
  );
}
