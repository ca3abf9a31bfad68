//! Core errors as JS-facing failure records (errors as data) and napi errors for bad input.

use napi_derive::napi;
use webpubsub_service_client::Error;

/// Why an operation produced no usable HTTP answer. `index.js` turns it into the error the official
/// SDK throws.
#[napi(object)]
pub struct NativeFailure {
  /// `transport`, `cancelled`, `timedOut`, `invalidArgument`, `insecureConnection`,
  /// `bearerOverHttp` or `credential`.
  pub kind: String,
  /// For transport failures: `ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`, ...
  pub code: Option<String>,
  /// The message the caller sees (never contains a key or token).
  pub message: String,
}

/// The failure record of every core error that carries no HTTP answer; errors with an answer
/// (`UnexpectedStatus`, `InvalidResponse`) become response records instead.
pub(crate) fn failure_of(error: &Error) -> NativeFailure {
  let (kind, code) = match error {
    Error::Transport { code, .. } => ("transport", Some(code.clone())),
    Error::Cancelled => ("cancelled", None),
    Error::TimedOut => ("timedOut", None),
    Error::InvalidArgument(_) => ("invalidArgument", None),
    Error::InsecureConnection { .. } => ("insecureConnection", None),
    Error::BearerOverHttp => ("bearerOverHttp", None),
    Error::Credential(_) => ("credential", None),
    Error::UnexpectedStatus(_) | Error::InvalidResponse { .. } => ("unexpectedStatus", None),
  };
  NativeFailure {
    kind: kind.to_owned(),
    code,
    message: error.to_string(),
  }
}

/// A napi `InvalidArg` error (bad connection string, endpoint, options or operation record).
pub(crate) fn invalid_arg(error: impl std::fmt::Display) -> napi::Error {
  napi::Error::new(napi::Status::InvalidArg, error.to_string())
}
