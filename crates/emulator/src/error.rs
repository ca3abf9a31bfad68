//! REST error responses in the shapes the service sends.
//!
//! Shape 1 (business errors): `{"code","message","target","details":null,"inner":null}` with
//! `x-ms-error-code` and the `api-supported-versions` header. Shape 2 (request validation): an
//! ASP.NET validation problem with `code`/`message`/`target` added, `x-ms-error-code:
//! Error.BadRequest`, and no `api-supported-versions` header.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The header carrying the error code next to the body's `code`.
pub const ERROR_CODE_HEADER: &str = "x-ms-error-code";

/// Marks a response that must not get the `api-supported-versions` header.
#[derive(Clone, Copy, Debug)]
pub struct WithoutVersionHeader;

/// Media type of shape-2 bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemMediaType {
  /// `application/problem+json; charset=utf-8`, for most validation failures.
  Problem,
  /// `application/json; charset=utf-8`, which the service uses for enum binding failures.
  Json,
}

/// Every way a REST call can fail.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
  /// Missing or invalid bearer token: an empty 401.
  #[error("unauthorized")]
  Unauthorized,
  /// A shape-1 service error.
  #[error("{code}: {message}")]
  Service {
    status: StatusCode,
    code: &'static str,
    message: String,
    target: &'static str,
  },
  /// A shape-2 validation problem (always 400).
  #[error("{target}: {message}")]
  Validation {
    target: String,
    message: String,
    media_type: ProblemMediaType,
  },
  #[error("unsupported content type")]
  UnsupportedMediaType,
  #[error("request body too large")]
  PayloadTooLarge,
  #[error("{0}")]
  NotImplemented(String),
}

impl RestError {
  pub fn validation(target: impl Into<String>, message: impl Into<String>) -> Self {
    RestError::Validation {
      target: target.into(),
      message: message.into(),
      media_type: ProblemMediaType::Problem,
    }
  }

  /// A shape-1 `Error.BadRequest`.
  pub fn bad_request(message: impl Into<String>, target: &'static str) -> Self {
    RestError::Service {
      status: StatusCode::BAD_REQUEST,
      code: "Error.BadRequest",
      message: message.into(),
      target,
    }
  }

  /// A shape-1 404 such as `Warning.Connection.NotExisted` for ``Connection `id` is not found.``.
  pub fn not_existed(code: &'static str, target: &'static str, name: &str) -> Self {
    RestError::Service {
      status: StatusCode::NOT_FOUND,
      code,
      message: format!("{target} `{name}` is not found."),
      target,
    }
  }
}

#[derive(Serialize)]
struct ServiceBody<'a> {
  code: &'a str,
  message: &'a str,
  target: &'a str,
  details: Option<()>,
  inner: Option<()>,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
  code: &'a str,
  message: &'a str,
  target: &'a str,
  errors: std::collections::BTreeMap<&'a str, [&'a str; 1]>,
  r#type: Option<()>,
  title: &'a str,
  status: u16,
  detail: Option<()>,
  instance: Option<()>,
  extensions: serde_json::Map<String, serde_json::Value>,
}

const JSON_UTF8: &str = "application/json; charset=utf-8";
const PROBLEM_JSON_UTF8: &str = "application/problem+json; charset=utf-8";

fn json_response(
  status: StatusCode,
  code: &str,
  content_type: &'static str,
  body: Vec<u8>,
) -> Response {
  let mut response = (status, body).into_response();
  let headers = response.headers_mut();
  headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
  if let Ok(value) = HeaderValue::from_str(code) {
    headers.insert(ERROR_CODE_HEADER, value);
  }
  response
}

impl IntoResponse for RestError {
  fn into_response(self) -> Response {
    match self {
      RestError::Unauthorized => {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.extensions_mut().insert(WithoutVersionHeader);
        response
      }
      RestError::Service { status, code, message, target } => {
        let body = ServiceBody { code, message: &message, target, details: None, inner: None };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        json_response(status, code, JSON_UTF8, bytes)
      }
      RestError::Validation { target, message, media_type } => {
        let body = ProblemBody {
          code: "Error.BadRequest",
          message: &message,
          target: &target,
          errors: [(target.as_str(), [message.as_str()])].into_iter().collect(),
          r#type: None,
          title: "One or more validation errors occurred.",
          status: 400,
          detail: None,
          instance: None,
          extensions: serde_json::Map::new(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let content_type = match media_type {
          ProblemMediaType::Problem => PROBLEM_JSON_UTF8,
          ProblemMediaType::Json => JSON_UTF8,
        };
        let mut response = json_response(StatusCode::BAD_REQUEST, "Error.BadRequest", content_type, bytes);
        response.extensions_mut().insert(WithoutVersionHeader);
        response
      }
      RestError::UnsupportedMediaType => RestError::Service {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "Error.UnsupportedMediaType",
        message: "The content type is not supported. Use application/json, text/plain or application/octet-stream.".to_owned(),
        target: "Content-Type",
      }
      .into_response(),
      RestError::PayloadTooLarge => RestError::Service {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "Error.PayloadTooLarge",
        message: "The request body is larger than 1 MiB.".to_owned(),
        target: "Request",
      }
      .into_response(),
      RestError::NotImplemented(message) => RestError::Service {
        status: StatusCode::NOT_IMPLEMENTED,
        code: "NotImplemented",
        message,
        target: "Request",
      }
      .into_response(),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  async fn body_text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
      .await
      .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
  }

  #[tokio::test]
  async fn service_error_has_the_recorded_shape_and_length() {
    let response =
      RestError::not_existed("Info.Connection.NotExisted", "Connection", "xxxx").into_response();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
      response.headers()[ERROR_CODE_HEADER],
      "Info.Connection.NotExisted"
    );
    assert_eq!(response.headers()[header::CONTENT_TYPE], JSON_UTF8);
    let text = body_text(response).await;
    assert_eq!(
      text,
      r#"{"code":"Info.Connection.NotExisted","message":"Connection `xxxx` is not found.","target":"Connection","details":null,"inner":null}"#
    );
    assert_eq!(text.len(), 131);
  }

  #[tokio::test]
  async fn validation_problem_has_the_recorded_shape() {
    let message =
      "Invalid group name. Valid group name should be in between 1 and 1024 characters long.";
    let response = RestError::validation("Groups", message).into_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON_UTF8);
    assert!(response
      .extensions()
      .get::<WithoutVersionHeader>()
      .is_some());
    let text = body_text(response).await;
    assert_eq!(text.len(), 374);
    assert!(text.starts_with(r#"{"code":"Error.BadRequest","message":"Invalid group name."#));
    assert!(text.ends_with(r#""type":null,"title":"One or more validation errors occurred.","status":400,"detail":null,"instance":null,"extensions":{}}"#));
  }
}
