//! `NativeEmulator`: the Rust Web PubSub emulator, started on napi's tokio runtime.

use napi::Status;
use napi_derive::napi;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use webpubsub_emulator::tls::TlsIdentity;
use webpubsub_emulator::trace::web::TraceFilter;
use webpubsub_emulator::trace::{Category, Feed, FeedItem};
use webpubsub_emulator::{EmulatorConfig, RunningEmulator};

/// Options of `NativeEmulator.start`; absent fields take the emulator defaults
/// (host 127.0.0.1, port 8080, the official emulator's public access key).
#[napi(object)]
pub struct NativeEmulatorOptions {
  /// 0 picks a free port.
  pub port: Option<u32>,
  /// An IP address or `localhost` (which also binds [::1] when available).
  pub host: Option<String>,
  pub access_key: Option<String>,
  /// Event handlers as a JSON settings document: `{"hubs": {"<hub>": {"eventHandlers": [...]}}}`.
  pub event_handler_settings: Option<String>,
  /// Event handlers in the command line's `hub=NAME;url=TEMPLATE[;events=a,b][;user=PATTERN]` form.
  pub event_handler_specs: Option<Vec<String>>,
  /// Serve HTTPS/WSS: with a generated self-signed certificate, or with `tls_certificate_pem` and
  /// `tls_key_pem` when both are given.
  pub tls: Option<bool>,
  pub tls_certificate_pem: Option<String>,
  pub tls_key_pem: Option<String>,
  /// Accept any fresh Entra bearer token for the Web PubSub audience without checking its signature.
  pub allow_unvalidated_entra_tokens: Option<bool>,
  /// Live-trace records kept for viewers that attach later.
  pub trace_capacity: Option<u32>,
  /// Payload bytes that may wait for one client before it is closed as a slow client.
  pub max_queued_bytes: Option<u32>,
  /// Milliseconds one write may wait for a client to read before it is closed as a slow client.
  pub write_timeout_ms: Option<u32>,
  /// TCP connections served at once; past it the oldest silent one is closed or new ones refused.
  pub max_connections: Option<u32>,
}

/// A running emulator. `close()` shuts it down; later calls resolve at once.
#[napi]
pub struct NativeEmulator {
  running: Mutex<Option<RunningEmulator>>,
  live_trace_url: String,
  /// Cancelled by `close()`: ends every trace subscription.
  closed: CancellationToken,
  endpoint: String,
  connection_string: String,
  host: String,
  port: u32,
  certificate: Option<String>,
}

fn config_of(options: Option<NativeEmulatorOptions>) -> napi::Result<EmulatorConfig> {
  let mut config = EmulatorConfig::default();
  let Some(options) = options else {
    return Ok(config);
  };
  if let Some(port) = options.port {
    config.port = u16::try_from(port).map_err(|_| {
      napi::Error::new(
        Status::InvalidArg,
        format!("port must be 0 to 65535, got {port}"),
      )
    })?;
  }
  if let Some(host) = options.host {
    config.host = host;
  }
  if let Some(access_key) = options.access_key {
    config.access_key = access_key;
  }
  if let Some(allow) = options.allow_unvalidated_entra_tokens {
    config.allow_unvalidated_entra_tokens = allow;
  }
  if let Some(capacity) = at_least_one(options.trace_capacity, "traceCapacity")? {
    config.trace_capacity = capacity as usize;
  }
  if let Some(connections) = at_least_one(options.max_connections, "maxConnections")? {
    config.max_connections = connections as usize;
  }
  if let Some(bytes) = options.max_queued_bytes {
    config.max_queued_bytes = bytes as usize;
  }
  if let Some(ms) = at_least_one(options.write_timeout_ms, "writeTimeoutMs")? {
    config.write_timeout = std::time::Duration::from_millis(u64::from(ms));
  }
  config.tls = tls_identity(
    options.tls.unwrap_or(false),
    options.tls_certificate_pem,
    options.tls_key_pem,
  )?;
  if let Some(json) = options.event_handler_settings {
    config
      .event_handlers
      .add_json(&json)
      .map_err(|error| napi::Error::new(Status::InvalidArg, error.to_string()))?;
  }
  for spec in options.event_handler_specs.unwrap_or_default() {
    config
      .event_handlers
      .add_spec(&spec)
      .map_err(|error| napi::Error::new(Status::InvalidArg, error.to_string()))?;
  }
  Ok(config)
}

/// An optional count option, refused when 0.
fn at_least_one(value: Option<u32>, option: &str) -> napi::Result<Option<u32>> {
  match value {
    Some(0) => Err(napi::Error::new(
      Status::InvalidArg,
      format!("{option} must be at least 1"),
    )),
    value => Ok(value),
  }
}

fn tls_identity(
  enabled: bool,
  certificate_pem: Option<String>,
  key_pem: Option<String>,
) -> napi::Result<Option<TlsIdentity>> {
  let invalid = |error: webpubsub_emulator::tls::TlsError| {
    napi::Error::new(Status::InvalidArg, error.to_string())
  };
  match (certificate_pem, key_pem) {
    (Some(certificate), Some(key)) => TlsIdentity::from_pem(certificate, &key)
      .map(Some)
      .map_err(invalid),
    (None, None) if enabled => TlsIdentity::self_signed(&[]).map(Some).map_err(invalid),
    (None, None) => Ok(None),
    _ => Err(napi::Error::new(
      Status::InvalidArg,
      "tls needs both cert and key, or neither (for a generated certificate)",
    )),
  }
}

#[napi]
impl NativeEmulator {
  /// Binds and starts serving; rejects when the port is taken or the access key is invalid.
  #[napi(factory)]
  pub async fn start(options: Option<NativeEmulatorOptions>) -> napi::Result<NativeEmulator> {
    let config = config_of(options)?;
    let running = webpubsub_emulator::start(config).await.map_err(|error| {
      let status = match error.kind() {
        std::io::ErrorKind::InvalidInput => Status::InvalidArg,
        _ => Status::GenericFailure,
      };
      napi::Error::new(status, format!("cannot start the emulator: {error}"))
    })?;
    Ok(NativeEmulator {
      live_trace_url: running.live_trace_url(),
      closed: CancellationToken::new(),
      endpoint: running.endpoint(),
      connection_string: running.connection_string(),
      host: running.host().to_owned(),
      port: u32::from(running.port()),
      certificate: running.tls().map(|tls| tls.certificate_pem().to_owned()),
      running: Mutex::new(Some(running)),
    })
  }

  /// The served certificate (PEM) when serving HTTPS/WSS.
  #[napi(getter)]
  pub fn certificate(&self) -> Option<String> {
    self.certificate.clone()
  }

  /// `http(s)://<host>:<port>`.
  #[napi(getter)]
  pub fn endpoint(&self) -> String {
    self.endpoint.clone()
  }

  /// `Endpoint=<endpoint>;AccessKey=<key>;Version=1.0;`
  #[napi(getter)]
  pub fn connection_string(&self) -> String {
    self.connection_string.clone()
  }

  #[napi(getter)]
  pub fn host(&self) -> String {
    self.host.clone()
  }

  /// The bound port (the chosen one when started with port 0).
  #[napi(getter)]
  pub fn port(&self) -> u32 {
    self.port
  }

  /// The live-trace page, with a token valid for a day.
  #[napi(getter)]
  pub fn live_trace_url(&self) -> String {
    self.live_trace_url.clone()
  }

  /// The hubs (or one hub) as JSON: connections with user, subprotocol, roles and groups; groups; users.
  #[napi]
  pub async fn inspect(&self, hub: Option<String>) -> napi::Result<String> {
    let running = self.running.lock().await;
    let hubs = running
      .as_ref()
      .map(|running| running.inspect(hub.as_deref()))
      .unwrap_or_default();
    serde_json::to_string(&hubs).map_err(|e| napi::Error::from_reason(e.to_string()))
  }

  /// Follows the live trace: `categories` is a comma-separated list (`connectivity,messaging,http`).
  #[napi]
  pub async fn trace(
    &self,
    categories: Option<String>,
    hub: Option<String>,
  ) -> napi::Result<TraceSubscription> {
    let categories = match categories {
      None => None,
      Some(list) => Some(
        list
          .split(',')
          .map(|name| {
            Category::parse(name.trim()).ok_or_else(|| {
              napi::Error::new(
                Status::InvalidArg,
                format!("unknown trace category '{name}': use connectivity, messaging or http"),
              )
            })
          })
          .collect::<napi::Result<Vec<_>>>()?,
      ),
    };
    let running = self.running.lock().await;
    let feed = running.as_ref().map(RunningEmulator::trace);
    Ok(TraceSubscription {
      feed: Mutex::new(feed),
      filter: TraceFilter {
        categories,
        hub: hub.map(|hub| hub.to_lowercase()),
      },
      stop: self.closed.child_token(),
    })
  }

  /// Stops accepting, closes WebSocket clients with 1001 and frees the port.
  #[napi]
  pub async fn close(&self) -> napi::Result<()> {
    self.closed.cancel();
    if let Some(running) = self.running.lock().await.take() {
      running.shutdown().await;
    }
    Ok(())
  }
}

/// One follower of an emulator's live trace.
#[napi]
pub struct TraceSubscription {
  feed: Mutex<Option<Feed>>,
  filter: TraceFilter,
  /// Cancelled by `close()` here or on the emulator.
  stop: CancellationToken,
}

#[napi]
impl TraceSubscription {
  /// The next matching record as JSON, `{"missed":n}` when the follower fell behind by n records, or
  /// `null` once closed.
  #[napi]
  pub async fn next(&self) -> napi::Result<Option<String>> {
    let mut feed = self.feed.lock().await;
    loop {
      let Some(current) = feed.as_mut() else {
        return Ok(None);
      };
      let item = tokio::select! {
        _ = self.stop.cancelled() => None,
        item = current.next() => item,
      };
      let text = match item {
        None => {
          *feed = None;
          return Ok(None);
        }
        Some(FeedItem::Record(record)) if self.filter.matches(&record) => {
          serde_json::to_string(&*record)
        }
        Some(FeedItem::Record(_)) => continue,
        Some(FeedItem::Missed(count)) => Ok(format!(r#"{{"missed":{count}}}"#)),
      };
      return text
        .map(Some)
        .map_err(|e| napi::Error::from_reason(e.to_string()));
    }
  }

  /// Ends the subscription; a pending `next()` resolves with `null`.
  #[napi]
  pub fn close(&self) {
    self.stop.cancel();
  }
}
