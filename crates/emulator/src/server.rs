//! Binding, serving and graceful shutdown.
//!
//! Shutdown order: stop accepting, cancel the shared token so WebSocket tasks send their close
//! frames, then wait (bounded) for in-flight requests and tracked tasks to end.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::config::{EmulatorConfig, DEFAULT_ACCESS_KEY};
use crate::state::{EmulatorState, SharedState};
use crate::tls::TlsIdentity;

/// How long shutdown waits for connections and WebSocket tasks to finish on their own.
pub const GRACE_PERIOD: Duration = Duration::from_millis(700);

/// Most time shutdown takes: after [`GRACE_PERIOD`] every remaining socket is dropped.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// The whole HTTP surface: REST API, health, the WebSocket client endpoint and the live trace.
pub fn app(state: SharedState) -> Router {
  Router::new()
    .merge(crate::rest::router(state.clone()))
    .merge(crate::trace::web::router())
    .route("/client/hubs/{hub}", get(crate::ws::handler))
    .route("/client/", get(crate::ws::handler))
    .route("/clients/mqtt/hubs/{hub}", get(crate::mqtt::handler))
    .with_state(state)
}

/// Serves `app(state)` on every listener until `shutdown` completes or the state's shutdown
/// token is cancelled, then shuts down: WebSocket clients get their close frames and in-flight
/// requests finish for up to [`GRACE_PERIOD`]; then every socket still open (a stalled reader, a
/// half-sent request or upgrade) is dropped.
pub async fn run(
  listeners: Vec<TcpListener>,
  state: SharedState,
  shutdown: impl Future<Output = ()>,
) {
  let app = app(state.clone());
  let mut servers = JoinSet::new();
  let acceptor = state.config.tls.as_ref().map(TlsIdentity::acceptor);
  for listener in listeners {
    servers.spawn(crate::accept::serve(
      listener,
      app.clone(),
      acceptor.clone(),
      state.config.max_connections,
      state.shutdown.clone(),
      state.hard_stop.clone(),
    ));
  }
  tokio::select! {
    _ = shutdown => {}
    _ = state.shutdown.cancelled() => {}
  }
  state.shutdown.cancel();
  state.tasks.close();
  let drained = async {
    while servers.join_next().await.is_some() {}
    state.tasks.wait().await;
  };
  tokio::pin!(drained);
  if tokio::time::timeout(GRACE_PERIOD, drained.as_mut())
    .await
    .is_err()
  {
    state.hard_stop.cancel();
    let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT - GRACE_PERIOD, drained).await;
  }
}

/// A started emulator; see [`start`].
pub struct RunningEmulator {
  state: SharedState,
  local_addrs: Vec<SocketAddr>,
  server: JoinHandle<()>,
}

/// The listeners for a configured host: `localhost` binds 127.0.0.1 and, when available, [::1]
/// on the same port; any other host binds its first resolved address.
async fn bind(host: &str, port: u16) -> io::Result<Vec<TcpListener>> {
  if host.eq_ignore_ascii_case("localhost") {
    let v4 = TcpListener::bind((IpAddr::from([127, 0, 0, 1]), port)).await?;
    let bound_port = v4.local_addr()?.port();
    let mut listeners = vec![v4];
    if let Ok(v6) = TcpListener::bind((IpAddr::from(Ipv6Addr::LOCALHOST), bound_port)).await {
      listeners.push(v6);
    }
    return Ok(listeners);
  }
  let host = host.trim_start_matches('[').trim_end_matches(']');
  Ok(vec![TcpListener::bind((host, port)).await?])
}

/// Validates the configuration, binds and starts serving in a background task.
pub async fn start(config: EmulatorConfig) -> io::Result<RunningEmulator> {
  let config = with_private_key(config);
  config
    .validate()
    .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
  let listeners = bind(&config.host, config.port).await?;
  let local_addrs = listeners
    .iter()
    .map(TcpListener::local_addr)
    .collect::<io::Result<Vec<_>>>()?;
  let state = EmulatorState::new(config);
  let server = tokio::spawn(run(listeners, state.clone(), std::future::pending()));
  Ok(RunningEmulator {
    state,
    local_addrs,
    server,
  })
}

impl RunningEmulator {
  /// The first bound address.
  pub fn local_addr(&self) -> SocketAddr {
    self.local_addrs[0]
  }

  /// Every bound address (two for `localhost` when IPv6 is available).
  pub fn local_addrs(&self) -> &[SocketAddr] {
    &self.local_addrs
  }

  pub fn host(&self) -> &str {
    &self.state.config.host
  }

  pub fn port(&self) -> u16 {
    self.local_addr().port()
  }

  /// `http(s)://<host>:<port>` with the host as configured (`0.0.0.0`/`::` shown as `localhost`).
  pub fn endpoint(&self) -> String {
    let scheme = if self.tls().is_some() {
      "https"
    } else {
      "http"
    };
    format!("{scheme}://{}:{}", display_host(self.host()), self.port())
  }

  /// The TLS identity served, when serving HTTPS/WSS.
  pub fn tls(&self) -> Option<&TlsIdentity> {
    self.state.config.tls.as_ref()
  }

  /// `Endpoint=<endpoint>;AccessKey=<key>;Version=1.0;`
  pub fn connection_string(&self) -> String {
    format!(
      "Endpoint={};AccessKey={};Version=1.0;",
      self.endpoint(),
      self.state.config.access_key
    )
  }

  /// `ws(s)://<host>:<port>/client/hubs/{hub}`, the template clients connect to.
  pub fn client_endpoint(&self) -> String {
    let scheme = if self.tls().is_some() { "wss" } else { "ws" };
    format!(
      "{scheme}://{}:{}/client/hubs/{{hub}}",
      display_host(self.host()),
      self.port()
    )
  }

  /// The live-trace page with a token for it (valid for a day): open it in a browser.
  pub fn live_trace_url(&self) -> String {
    let endpoint = self.endpoint();
    let token = crate::trace::web::token(
      &self.state.signing_key,
      &endpoint,
      crate::auth::now_seconds(),
    );
    format!("{endpoint}/?access_token={token}")
  }

  /// Follows the live trace: the records kept now, then every new one.
  pub fn trace(&self) -> crate::trace::Feed {
    self.state.tracer.feed()
  }

  /// A snapshot of every hub (or one), its connections, groups and users.
  pub fn inspect(&self, hub: Option<&str>) -> Vec<crate::trace::inspect::HubSnapshot> {
    crate::trace::inspect::snapshot(&self.state.hubs, hub)
  }

  /// The shared state (hubs and connections), for embedding and tests.
  pub fn state(&self) -> &SharedState {
    &self.state
  }

  /// Stops accepting, closes WebSocket clients with 1001 and waits (bounded) for the rest.
  pub async fn shutdown(self) {
    self.state.shutdown.cancel();
    let _ = self.server.await;
  }
}

/// Outside loopback, the official emulator's published key would let anyone on the network connect,
/// send and read: an emulator bound there with that key gets a random key instead, which its
/// connection string carries (the command line prints it once at start).
fn with_private_key(mut config: EmulatorConfig) -> EmulatorConfig {
  if config.access_key == DEFAULT_ACCESS_KEY && !is_loopback_host(&config.host) {
    config.access_key = random_access_key();
    eprintln!(
      "webpubsub-emulator: listening on '{}', beyond this machine: using a random access key instead of the public default (it is in the connection string; --access-key / accessKey chooses one)",
      config.host
    );
  }
  config
}

/// Whether a configured host is reachable only from this machine.
fn is_loopback_host(host: &str) -> bool {
  host.eq_ignore_ascii_case("localhost")
    || host
      .trim_start_matches('[')
      .trim_end_matches(']')
      .parse::<IpAddr>()
      .is_ok_and(|ip| ip.is_loopback())
}

/// 32 random bytes in base64, shaped like the service's access keys.
fn random_access_key() -> String {
  use base64::Engine as _;
  let bytes: [u8; 32] = rand::random();
  base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// How a host appears in URLs: wildcard addresses become `localhost`, IPv6 gets brackets.
fn display_host(host: &str) -> String {
  match host.parse::<IpAddr>() {
    Ok(ip) if ip.is_unspecified() => "localhost".to_owned(),
    Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
    _ => host.to_owned(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn beyond_loopback_the_public_key_is_replaced_by_a_random_one() {
    let on = |host: &str, key: &str| {
      with_private_key(EmulatorConfig {
        host: host.to_owned(),
        access_key: key.to_owned(),
        ..EmulatorConfig::default()
      })
      .access_key
    };
    for loopback in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
      assert_eq!(
        on(loopback, DEFAULT_ACCESS_KEY),
        DEFAULT_ACCESS_KEY,
        "{loopback}"
      );
    }
    let mine = "my-own-key-0123456789-0123456789-0123456789";
    for exposed in ["0.0.0.0", "::", "192.0.2.1", "emulator.example"] {
      let key = on(exposed, DEFAULT_ACCESS_KEY);
      assert_ne!(key, DEFAULT_ACCESS_KEY, "{exposed}");
      assert_eq!(crate::config::validate_access_key(&key), Ok(()));
      assert_eq!(on(exposed, mine), mine, "a chosen key is kept");
    }
    assert_ne!(
      on("0.0.0.0", DEFAULT_ACCESS_KEY),
      on("0.0.0.0", DEFAULT_ACCESS_KEY)
    );
  }

  #[test]
  fn hosts_are_displayed_like_urls() {
    assert_eq!(display_host("127.0.0.1"), "127.0.0.1");
    assert_eq!(display_host("localhost"), "localhost");
    assert_eq!(display_host("0.0.0.0"), "localhost");
    assert_eq!(display_host("::1"), "[::1]");
    assert_eq!(display_host("::"), "localhost");
  }
}
