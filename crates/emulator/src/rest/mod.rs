//! The data-plane REST API (`/api/...`): routing, token check and common response headers.
//!
//! axum 0.8 does not allow a path segment to start with `:`, so operations such as `:send` are
//! routed through an `{action}` segment and dispatched by name here.

mod connections;
mod groups;
mod health;
mod metadata;
mod params;
mod permissions;
mod send;
mod tokens;
mod users;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, map_response, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, head, post, put};
use axum::Router;

use crate::auth::{bearer_token, verify_rest_token};
use crate::error::{RestError, WithoutVersionHeader};
use crate::state::SharedState;
pub use params::{ApiVersion, QueryParams, RestCall};

/// Response header listing the versions this emulator serves.
pub const SUPPORTED_VERSIONS_HEADER: &str = "api-supported-versions";

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The REST routes; `state` is needed by the token-check layer.
pub fn router(state: SharedState) -> Router<SharedState> {
  let hubs = Router::new()
    .route("/api/hubs/{hub}/{action}", post(hub_action))
    .route(
      "/api/hubs/{hub}/connections/{connectionId}",
      delete(connections::close).head(connections::exists),
    )
    .route(
      "/api/hubs/{hub}/connections/{connectionId}/groups",
      delete(connections::remove_from_all_groups),
    )
    .route(
      "/api/hubs/{hub}/connections/{connectionId}/{action}",
      post(connection_action),
    )
    .route("/api/hubs/{hub}/groups/{group}", head(groups::exists))
    .route(
      "/api/hubs/{hub}/groups/{group}/connections",
      get(groups::list_connections),
    )
    .route(
      "/api/hubs/{hub}/groups/{group}/connections/{connectionId}",
      put(groups::add_connection).delete(groups::remove_connection),
    )
    .route(
      "/api/hubs/{hub}/groups/{group}/{action}",
      post(group_action),
    )
    .route(
      "/api/hubs/{hub}/permissions/{permission}/connections/{connectionId}",
      put(permissions::grant)
        .delete(permissions::revoke)
        .head(permissions::check),
    )
    .route("/api/hubs/{hub}/users/{userId}", head(users::exists))
    .route(
      "/api/hubs/{hub}/users/{userId}/groups",
      delete(users::remove_from_all_groups),
    )
    .route(
      "/api/hubs/{hub}/users/{userId}/groups/{group}",
      put(users::add_to_group).delete(users::remove_from_group),
    )
    .route("/api/hubs/{hub}/users/{userId}/{action}", post(user_action))
    .route_layer(from_fn_with_state(state.clone(), require_rest_token))
    .route_layer(from_fn_with_state(
      state,
      crate::trace::http::record_rest_call,
    ))
    .layer(map_response(add_supported_versions));
  Router::new()
    .merge(hubs)
    .route("/api/health", head(health::status).get(health::status))
}

fn unknown_operation() -> Response {
  StatusCode::NOT_FOUND.into_response()
}

async fn hub_action(call: RestCall, headers: HeaderMap, body: Body) -> Result<Response, RestError> {
  match call.param("action") {
    ":send" => send::to_all(call, headers, body).await,
    ":closeConnections" => connections::close_all(call),
    ":generateToken" => tokens::generate(call),
    ":addToGroups" => groups::add_matching_to_groups(call, headers, body).await,
    ":removeFromGroups" => groups::remove_matching_from_groups(call, headers, body).await,
    _ => Ok(unknown_operation()),
  }
}

async fn connection_action(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  match call.param("action") {
    ":send" => send::to_connection(call, headers, body).await,
    _ => Ok(unknown_operation()),
  }
}

async fn group_action(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  match call.param("action") {
    ":send" => send::to_group(call, headers, body).await,
    ":closeConnections" => groups::close_connections(call),
    _ => Ok(unknown_operation()),
  }
}

async fn user_action(
  call: RestCall,
  headers: HeaderMap,
  body: Body,
) -> Result<Response, RestError> {
  match call.param("action") {
    ":send" => send::to_user(call, headers, body).await,
    ":closeConnections" => users::close_connections(call),
    _ => Ok(unknown_operation()),
  }
}

/// Answers 401 with an empty body, before anything happens, unless the bearer token is valid.
async fn require_rest_token(
  State(state): State<SharedState>,
  request: Request,
  next: Next,
) -> Response {
  let token = bearer_token(
    request
      .headers()
      .get(header::AUTHORIZATION)
      .and_then(|value| value.to_str().ok()),
  );
  let target = request
    .uri()
    .path_and_query()
    .map(|pq| pq.as_str())
    .unwrap_or("/");
  match token.map(|token| verify_rest_token(&state, token, target)) {
    Some(Ok(())) => next.run(request).await,
    _ => RestError::Unauthorized.into_response(),
  }
}

async fn add_supported_versions(mut response: Response) -> Response {
  if response
    .extensions()
    .get::<WithoutVersionHeader>()
    .is_none()
  {
    let versions = webpubsub_protocol::api::SUPPORTED_API_VERSIONS.join(", ");
    if let Ok(value) = HeaderValue::from_str(&versions) {
      response
        .headers_mut()
        .insert(SUPPORTED_VERSIONS_HEADER, value);
    }
  }
  response
}

/// An empty response with the given status (`Content-Length: 0` for 200/202, none for 204).
pub(crate) fn empty(status: StatusCode) -> Response {
  status.into_response()
}
