//! `NativeEmulator`: the Rust Web PubSub emulator, started on napi's tokio runtime.

use napi::Status;
use napi_derive::napi;
use tokio::sync::Mutex;
use webpubsub_emulator::tls::TlsIdentity;
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
}

/// A running emulator. `close()` shuts it down; later calls resolve at once.
#[napi]
pub struct NativeEmulator {
  running: Mutex<Option<RunningEmulator>>,
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

  /// Stops accepting, closes WebSocket clients with 1001 and frees the port.
  #[napi]
  pub async fn close(&self) -> napi::Result<()> {
    if let Some(running) = self.running.lock().await.take() {
      running.shutdown().await;
    }
    Ok(())
  }
}
