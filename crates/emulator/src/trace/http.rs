//! The `HttpRequest` records of REST calls: a middleware around the REST routes that notes the method,
//! URL, route template, status, duration and trace id of every call, with the request and response
//! headers and body previews (secrets redacted).

use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

use super::{redact, Category, HttpDetail, HttpSide, Level, TraceRecord};
use crate::rest::MAX_BODY_BYTES;
use crate::state::SharedState;

/// Largest response body the middleware reads back to show it (REST answers are far smaller).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Records one REST call.
pub async fn record_rest_call(
  State(state): State<SharedState>,
  request: Request,
  next: Next,
) -> Response {
  let started = Instant::now();
  let method = request.method().to_string();
  let url = redact::text(&request.uri().to_string());
  let route = request
    .extensions()
    .get::<MatchedPath>()
    .map(|path| path.as_str().to_owned());
  let hub = hub_of(request.uri().path());
  let trace_id = trace_id(request.headers());
  let (parts, body) = request.into_parts();
  // Bodies with a declared length within the REST limit are read here and handed on; others go on
  // untouched (the handler answers 413) and show no preview.
  let declared = parts
    .headers
    .get(header::CONTENT_LENGTH)
    .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
  let (body, request_bytes) = match declared {
    Some(length) if length <= MAX_BODY_BYTES => match to_bytes(body, MAX_BODY_BYTES).await {
      Ok(bytes) => (Body::from(bytes.clone()), bytes),
      Err(_) => (Body::empty(), Default::default()),
    },
    _ => (body, Default::default()),
  };
  let request_side = side(&parts.headers, &request_bytes);
  let response = next.run(Request::from_parts(parts, body)).await;
  let (parts, body) = response.into_parts();
  let response_bytes = to_bytes(body, MAX_RESPONSE_BYTES).await.unwrap_or_default();
  let status = parts.status.as_u16();
  let level = match status {
    500.. => Level::Error,
    400.. => Level::Warning,
    _ => Level::Information,
  };
  let mut record = TraceRecord::new(
    Category::Http,
    level,
    "RestApiCall",
    format!(
      "{method} {} answered {status}",
      route.as_deref().unwrap_or("")
    ),
  );
  record.hub = hub;
  record.method = Some(method);
  record.url = Some(url);
  record.route = route;
  record.trace_id = trace_id;
  record.status_code = Some(status);
  record.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
  record.detail = Some(HttpDetail {
    request: request_side,
    response: Some(side(&parts.headers, &response_bytes)),
  });
  state.tracer.record(record);
  Response::from_parts(parts, Body::from(response_bytes))
}

fn side(headers: &HeaderMap, body: &[u8]) -> HttpSide {
  HttpSide::new(
    headers
      .iter()
      .map(|(name, value)| (name.as_str(), value.as_bytes())),
    body,
  )
}

/// The hub of `/api/hubs/{hub}/...`.
fn hub_of(path: &str) -> Option<String> {
  let rest = path.strip_prefix("/api/hubs/")?;
  let hub = rest.split('/').next()?;
  Some(
    percent_encoding::percent_decode_str(hub)
      .decode_utf8_lossy()
      .to_lowercase(),
  )
}

/// The trace id of a W3C `traceparent` header (`00-<trace id>-<span id>-<flags>`).
fn trace_id(headers: &HeaderMap) -> Option<String> {
  let value = headers.get("traceparent")?.to_str().ok()?;
  value.split('-').nth(1).map(str::to_owned)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn hub_and_trace_id_come_from_the_request() {
    assert_eq!(
      hub_of("/api/hubs/Chat%20Room/:send"),
      Some("chat room".into())
    );
    assert_eq!(hub_of("/api/health"), None);
    let mut headers = HeaderMap::new();
    headers.insert(
      "traceparent",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        .parse()
        .unwrap(),
    );
    assert_eq!(
      trace_id(&headers).as_deref(),
      Some("0af7651916cd43dd8448eb211c80319c")
    );
  }
}
