//! `HEAD /api/health`: 200 while the emulator runs; no token or `api-version` needed.

use axum::http::StatusCode;

pub(super) async fn status() -> StatusCode {
  StatusCode::OK
}
