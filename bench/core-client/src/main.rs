//! core-client: this package's Rust core (`webpubsub-service-client`) with no Node around it.
//!
//! Sends `sendToAll` of the small JSON body `{"hello":"world","n":1}` to the local target as the
//! Node addon does (a fresh JWT per request, the SDK's headers, retries on), on a current-thread
//! tokio runtime like the addon's I/O thread, and prints one JSON line per concurrency with the
//! same figures as rust-ceiling. Between the two, and the Node figures, the report shows what each
//! layer costs.
//!
//! Built on its own (`cargo build --release --manifest-path bench/core-client/Cargo.toml`).
//! Usage: core-client [--endpoint URL] [--duration S] [--warmup S] [--concurrency 1,64]
//! The endpoint must be on loopback.

use std::process::ExitCode;

use rust_ceiling::args::{require_loopback, ArgError, Args};
use rust_ceiling::pool::{measure, print_lines, Call, Window};
use rust_ceiling::runtime;
use webpubsub_protocol::payload::ContentKind;
use webpubsub_service_client::{
  CallOptions, ClientConfig, Credential, KeyCredential, Operation, Payload, ServiceClient,
};

const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:18080";
const HUB: &str = "bench";
// The target does not check signatures; any key signs.
const KEY: &str = "core-client-bench-key-0123456789abcdefghijklmnop";
const BODY: &str = r#"{"hello":"world","n":1}"#;

#[derive(Clone)]
struct SendToAll(ServiceClient);

impl Call for SendToAll {
  async fn call(&self) -> Result<(), String> {
    let op = Operation::SendToAll {
      payload: Payload {
        kind: ContentKind::Json,
        body: BODY.into(),
      },
      excluded: vec![],
      filter: None,
      message_ttl_seconds: None,
    };
    let response = self
      .0
      .execute(op, &CallOptions::default())
      .await
      .map_err(|e| e.to_string())?;
    if response.status != 202 {
      return Err(format!("unexpected status {}", response.status));
    }
    Ok(())
  }
}

fn client(endpoint: &str) -> Result<ServiceClient, String> {
  let credential = Credential::Key(std::sync::Arc::new(KeyCredential::new(KEY)));
  let mut config = ClientConfig::new(endpoint.to_owned(), HUB.to_owned(), credential);
  config.allow_insecure_connection = true;
  ServiceClient::new(config).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
  let parsed = (|| -> Result<_, ArgError> {
    let a = Args::parse(&["endpoint", "duration", "warmup", "concurrency"])?;
    let endpoint: String = a.get("endpoint", DEFAULT_ENDPOINT.to_owned())?;
    require_loopback(&endpoint)?;
    let window = Window::from_secs(a.get("duration", 4.0)?, a.get("warmup", 1.0)?);
    Ok((endpoint, window, a.list("concurrency", vec![1, 64])?))
  })();
  let (endpoint, window, concurrency) = match parsed {
    Ok(p) => p,
    Err(e) => {
      eprintln!("core-client: {e}");
      return ExitCode::from(2);
    }
  };
  let rt = runtime(1);
  print_lines(concurrency.into_iter().map(|conc| {
    let base = serde_json::json!({
      "tool": "core-client", "scenario": format!("core_send_json_c{conc}"),
      "concurrency": conc, "threads": 1,
    });
    // A fresh client (and connection pool) per concurrency level, as rust-ceiling does.
    match client(&endpoint) {
      Ok(c) => rt.block_on(measure(&SendToAll(c), conc, window, base)),
      Err(e) => {
        let mut line = base;
        line["error"] = serde_json::Value::String(format!("cannot build the client: {e}"));
        line
      }
    }
  }))
}
