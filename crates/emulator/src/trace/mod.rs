//! Live trace: a record of everything that happens in the emulator (connections, messages, REST calls
//! and event-handler calls), kept in a bounded ring buffer and fanned out to viewers as it happens.
//!
//! Recording is one short lock per record and costs nothing per receiver: a broadcast to 10,000
//! connections is one record with its recipient count. Viewers read from a bounded channel; one that
//! cannot keep up misses records and is told how many ([`Feed::next`]), and never slows the emulator.
//!
//! - [`redact`]: removes access keys' products (tokens, signatures) from what records show.
//! - [`http`]: the REST calls' records (a middleware).
//! - [`inspect`]: a snapshot of hubs, connections, groups and users.
//! - [`web`]: the page, its feed and its test-client token endpoint, behind a live-trace token.

pub mod http;
pub mod inspect;
pub mod redact;
pub mod web;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::broadcast;

/// Records kept for viewers that attach later, by default.
pub const DEFAULT_CAPACITY: usize = 2_000;

/// Records a viewer may fall behind by before it misses some.
const VIEWER_BACKLOG: usize = 1_024;

/// Most bytes of a request or response body a record keeps.
pub const BODY_PREVIEW_BYTES: usize = 2 * 1024;

/// The three categories of the service's live trace, each switchable by viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
  Connectivity,
  Messaging,
  Http,
}

impl Category {
  pub fn parse(name: &str) -> Option<Category> {
    match name.to_ascii_lowercase().as_str() {
      "connectivity" => Some(Category::Connectivity),
      "messaging" => Some(Category::Messaging),
      "http" => Some(Category::Http),
      _ => None,
    }
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
  Information,
  Warning,
  Error,
}

/// Headers and a body preview of one side of an HTTP exchange, secrets redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpSide {
  pub headers: Vec<(String, String)>,
  /// The first [`BODY_PREVIEW_BYTES`] of the body, as text (lossy).
  pub body: String,
  /// The body's full length in bytes.
  pub body_bytes: usize,
}

impl HttpSide {
  pub fn new<'a>(headers: impl IntoIterator<Item = (&'a str, &'a [u8])>, body: &[u8]) -> Self {
    let headers = headers
      .into_iter()
      .map(|(name, value)| {
        let value = String::from_utf8_lossy(value);
        (name.to_owned(), redact::header(name, &value))
      })
      .collect();
    let preview = &body[..body.len().min(BODY_PREVIEW_BYTES)];
    HttpSide {
      headers,
      body: redact::text(&String::from_utf8_lossy(preview)),
      body_bytes: body.len(),
    }
  }
}

/// The request and response of a REST or event-handler call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpDetail {
  pub request: HttpSide,
  pub response: Option<HttpSide>,
}

/// One thing that happened. The optional fields are the service's live-trace columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceRecord {
  /// Increases by one per record, from 1.
  pub sequence: u64,
  /// Milliseconds since the Unix epoch.
  pub time: u64,
  pub category: Category,
  pub level: Level,
  /// `ConnectionStarted`, `GroupMessageSent`, `RestApiCall`, ...
  pub event: &'static str,
  pub message: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub exception: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub hub: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub connection_id: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub user_id: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub ip: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub subprotocol: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub group: Option<String>,
  /// The group stream a record is about.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub stream_id: Option<String>,
  /// How many connections a message reached.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub recipients: Option<usize>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub content_type: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub size: Option<usize>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub route: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub method: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub url: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub trace_id: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub status_code: Option<u16>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub duration_ms: Option<f64>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub detail: Option<HttpDetail>,
}

impl TraceRecord {
  /// A record with only the required columns; the sequence and time are set when it is recorded.
  pub fn new(
    category: Category,
    level: Level,
    event: &'static str,
    message: impl Into<String>,
  ) -> Self {
    TraceRecord {
      sequence: 0,
      time: 0,
      category,
      level,
      event,
      message: message.into(),
      exception: None,
      hub: None,
      connection_id: None,
      user_id: None,
      ip: None,
      subprotocol: None,
      group: None,
      stream_id: None,
      recipients: None,
      content_type: None,
      size: None,
      route: None,
      method: None,
      url: None,
      trace_id: None,
      status_code: None,
      duration_ms: None,
      detail: None,
    }
  }

  pub fn hub(mut self, hub: &str) -> Self {
    self.hub = Some(hub.to_owned());
    self
  }

  pub fn connection(mut self, connection_id: &str, user_id: Option<&str>) -> Self {
    self.connection_id = Some(connection_id.to_owned());
    self.user_id = user_id.map(str::to_owned);
    self
  }

  /// The hub, connection, user and subprotocol of a client connection.
  pub fn client(self, conn: &crate::state::Connection) -> Self {
    let mut record = self
      .hub(&conn.hub)
      .connection(&conn.id, conn.user_id.as_deref());
    record.subprotocol = conn.protocol.clone();
    record
  }

  pub fn group(mut self, group: &str) -> Self {
    self.group = Some(group.to_owned());
    self
  }

  pub fn exception(mut self, exception: impl Into<String>) -> Self {
    self.exception = Some(exception.into());
    self
  }

  /// The content type, size and recipient count of a message.
  pub fn delivery(mut self, content_type: &str, size: usize, recipients: usize) -> Self {
    self.content_type = Some(content_type.to_owned());
    self.size = Some(size);
    self.recipients = Some(recipients);
    self
  }
}

/// The emulator's live trace.
pub struct Tracer {
  capacity: usize,
  recent: Mutex<VecDeque<Arc<TraceRecord>>>,
  next_sequence: AtomicU64,
  live: broadcast::Sender<Arc<TraceRecord>>,
}

impl Tracer {
  /// A tracer keeping the `capacity` most recent records (at least one).
  pub fn new(capacity: usize) -> Self {
    let (live, _) = broadcast::channel(VIEWER_BACKLOG);
    Tracer {
      capacity: capacity.max(1),
      recent: Mutex::new(VecDeque::new()),
      next_sequence: AtomicU64::new(1),
      live,
    }
  }

  /// Stamps a record with its sequence number and time, keeps it and hands it to every viewer.
  pub fn record(&self, mut record: TraceRecord) {
    record.time = SystemTime::now()
      .duration_since(SystemTime::UNIX_EPOCH)
      .map(|d| d.as_millis() as u64)
      .unwrap_or_default();
    let mut recent = self.recent.lock().unwrap();
    record.sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
    let record = Arc::new(record);
    if recent.len() == self.capacity {
      recent.pop_front();
    }
    recent.push_back(record.clone());
    // Sent under the lock so a new viewer's snapshot and its live records neither overlap nor miss.
    let _ = self.live.send(record);
  }

  /// The records kept now, oldest first.
  pub fn recent(&self) -> Vec<Arc<TraceRecord>> {
    self.recent.lock().unwrap().iter().cloned().collect()
  }

  /// A viewer: the records kept now, then every later one.
  pub fn feed(&self) -> Feed {
    let recent = self.recent.lock().unwrap();
    Feed {
      backlog: recent.iter().cloned().collect(),
      live: self.live.subscribe(),
    }
  }
}

/// What a viewer gets next.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
  Record(Arc<TraceRecord>),
  /// The viewer fell behind and this many records were skipped.
  Missed(u64),
}

/// One viewer's position in the trace.
pub struct Feed {
  backlog: VecDeque<Arc<TraceRecord>>,
  live: broadcast::Receiver<Arc<TraceRecord>>,
}

impl Feed {
  /// The next record or gap; `None` once the tracer is gone.
  pub async fn next(&mut self) -> Option<FeedItem> {
    if let Some(record) = self.backlog.pop_front() {
      return Some(FeedItem::Record(record));
    }
    match self.live.recv().await {
      Ok(record) => Some(FeedItem::Record(record)),
      Err(broadcast::error::RecvError::Lagged(missed)) => Some(FeedItem::Missed(missed)),
      Err(broadcast::error::RecvError::Closed) => None,
    }
  }

  /// The next record or gap if one is ready now.
  pub fn try_next(&mut self) -> Option<FeedItem> {
    if let Some(record) = self.backlog.pop_front() {
      return Some(FeedItem::Record(record));
    }
    match self.live.try_recv() {
      Ok(record) => Some(FeedItem::Record(record)),
      Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(FeedItem::Missed(missed)),
      Err(_) => None,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn record(n: usize) -> TraceRecord {
    TraceRecord::new(
      Category::Messaging,
      Level::Information,
      "Test",
      format!("m{n}"),
    )
  }

  #[tokio::test]
  async fn keeps_the_most_recent_records_and_numbers_them() {
    let tracer = Tracer::new(3);
    for n in 0..5 {
      tracer.record(record(n));
    }
    let recent = tracer.recent();
    let messages: Vec<_> = recent.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages, ["m2", "m3", "m4"]);
    let sequences: Vec<_> = recent.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, [3, 4, 5]);
    assert!(recent[0].time > 0);
  }

  #[tokio::test]
  async fn a_viewer_gets_the_backlog_then_live_records() {
    let tracer = Tracer::new(10);
    tracer.record(record(1));
    let mut feed = tracer.feed();
    tracer.record(record(2));
    let mut messages = Vec::new();
    for _ in 0..2 {
      let Some(FeedItem::Record(r)) = feed.next().await else {
        panic!("expected a record");
      };
      messages.push(r.message.clone());
    }
    assert_eq!(messages, ["m1", "m2"]);
  }

  #[tokio::test]
  async fn a_slow_viewer_is_told_how_many_records_it_missed() {
    let tracer = Tracer::new(10);
    let mut feed = tracer.feed();
    let total = VIEWER_BACKLOG + 10;
    for n in 0..total {
      tracer.record(record(n));
    }
    assert_eq!(feed.next().await, Some(FeedItem::Missed(10)));
    let Some(FeedItem::Record(next)) = feed.next().await else {
      panic!("expected a record");
    };
    assert_eq!(next.message, "m10");
    assert_eq!(tracer.recent().len(), 10, "the ring buffer stays bounded");
  }
}
