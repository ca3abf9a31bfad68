//! The live-trace page at the emulator's root, the feed behind it (server-sent events at
//! `/livetrace/events`), a snapshot of the hubs (`/livetrace/inspect`) and the page's test-client tokens
//! (`/livetrace/client-token`). The page holds no secret; everything else needs a live-trace token: HS256
//! with the access key, audience `<endpoint>/livetrace`, as the service's live trace uses, given as
//! `access_token` or `Authorization: Bearer`.

use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::Map;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::jwt::{ClientTokenClaims, SigningKey};
use webpubsub_protocol::names;

use super::{inspect, Category, Feed, FeedItem, TraceRecord};
use crate::auth::{bearer_token, now_seconds};
use crate::origin::RequestOrigin;
use crate::state::{EmulatorState, SharedState};

const PAGE: &str = include_str!("page.html");

/// Lifetime of the live-trace tokens the emulator hands out.
pub const TOKEN_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// Lifetime of the page's test-client tokens.
const CLIENT_TOKEN_MINUTES: u64 = 60;

/// The live-trace routes.
pub fn router() -> Router<SharedState> {
  Router::new()
    .route("/", get(page))
    .route("/livetrace/events", get(events))
    .route("/livetrace/inspect", get(inspect_hubs))
    .route("/livetrace/client-token", post(client_token))
}

/// `<origin>/livetrace`.
pub fn audience(origin: &str) -> String {
  format!("{origin}/livetrace")
}

/// A live-trace token for an emulator reached at `origin` (`http(s)://host:port`).
pub fn token(key: &SigningKey, origin: &str, now_seconds: u64) -> String {
  let mut claims = Map::new();
  claims.insert("aud".into(), audience(origin).into());
  claims.insert("iat".into(), now_seconds.into());
  claims.insert("exp".into(), (now_seconds + TOKEN_LIFETIME_SECONDS).into());
  key.sign_claims(&claims)
}

/// Which records a viewer wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
  /// `None`: every category.
  pub categories: Option<Vec<Category>>,
  /// Lower-cased; `None`: every hub (and records of no hub).
  pub hub: Option<String>,
}

impl TraceFilter {
  pub fn matches(&self, record: &TraceRecord) -> bool {
    self
      .categories
      .as_ref()
      .is_none_or(|categories| categories.contains(&record.category))
      && self
        .hub
        .as_ref()
        .is_none_or(|hub| record.hub.as_deref() == Some(hub.as_str()))
  }
}

/// Why a live-trace request is refused (401, with no detail that could help guessing).
#[derive(Debug)]
struct Unauthorized;

impl IntoResponse for Unauthorized {
  fn into_response(self) -> Response {
    (
      StatusCode::UNAUTHORIZED,
      "A valid live trace token is required.",
    )
      .into_response()
  }
}

#[derive(Deserialize)]
struct Params {
  access_token: Option<String>,
  category: Option<String>,
  hub: Option<String>,
}

fn authorize(
  state: &EmulatorState,
  headers: &HeaderMap,
  query_token: Option<&str>,
) -> Result<(), Unauthorized> {
  let authorization = headers
    .get(header::AUTHORIZATION)
    .and_then(|value| value.to_str().ok());
  let token = query_token
    .filter(|token| !token.is_empty())
    .or_else(|| bearer_token(authorization))
    .ok_or(Unauthorized)?;
  let claims = state
    .signing_key
    .verify(token, now_seconds())
    .map_err(|_| Unauthorized)?;
  let expected = audience(&RequestOrigin::of(state, headers).to_string());
  let audience = claims.audience.ok_or(Unauthorized)?;
  if audience.eq_ignore_ascii_case(&expected) && claims.expires_at >= now_seconds() {
    Ok(())
  } else {
    Err(Unauthorized)
  }
}

async fn page() -> Response {
  let mut response = PAGE.into_response();
  let headers = response.headers_mut();
  headers.insert(
    header::CONTENT_TYPE,
    HeaderValue::from_static("text/html; charset=utf-8"),
  );
  // The page's URL carries its token: never send it on as a Referer.
  headers.insert(
    header::REFERRER_POLICY,
    HeaderValue::from_static("no-referrer"),
  );
  headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
  response
}

fn filter_of(params: &Params) -> TraceFilter {
  TraceFilter {
    categories: params.category.as_deref().map(|list| {
      list
        .split(',')
        .filter_map(|name| Category::parse(name.trim()))
        .collect()
    }),
    hub: params.hub.as_deref().map(str::to_lowercase),
  }
}

async fn events(
  State(state): State<SharedState>,
  headers: HeaderMap,
  Query(params): Query<Params>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Unauthorized> {
  authorize(&state, &headers, params.access_token.as_deref())?;
  let feed = Batches {
    feed: state.tracer.feed(),
    filter: filter_of(&params),
    missed: 0,
  };
  let shutdown = state.shutdown.clone();
  let stream = futures_util::stream::unfold((feed, shutdown), |(mut feed, shutdown)| async move {
    let event = tokio::select! {
      _ = shutdown.cancelled() => None,
      event = feed.next_event() => event,
    }?;
    Some((Ok(event), (feed, shutdown)))
  });
  Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Most records in one `records` event.
const MAX_BATCH_RECORDS: usize = 256;

/// A viewer's feed as server-sent events: `records` (a JSON array of the records ready now, so a burst
/// costs the page one event, not one per record) and `missed` (how many records the viewer skipped).
struct Batches {
  feed: Feed,
  filter: TraceFilter,
  /// Skipped records not reported yet.
  missed: u64,
}

impl Batches {
  async fn next_event(&mut self) -> Option<Event> {
    loop {
      if self.missed > 0 {
        let missed = std::mem::take(&mut self.missed);
        return Some(Event::default().event("missed").data(missed.to_string()));
      }
      let mut batch = Vec::new();
      let mut next = self.feed.next().await?;
      loop {
        match next {
          FeedItem::Record(record) if self.filter.matches(&record) => batch.push(record),
          FeedItem::Record(_) => {}
          FeedItem::Missed(count) => {
            self.missed += count;
            break;
          }
        }
        if batch.len() == MAX_BATCH_RECORDS {
          break;
        }
        match self.feed.try_next() {
          Some(item) => next = item,
          None => break,
        }
      }
      if !batch.is_empty() {
        let records: Vec<&TraceRecord> = batch.iter().map(|record| &**record).collect();
        return Some(
          Event::default()
            .event("records")
            .json_data(records)
            .unwrap_or_default(),
        );
      }
    }
  }
}

async fn inspect_hubs(
  State(state): State<SharedState>,
  headers: HeaderMap,
  Query(params): Query<Params>,
) -> Result<Response, Unauthorized> {
  authorize(&state, &headers, params.access_token.as_deref())?;
  let hubs = inspect::snapshot(&state.hubs, params.hub.as_deref());
  Ok(Json(hubs).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientTokenRequest {
  hub: String,
  user_id: Option<String>,
  #[serde(default)]
  roles: Vec<String>,
  #[serde(default)]
  groups: Vec<String>,
}

/// A client access URL for the page's test client.
async fn client_token(
  State(state): State<SharedState>,
  headers: HeaderMap,
  Query(params): Query<Params>,
  Json(request): Json<ClientTokenRequest>,
) -> Result<Response, Unauthorized> {
  authorize(&state, &headers, params.access_token.as_deref())?;
  let invalid = names::validate_hub(&request.hub).err().or_else(|| {
    request
      .groups
      .iter()
      .find_map(|group| names::validate_group(group).err())
  });
  if let Some(invalid) = invalid {
    return Ok((StatusCode::BAD_REQUEST, invalid.to_string()).into_response());
  }
  let origin = RequestOrigin::of(&state, &headers);
  let path = ClientProtocol::Default.client_path(&request.hub);
  let claims = ClientTokenClaims {
    audience: format!("{origin}/{path}"),
    user_id: request.user_id.filter(|user| !user.is_empty()),
    roles: (!request.roles.is_empty()).then_some(request.roles),
    groups: (!request.groups.is_empty()).then_some(request.groups),
    lifetime_minutes: CLIENT_TOKEN_MINUTES,
  };
  let token = state.signing_key.sign_client_token(&claims, now_seconds());
  let url = format!(
    "{}://{}/{path}?access_token={token}",
    origin.scheme.websocket(),
    origin.host
  );
  Ok(Json(serde_json::json!({ "url": url })).into_response())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::trace::Level;

  #[test]
  fn filters_by_category_and_hub() {
    let record = TraceRecord::new(Category::Messaging, Level::Information, "E", "m").hub("chat");
    assert!(TraceFilter::default().matches(&record));
    let messaging = TraceFilter {
      categories: Some(vec![Category::Messaging]),
      hub: Some("chat".into()),
    };
    assert!(messaging.matches(&record));
    let http = TraceFilter {
      categories: Some(vec![Category::Http]),
      hub: None,
    };
    assert!(!http.matches(&record));
    let other_hub = TraceFilter {
      categories: None,
      hub: Some("other".into()),
    };
    assert!(!other_hub.matches(&record));
  }
}
