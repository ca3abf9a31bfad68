//! The MQTT endpoint `/clients/mqtt/hubs/{hub}`: MQTT 3.1.1 and 5.0 clients over WebSocket
//! (subprotocol `mqtt`), as the service serves them. A topic is a group: SUBSCRIBE joins it,
//! PUBLISH sends to it, with the same permissions, hub state and fan-out as the other client
//! protocols; REST sends to all, a user or a connection arrive on `$webpubsub/server/messages`.
//!
//! - [`packet`]: the packets of both versions, through `rumqttc`'s codecs;
//! - [`admission`]: the CONNECT's checks and refusals, and the `connect` event's `mqtt` part;
//! - [`content_type`]: MQTT 5 content types as the other protocols' data types, and back;
//! - [`session`]: one task per session: CONNECT, subscriptions, QoS 1 and 2 in both directions,
//!   keep-alive, and delivery of the hub's messages;
//! - [`resume`]: sessions kept after their connection drops, for a later CONNECT to resume.

pub mod admission;
pub mod content_type;
pub mod packet;
pub mod resume;
pub mod session;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_protocol::names;

use crate::state::SharedState;
use crate::trace::{Category, Level, TraceRecord};
use crate::ws::handshake::{HandshakeError, NewClient};
use crate::ws::socket::{NotWebSocket, Upgrade};

/// The WebSocket subprotocol of MQTT clients.
pub const MQTT_SUBPROTOCOL: &str = "mqtt";

/// The axum handler of `/clients/mqtt/hubs/{hub}`: the token is checked before the upgrade (a
/// refused client gets 401 or 400, as on the other endpoint); the MQTT CONNECT comes after it.
pub async fn handler(
  State(state): State<SharedState>,
  peer: Option<Extension<ConnectInfo<SocketAddr>>>,
  Path(hub): Path<String>,
  OriginalUri(uri): OriginalUri,
  Query(query): Query<Vec<(String, String)>>,
  headers: HeaderMap,
  upgrade: Result<Upgrade, NotWebSocket>,
) -> Response {
  let mut upgrade = match upgrade {
    Ok(upgrade) => upgrade,
    Err(refused) => return refused.into_response(),
  };
  let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
  // The audience names the hub as the URL spells it.
  let hub_in_url = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
  let admitted = names::validate_hub(&hub)
    .map_err(HandshakeError::InvalidHub)
    .and_then(|()| {
      NewClient::authorize(&state, ClientProtocol::Mqtt, &hub_in_url, &query, &headers)
    });
  let client = match admitted {
    Ok(client) => client,
    Err(error) => {
      let mut record = TraceRecord::new(
        Category::Connectivity,
        Level::Warning,
        "ConnectionRejected",
        "The MQTT client was refused before the WebSocket upgrade.",
      )
      .exception(error.to_string());
      record.hub = Some(hub.to_lowercase());
      record.ip = ip;
      state.tracer.record(record);
      return error.into_response();
    }
  };
  if upgrade.offered().iter().any(|p| p == MQTT_SUBPROTOCOL) {
    upgrade.select_protocol(HeaderValue::from_static(MQTT_SUBPROTOCOL));
  }
  let tasks = state.tasks.clone();
  let request = session::UpgradeRequest { query, headers, ip };
  upgrade.on_upgrade(
    crate::ws::socket_config(),
    || {},
    move |socket| tasks.track_future(session::run(state, hub, client, request, socket)),
  )
}
