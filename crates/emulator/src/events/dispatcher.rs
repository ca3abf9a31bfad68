//! Delivery of upstream events to handler URLs: abuse-protection validation first, then the POST,
//! retried as the service does (HTTP 408, 5xx and transient network errors, after 1, 3 and 5 s, at most
//! 4 attempts; never other 4xx or timeouts), bounded by a per-attempt timeout. Every failure is logged
//! on stderr with the event, the connection and the URL without its query (which may hold a `code`).
//!
//! One [`Dispatcher`] serves the whole emulator; requests of different connections run concurrently.

use std::error::Error as StdError;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::StatusCode;

use super::cloudevents::{signature, CloudEvent};
use super::settings::{EventHandler, EventHandlerSettings, EventKind};
use super::validation::{ValidationCache, ValidationError};
use crate::trace::{Category, HttpDetail, HttpSide, Level, TraceRecord, Tracer};

/// Bound of one delivery attempt.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(100);
/// Waits before the 2nd, 3rd and 4th attempt.
const RETRY_DELAYS: [Duration; 3] = [
  Duration::from_secs(1),
  Duration::from_secs(3),
  Duration::from_secs(5),
];
/// Largest handler response body read.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Why an event did not get a successful response.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
  #[error("no event handler is configured for the event")]
  NoHandler,
  /// A non-2xx answer, kept whole: the `connect` refusal and MQTT user events read its body.
  #[error("the handler answered HTTP {}", .0.status)]
  Status(Box<HandlerResponse>),
  #[error("the request failed: {0}")]
  Transport(String),
  #[error("no response within {}s", EVENT_TIMEOUT.as_secs())]
  Timeout,
  #[error("the response body is larger than 16 MiB")]
  TooLarge,
  #[error("cannot set up the HTTP client: {0}")]
  Client(String),
  #[error("abuse protection: {0}")]
  Validation(#[from] ValidationError),
}

/// A handler's response (2xx unless inside [`DeliveryError::Status`]).
#[derive(Debug)]
pub struct HandlerResponse {
  pub status: StatusCode,
  pub headers: HeaderMap,
  pub body: Bytes,
}

/// One event to deliver.
pub struct Outgoing<'a> {
  pub event: CloudEvent<'a>,
  pub handler: &'a EventHandler,
  pub content_type: &'a str,
  pub body: Bytes,
  /// Metadata and cookie headers.
  pub extra_headers: Vec<(String, String)>,
}

/// The emulator's event-handler client: settings, HTTP connection pool, validation results.
pub struct Dispatcher {
  settings: EventHandlerSettings,
  /// Built on the first event, so an emulator without handlers never builds one.
  http: OnceLock<Result<reqwest::Client, String>>,
  validation: ValidationCache,
  access_key: String,
  tracer: Arc<Tracer>,
}

impl Dispatcher {
  pub fn new(settings: EventHandlerSettings, access_key: &str, tracer: Arc<Tracer>) -> Self {
    Dispatcher {
      settings,
      http: OnceLock::new(),
      validation: ValidationCache::default(),
      access_key: access_key.to_owned(),
      tracer,
    }
  }

  /// The shared HTTP client: rustls with the project's roots, no redirects, no proxies.
  fn http(&self) -> Result<&reqwest::Client, DeliveryError> {
    self
      .http
      .get_or_init(http_client)
      .as_ref()
      .map_err(|message| DeliveryError::Client(message.clone()))
  }

  pub fn settings(&self) -> &EventHandlerSettings {
    &self.settings
  }

  /// The first handler of `hub` for `event`.
  pub fn handler_for(&self, hub: &str, event: &EventKind) -> Option<&EventHandler> {
    self.settings.handler_for(hub, event)
  }

  /// The `ce-signature` of a connection.
  pub fn signature(&self, connection_id: &str) -> String {
    signature(&self.access_key, connection_id)
  }

  /// Validates the handler URL if needed, then posts the event with retries. Logs every failure
  /// and traces the call.
  pub async fn deliver(&self, outgoing: Outgoing<'_>) -> Result<HandlerResponse, DeliveryError> {
    let event = &outgoing.event;
    let url = outgoing
      .handler
      .url_template
      .expand(event.hub, event.kind.name());
    let started = Instant::now();
    let mut attempts = 0;
    let result = self.try_deliver(&outgoing, &url, &mut attempts).await;
    if let Err(error) = &result {
      log_failure(event, &url, error, None);
    }
    self.trace(&outgoing, &url, &result, attempts, started);
    result
  }

  fn trace(
    &self,
    outgoing: &Outgoing<'_>,
    url: &str,
    result: &Result<HandlerResponse, DeliveryError>,
    attempts: u32,
    started: Instant,
  ) {
    let event = &outgoing.event;
    let name = event.kind.name();
    let retries = attempts.saturating_sub(1);
    let (level, message) = match result {
      Ok(_) => (
        Level::Information,
        format!("Event '{name}' delivered to the event handler ({retries} retries)."),
      ),
      Err(error) => (
        Level::Warning,
        format!("Event '{name}' failed at the event handler ({retries} retries): {error}"),
      ),
    };
    let request_headers = request_headers(outgoing);
    let request = HttpSide::new(
      request_headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes())),
      &outgoing.body,
    );
    let response = result.as_ref().ok().map(|response| {
      HttpSide::new(
        response
          .headers
          .iter()
          .map(|(name, value)| (name.as_str(), value.as_bytes())),
        &response.body,
      )
    });
    let status = match result {
      Ok(response) => Some(response.status.as_u16()),
      Err(DeliveryError::Status(response)) => Some(response.status.as_u16()),
      Err(_) => None,
    };
    let mut record = TraceRecord::new(Category::Http, level, "EventHandlerCall", message)
      .hub(event.hub)
      .connection(event.connection_id, event.user_id);
    record.method = Some("POST".to_owned());
    record.url = Some(crate::trace::redact::text(url));
    record.route = Some(name.to_owned());
    record.status_code = status;
    record.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    record.detail = Some(HttpDetail { request, response });
    if let Err(error) = result {
      record.exception = Some(error.to_string());
    }
    self.tracer.record(record);
  }

  async fn try_deliver(
    &self,
    outgoing: &Outgoing<'_>,
    url: &str,
    attempts: &mut u32,
  ) -> Result<HandlerResponse, DeliveryError> {
    let event = &outgoing.event;
    let http = self.http()?;
    let validation_url = outgoing.handler.url_template.expand(event.hub, "validate");
    self
      .validation
      .ensure(http, &validation_url, event.origin)
      .await?;
    let headers = request_headers(outgoing);
    let mut delays = RETRY_DELAYS.iter();
    loop {
      *attempts += 1;
      let failure = match attempt(http, url, &headers, outgoing.body.clone()).await {
        Ok(response) => return Ok(response),
        Err(failure) => failure,
      };
      let delay = match delays.next() {
        Some(delay) if failure.is_retryable() => *delay,
        _ => return Err(failure.into()),
      };
      log_failure(event, url, &failure.into(), Some(delay));
      tokio::time::sleep(delay).await;
    }
  }
}

async fn attempt(
  http: &reqwest::Client,
  url: &str,
  headers: &HeaderMap,
  body: Bytes,
) -> Result<HandlerResponse, Attempt> {
  let send = http
    .post(url)
    .headers(headers.clone())
    .body(body)
    .timeout(EVENT_TIMEOUT)
    .send();
  let mut response = send.await.map_err(Attempt::from_reqwest)?;
  let status = response.status();
  let mut body = Vec::new();
  while let Some(chunk) = response.chunk().await.map_err(Attempt::from_reqwest)? {
    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
      return Err(Attempt::Final(DeliveryError::TooLarge));
    }
    body.extend_from_slice(&chunk);
  }
  let answer = HandlerResponse {
    status,
    headers: response.headers().clone(),
    body: Bytes::from(body),
  };
  if status.is_success() {
    Ok(answer)
  } else {
    Err(Attempt::Status(Box::new(answer)))
  }
}

/// An HTTP client for handler URLs (and the crate's tests): rustls with the project's roots
/// ([`webpubsub_protocol::tls::client_config`]), no redirects, no proxies.
pub fn http_client() -> Result<reqwest::Client, String> {
  let tls = webpubsub_protocol::tls::client_config(None).map_err(|e| e.to_string())?;
  reqwest::Client::builder()
    .tls_backend_preconfigured(tls)
    .redirect(reqwest::redirect::Policy::none())
    .no_proxy()
    .build()
    .map_err(|e| describe(&e))
}

/// The outcome of one failed attempt.
enum Attempt {
  Status(Box<HandlerResponse>),
  Transient(String),
  Final(DeliveryError),
}

impl Attempt {
  fn is_retryable(&self) -> bool {
    match self {
      Attempt::Status(response) => {
        response.status == StatusCode::REQUEST_TIMEOUT || response.status.is_server_error()
      }
      Attempt::Transient(_) => true,
      Attempt::Final(_) => false,
    }
  }

  fn from_reqwest(error: reqwest::Error) -> Attempt {
    if error.is_timeout() {
      Attempt::Final(DeliveryError::Timeout)
    } else {
      Attempt::Transient(describe(&error))
    }
  }
}

impl From<Attempt> for DeliveryError {
  fn from(attempt: Attempt) -> Self {
    match attempt {
      Attempt::Status(response) => DeliveryError::Status(response),
      Attempt::Transient(message) => DeliveryError::Transport(message),
      Attempt::Final(error) => error,
    }
  }
}

fn request_headers(outgoing: &Outgoing<'_>) -> HeaderMap {
  let mut headers = HeaderMap::new();
  let attributes = outgoing.event.headers();
  let pairs = attributes
    .iter()
    .map(|(name, value)| (*name, value.as_str()))
    .chain(
      outgoing
        .extra_headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str())),
    )
    .chain([(CONTENT_TYPE.as_str(), outgoing.content_type)]);
  for (name, value) in pairs {
    // User ids and metadata may hold any UTF-8; HTTP carries the bytes as they are.
    if let (Ok(name), Ok(value)) = (
      HeaderName::from_bytes(name.as_bytes()),
      HeaderValue::from_bytes(value.as_bytes()),
    ) {
      headers.append(name, value);
    }
  }
  headers
}

fn log_failure(event: &CloudEvent<'_>, url: &str, error: &DeliveryError, retry: Option<Duration>) {
  let url = url.split(['?', '#']).next().unwrap_or_default();
  let retry = retry.map_or_else(String::new, |d| format!("; retrying in {}s", d.as_secs()));
  eprintln!(
    "webpubsub-emulator: event '{}' of connection {} in hub '{}' to {url} failed: {error}{retry}",
    event.kind.name(),
    event.connection_id,
    event.hub,
  );
}

/// A reqwest error and its causes, without the request URL.
pub(crate) fn describe(error: &reqwest::Error) -> String {
  let mut text = if error.is_connect() {
    "connection failed".to_owned()
  } else if error.is_body() || error.is_decode() {
    "reading the response failed".to_owned()
  } else {
    "sending the request failed".to_owned()
  };
  let mut source = error.source();
  while let Some(cause) = source {
    text.push_str(": ");
    text.push_str(&cause.to_string());
    source = cause.source();
  }
  text
}
