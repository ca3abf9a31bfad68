//! The WebSocket client endpoint (`/client/hubs/{hub}` and `/client/?hub=`): raw clients, the JSON
//! subprotocols `json.webpubsub.azure.v1` / `json.reliable.webpubsub.azure.v1` and the protobuf ones
//! `protobuf.webpubsub.azure.v1` / `protobuf.reliable.webpubsub.azure.v1`, each a [`codec`].
//!
//! [`handler`] checks the upgrade request ([`handshake`]), raises the blocking `connect` event when the hub
//! has event handlers ([`events`]), registers the connection in its hub before the upgrade completes (so
//! REST calls made as soon as the client is open reach it), and runs one task per logical connection
//! ([`connection`]).

pub mod backpressure;
pub mod codec;
pub mod connection;
pub mod events;
pub mod handshake;
pub mod invocations;
pub mod recovery;
pub mod reliable;
pub mod socket;
pub mod streams;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::auth::now_seconds;
use crate::state::{new_connection_id, Connection, ConnectionInit, EmulatorState, SharedState};
use crate::trace::{Category, Level, TraceRecord};
use connection::{close_code, close_socket, Session};
use events::Admitted;
use handshake::{Handshake, Intent, Negotiated, Recovery};
use recovery::{verify_reconnection_token, RecoveryError};
use socket::{NotWebSocket, Upgrade};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Largest frame or message a client may send.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 1024 * 1024;

/// Largest frame or message read at all. Messages between [`MAX_CLIENT_MESSAGE_BYTES`] and this are read
/// whole and refused with close 1009, so the client gets the close frame instead of a reset from a socket
/// dropped with unread input; only larger ones are cut off by the WebSocket layer.
const MAX_READ_BYTES: usize = 2 * MAX_CLIENT_MESSAGE_BYTES;

/// Read buffer of one connection. tungstenite allocates it up front and zero-fills it on every read, so
/// its 128 KiB default costs that much resident memory per connection and a memset per read; larger
/// frames still arrive whole (the buffer grows to the frame's length, up to the message limit above).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Bytes of queued frames tungstenite collects before writing them out; a batch of outbound messages
/// is flushed as a whole anyway (see [`connection`]).
const WRITE_BUFFER_BYTES: usize = 4 * 1024;

/// The WebSocket settings of every client transport.
pub(crate) fn socket_config() -> WebSocketConfig {
  WebSocketConfig::default()
    .read_buffer_size(READ_BUFFER_BYTES)
    .write_buffer_size(WRITE_BUFFER_BYTES)
    .max_frame_size(Some(MAX_READ_BYTES))
    .max_message_size(Some(MAX_READ_BYTES))
}

/// The axum handler of both client routes.
#[allow(clippy::too_many_arguments)]
pub async fn handler(
  State(state): State<SharedState>,
  peer: Option<Extension<ConnectInfo<SocketAddr>>>,
  hub_in_path: Option<Path<String>>,
  OriginalUri(uri): OriginalUri,
  Query(query): Query<Vec<(String, String)>>,
  headers: HeaderMap,
  upgrade: Result<Upgrade, NotWebSocket>,
) -> Response {
  let mut upgrade = match upgrade {
    Ok(upgrade) => upgrade,
    Err(refused) => return refused.into_response(),
  };
  let offered = upgrade.offered().to_vec();
  let protocol = Negotiated::from_offer(offered.iter().map(String::as_str));
  let hub_in_path = hub_in_path.map(|Path(hub)| hub);
  let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
  let handshake = match Handshake::check(
    &state,
    hub_in_path.clone(),
    &uri,
    &query,
    &headers,
    protocol,
  ) {
    Ok(handshake) => handshake,
    Err(error) => {
      trace_rejection(&state, hub_in_path.as_deref(), ip, &error.to_string());
      return error.into_response();
    }
  };
  match handshake.intent {
    Intent::Connect(client) => {
      // The id exists before the upgrade: the `connect` event carries it.
      let id = new_connection_id();
      let candidate = events::Candidate {
        hub: &handshake.hub,
        connection_id: &id,
        client: *client,
        negotiated: handshake.protocol,
        offered: &offered,
        query: &query,
        headers: &headers,
      };
      match events::admit(&state, candidate).await {
        Ok(admitted) => connect(state, upgrade, &handshake.hub, id, admitted, ip),
        Err(error) => {
          trace_rejection(&state, Some(&handshake.hub), ip, &error.to_string());
          error.into_response()
        }
      }
    }
    Intent::Recover(recovery) => {
      if let Some(name) = handshake.protocol.name() {
        upgrade.select_protocol(HeaderValue::from_static(name));
      }
      recover(state, upgrade, handshake.hub, recovery)
    }
  }
}

/// Registers a new connection and serves it once upgraded.
fn connect(
  state: SharedState,
  mut upgrade: Upgrade,
  hub_name: &str,
  id: String,
  admitted: Admitted,
  ip: Option<String>,
) -> Response {
  let Admitted {
    client,
    negotiated,
    subprotocol,
    events: upstream,
  } = admitted;
  if let Some(name) = subprotocol.and_then(|name| HeaderValue::from_str(&name).ok()) {
    upgrade.select_protocol(name);
  }
  let hub = state.hubs.hub(hub_name);
  let (conn, outbound) = Connection::new(ConnectionInit {
    max_queued_bytes: state.config.max_queued_bytes,
    id,
    hub: hub.name().to_owned(),
    user_id: client.user_id,
    protocol: negotiated.name().map(str::to_owned),
    roles: client.roles,
  });
  hub.add_connection(conn.clone());
  for group in &client.groups {
    hub.join_group(&conn.id, group);
  }
  // Set after the initial groups, which are part of connecting rather than `joined` events.
  if let Some(upstream) = upstream {
    let _ = conn.upstream.set(upstream);
  }
  let codec = codec::for_connection(negotiated, client.raw_mode);
  let failed_hub = hub.clone();
  let failed_id = conn.id.clone();
  let opened = conn.clone();
  let reliable = negotiated.is_reliable();
  let session = Session::new(state.clone(), hub, conn, outbound, codec, reliable);
  upgrade.on_upgrade(
    socket_config(),
    move || {
      failed_hub.remove_connection(&failed_id);
    },
    move |socket| {
      let mut record = TraceRecord::new(
        Category::Connectivity,
        Level::Information,
        "ConnectionStarted",
        "The client connected.",
      )
      .client(&opened);
      record.ip = ip;
      state.tracer.record(record);
      if let Some(upstream) = opened.upstream.get() {
        upstream.connected();
      }
      state.tasks.track_future(session.run(socket))
    },
  )
}

/// Hands the new transport to the logical connection it resumes, or closes it with 1008.
fn recover(state: SharedState, upgrade: Upgrade, hub_name: String, recovery: Recovery) -> Response {
  let tasks = state.tasks.clone();
  upgrade.on_upgrade(
    socket_config(),
    || {},
    move |socket| {
      tasks.track_future(async move {
        let Recovery {
          connection_id,
          reconnection_token,
        } = recovery;
        let verified = verify_reconnection_token(
          &state.signing_key,
          &reconnection_token,
          &connection_id,
          now_seconds(),
        )
        .and_then(|()| {
          let resumable = state
            .hubs
            .find(&hub_name)
            .and_then(|hub| hub.connection(&connection_id))
            .is_some_and(|conn| Negotiated::from_offer(conn.protocol.as_deref()).is_reliable());
          resumable
            .then_some(())
            .ok_or(RecoveryError::UnknownConnection)
        });
        let (socket, error) = match verified {
          Ok(()) => match state.recovery.attach(&connection_id, Box::new(socket)) {
            Ok(()) => return,
            Err(socket) => (*socket, RecoveryError::UnknownConnection),
          },
          Err(error) => (socket, error),
        };
        close_socket(
          socket,
          Some((close_code::POLICY_VIOLATION, &error.to_string())),
          &state.hard_stop,
        )
        .await;
      })
    },
  )
}

/// A client refused before the upgrade.
fn trace_rejection(state: &EmulatorState, hub: Option<&str>, ip: Option<String>, reason: &str) {
  let mut record = TraceRecord::new(
    Category::Connectivity,
    Level::Warning,
    "ConnectionRejected",
    "The client was refused before the WebSocket upgrade.",
  )
  .exception(reason);
  record.hub = hub.map(str::to_lowercase);
  record.ip = ip;
  state.tracer.record(record);
}
