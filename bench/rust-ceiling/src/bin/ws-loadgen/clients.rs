//! The fleet of WebSocket clients: opens them with bounded concurrency, waits for the JSON
//! protocol's `connected` message, then records every received frame until shutdown.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use rust_ceiling::jwt::client_token;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::tracker::{Audience, Membership, Tracker};

const JSON_SUBPROTOCOL: &str = "json.webpubsub.azure.v1";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
// Small buffers: tungstenite's 128 KiB defaults would cost over a GiB for 10,000 clients.
const BUFFER_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
  Json,
  Raw,
}

impl std::str::FromStr for Protocol {
  type Err = String;
  fn from_str(s: &str) -> Result<Self, String> {
    match s {
      "json" => Ok(Protocol::Json),
      "raw" => Ok(Protocol::Raw),
      other => Err(format!("unknown protocol {other}")),
    }
  }
}

#[derive(Debug, Clone)]
pub struct FleetConfig {
  /// `http://127.0.0.1:<port>`, no trailing slash.
  pub endpoint: String,
  pub hub: String,
  pub access_key: String,
  pub protocol: Protocol,
  pub groups: u32,
  pub users: u32,
  pub connect_concurrency: usize,
}

/// Shared counters of the fleet.
pub struct Fleet {
  pub config: FleetConfig,
  pub connected: AtomicUsize,
  pub connect_errors: AtomicUsize,
  /// Connections the server closed (or that failed) while the benchmark still held them.
  pub dropped: AtomicUsize,
  settled: AtomicUsize,
  open: Vec<AtomicBool>,
  stopping: AtomicBool,
  first_error: Mutex<Option<String>>,
  shutdown: watch::Sender<bool>,
  tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

impl Fleet {
  pub fn new(config: FleetConfig, size: usize) -> Arc<Fleet> {
    Arc::new(Fleet {
      config,
      connected: AtomicUsize::new(0),
      connect_errors: AtomicUsize::new(0),
      dropped: AtomicUsize::new(0),
      settled: AtomicUsize::new(0),
      open: (0..size).map(|_| AtomicBool::new(false)).collect(),
      stopping: AtomicBool::new(false),
      first_error: Mutex::new(None),
      shutdown: watch::channel(false).0,
      tasks: Mutex::new(Vec::new()),
    })
  }

  pub fn size(&self) -> usize {
    self.open.len()
  }

  pub fn settled(&self) -> usize {
    self.settled.load(Ordering::Acquire)
  }

  pub fn open_count(&self) -> usize {
    self
      .open
      .iter()
      .filter(|o| o.load(Ordering::Acquire))
      .count()
  }

  /// Open connections that a message for `audience` must reach.
  pub fn expected_receivers(&self, audience: Audience) -> u32 {
    let c = &self.config;
    self
      .open
      .iter()
      .enumerate()
      .filter(|(i, o)| {
        o.load(Ordering::Acquire) && Membership::of(*i, c.groups, c.users).receives(audience)
      })
      .count() as u32
  }

  pub fn first_error(&self) -> Option<String> {
    self.first_error.lock().unwrap().clone()
  }

  fn note_error(&self, e: String) {
    self.first_error.lock().unwrap().get_or_insert(e);
  }

  /// Starts one task per connection; returns at once (watch [`Fleet::settled`]).
  pub fn open_all(self: &Arc<Fleet>, tracker: Arc<Tracker>) {
    let permits = Arc::new(Semaphore::new(self.config.connect_concurrency));
    let audience = format!("{}/client/hubs/{}", self.config.endpoint, self.config.hub);
    let ws_base = format!(
      "ws{}/client/hubs/{}",
      self.config.endpoint.trim_start_matches("http"),
      self.config.hub
    );
    let mut tasks = self.tasks.lock().unwrap();
    for index in 0..self.size() {
      let member = Membership::of(index, self.config.groups, self.config.users);
      let token = client_token(
        &audience,
        &format!("u{}", member.user),
        &[format!("g{}", member.group)],
        &self.config.access_key,
      );
      let url = format!("{ws_base}?access_token={token}");
      let fleet = self.clone();
      let tracker = tracker.clone();
      let permits = permits.clone();
      tasks.push(tokio::spawn(async move {
        let permit = permits
          .acquire_owned()
          .await
          .expect("semaphore is never closed");
        let socket =
          tokio::time::timeout(CONNECT_TIMEOUT, connect(&url, fleet.config.protocol)).await;
        drop(permit);
        let socket = match socket {
          Ok(Ok(s)) => s,
          Ok(Err(e)) => return fleet.connect_failed(e),
          Err(_) => return fleet.connect_failed("connect timed out".into()),
        };
        fleet.connected.fetch_add(1, Ordering::AcqRel);
        fleet.open[index].store(true, Ordering::Release);
        fleet.settled.fetch_add(1, Ordering::AcqRel);
        fleet.receive(index, socket, member, &tracker).await;
      }));
    }
  }

  fn connect_failed(&self, e: String) {
    self.connect_errors.fetch_add(1, Ordering::AcqRel);
    self.note_error(format!("connect: {e}"));
    self.settled.fetch_add(1, Ordering::AcqRel);
  }

  async fn receive(&self, index: usize, mut socket: Socket, member: Membership, tracker: &Tracker) {
    let mut shutdown = self.shutdown.subscribe();
    loop {
      tokio::select! {
        _ = shutdown.changed() => {
          let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
          break;
        }
        frame = socket.next() => match frame {
          Some(Ok(Message::Text(t))) => tracker.receipt(t.as_bytes(), member),
          Some(Ok(Message::Binary(b))) => tracker.receipt(&b, member),
          Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
          Some(Ok(Message::Close(c))) => {
            self.lost(format!("server closed the connection: {c:?}"));
            break;
          }
          Some(Err(e)) => {
            self.lost(format!("receive: {e}"));
            break;
          }
          None => {
            self.lost("connection ended".into());
            break;
          }
        }
      }
    }
    self.open[index].store(false, Ordering::Release);
  }

  fn lost(&self, e: String) {
    if !self.stopping.load(Ordering::Acquire) {
      self.dropped.fetch_add(1, Ordering::AcqRel);
      self.note_error(e);
    }
  }

  /// Closes every connection and waits (bounded) for the tasks to end.
  pub async fn close_all(&self) {
    self.stopping.store(true, Ordering::Release);
    let _ = self.shutdown.send(true);
    let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
    let _ = tokio::time::timeout(
      Duration::from_secs(10),
      futures_util::future::join_all(tasks),
    )
    .await;
  }
}

async fn connect(url: &str, protocol: Protocol) -> Result<Socket, String> {
  let mut request = url.into_client_request().map_err(|e| e.to_string())?;
  if protocol == Protocol::Json {
    request.headers_mut().insert(
      "Sec-WebSocket-Protocol",
      HeaderValue::from_static(JSON_SUBPROTOCOL),
    );
  }
  let config = WebSocketConfig::default()
    .read_buffer_size(BUFFER_BYTES)
    .write_buffer_size(0);
  let (mut socket, response) =
    tokio_tungstenite::connect_async_with_config(request, Some(config), true)
      .await
      .map_err(|e| e.to_string())?;
  if protocol == Protocol::Raw {
    return Ok(socket);
  }
  let echoed = response
    .headers()
    .get("Sec-WebSocket-Protocol")
    .and_then(|v| v.to_str().ok());
  if echoed != Some(JSON_SUBPROTOCOL) {
    return Err(format!("subprotocol not echoed: {echoed:?}"));
  }
  match socket.next().await {
    Some(Ok(Message::Text(t))) => {
      let v: serde_json::Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
      if v["type"] == "system" && v["event"] == "connected" {
        Ok(socket)
      } else {
        Err(format!("first message was not `connected`: {t}"))
      }
    }
    other => Err(format!("no `connected` message: {other:?}")),
  }
}
