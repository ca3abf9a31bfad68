//! The response record every call yields, and the errors a call can end with.

use bytes::Bytes;
use reqwest::header::{HeaderMap, AUTHORIZATION};

/// A request as it was sent.
#[derive(Clone)]
pub struct SentRequest {
  /// Request method: `GET`, `HEAD`, `POST`, `PUT` or `DELETE`.
  pub method: &'static str,
  /// The request URL as sent (after any reverse-proxy host replacement).
  pub url: String,
  /// The request headers as sent, `Authorization` included (it is redacted from `Debug`).
  pub headers: HeaderMap,
}

impl std::fmt::Debug for SentRequest {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let mut headers = self.headers.clone();
    if headers.contains_key(AUTHORIZATION) {
      headers.insert(
        AUTHORIZATION,
        "<redacted>".parse().expect("valid header value"),
      );
    }
    f.debug_struct("SentRequest")
      .field("method", &self.method)
      .field("url", &self.url)
      .field("headers", &headers)
      .finish()
  }
}

/// One HTTP answer, with what was sent to get it.
#[derive(Clone, Debug)]
pub struct Response {
  /// HTTP status code.
  pub status: u16,
  /// Response headers.
  pub headers: HeaderMap,
  /// The whole response body (empty for HEAD).
  pub body: Bytes,
  /// The request this answers.
  pub request: SentRequest,
}

/// Why a call failed. Each variant says which JS error the official SDK raises in that case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
  /// The final answer's status is not a success status of the operation (after retries).
  /// JS: `RestError` with `statusCode`, whose message is the response body text.
  #[error("unexpected status {} from {} {}", .0.status, .0.request.method, .0.request.url)]
  UnexpectedStatus(Box<Response>),
  /// The request could not be sent or its answer not read (after retries). `code` is the Node
  /// error code the SDK would report (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`, `ETIMEDOUT`,
  /// a TLS code such as `DEPTH_ZERO_SELF_SIGNED_CERT`, an HTTP parser code such as
  /// `HPE_INVALID_STATUS`, `PARSE_ERROR` for a body that broke off, or `REQUEST_SEND_ERROR`).
  /// JS: `RestError` with that `code` and `message`, and `request` when `request` is set.
  #[error("{message}")]
  Transport {
    /// Node-style error code.
    code: String,
    /// Node-style message, e.g. `connect ECONNREFUSED 127.0.0.1:8080`.
    message: String,
    /// The request, when the SDK's error carries it (every failure before an answer's head
    /// arrived; not a body that broke off, which the SDK reports without it).
    request: Option<Box<SentRequest>>,
  },
  /// The call's cancellation token fired. JS: `AbortError` ("The operation was aborted.").
  #[error("The operation was aborted.")]
  Cancelled,
  /// An attempt exceeded [`crate::CallOptions::timeout`]. JS: `AbortError` (not retried).
  #[error("The operation was aborted. Rejecting from abort signal callback while making request.")]
  TimedOut,
  /// An argument the client cannot use (e.g. an endpoint that is not a URL).
  #[error("{0}")]
  InvalidArgument(String),
  /// An `http://` URL while `allow_insecure_connection` is off. JS: plain `Error`, same text.
  #[error("Cannot connect to {url} while allowInsecureConnection is false.")]
  InsecureConnection {
    /// The request URL that was refused.
    url: String,
  },
  /// A token credential used with a non-`https` URL. JS: plain `Error`, same text.
  #[error("Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.")]
  BearerOverHttp,
  /// The token credential failed (its message is passed through). JS: the credential's error.
  #[error("{0}")]
  Credential(String),
  /// A success answer whose body could not be read (`:generateToken` without a `token`).
  /// JS: `RestError` with code `PARSE_ERROR`.
  #[error("{reason}")]
  InvalidResponse {
    /// The answer.
    response: Box<Response>,
    /// What was wrong with it.
    reason: String,
  },
}
