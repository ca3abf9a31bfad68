//! The events of one connection after its `connect`: the non-blocking notifications (`connected`, the
//! group presence events `joined` / `left`, `disconnected`), delivered in order by one task per connection so that a slow
//! handler delays only that connection's notifications, and the blocking user events, awaited by the
//! connection's own task. Keeps what later events carry: event ids (1, 2, … after connect's 0), the
//! connection state set by blocking responses, and the handler's cookies.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::cloudevents::{CloudEvent, CONNECTION_STATE_HEADER, METADATA_HEADER_PREFIX};
use super::cookies::CookieJar;
use super::dispatcher::{DeliveryError, Dispatcher, HandlerResponse, Outgoing};
use super::settings::{EventKind, PresenceEvent, SystemEvent};
use crate::ws::codec::Payload;

/// `Content-Type` of system-event bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Who a connection is, as its events describe it.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
  /// Lower-cased hub name.
  pub hub: String,
  pub connection_id: String,
  pub user_id: Option<String>,
  pub subprotocol: Option<String>,
  /// The host the client used, sent as `WebHook-Request-Origin`.
  pub origin: String,
  /// MQTT connections: the transport's id and the session's (`None` in `connect`).
  pub physical_connection_id: Option<String>,
  pub session_id: Option<String>,
}

/// What the `connect` exchange leaves for later events.
#[derive(Debug, Clone, Default)]
pub struct Carried {
  pub connection_state: Option<String>,
  pub cookies: CookieJar,
}

/// A queued notification: the event and its JSON body.
struct Notice(EventKind, String);

struct Shared {
  dispatcher: Arc<Dispatcher>,
  info: ConnectionInfo,
  signature: String,
  next_event_id: AtomicU64,
  carried: Mutex<Carried>,
}

/// One connection's upstream events.
pub struct ConnectionEvents {
  shared: Arc<Shared>,
  notices: mpsc::UnboundedSender<Notice>,
}

impl ConnectionEvents {
  /// Starts the connection's notification task.
  pub fn start(dispatcher: Arc<Dispatcher>, info: ConnectionInfo, carried: Carried) -> Self {
    let shared = Arc::new(Shared {
      signature: dispatcher.signature(&info.connection_id),
      dispatcher,
      info,
      next_event_id: AtomicU64::new(1),
      carried: Mutex::new(carried),
    });
    let (notices, receiver) = mpsc::unbounded_channel();
    tokio::spawn(notify(shared.clone(), receiver));
    ConnectionEvents { shared, notices }
  }

  /// Queues `connected`.
  pub fn connected(&self) {
    self.queue(EventKind::System(SystemEvent::Connected), "{}".to_owned());
  }

  /// Queues the group presence event `joined` or `left` (`azure.webpubsub.gp.*`) with the group.
  pub fn membership_changed(&self, group: &str, joined: bool) {
    let event = if joined {
      PresenceEvent::Joined
    } else {
      PresenceEvent::Left
    };
    let kind = EventKind::GroupPresence {
      event,
      group: group.to_owned(),
    };
    self.queue(kind, serde_json::json!({ "group": group }).to_string());
  }

  /// Queues `disconnected`, the connection's last event.
  pub fn disconnected(&self, reason: &str) {
    self.disconnected_with(serde_json::json!({ "reason": reason }));
  }

  /// Queues `disconnected` with a body of the protocol's own (MQTT's carries its DISCONNECT packet).
  pub fn disconnected_with(&self, body: serde_json::Value) {
    self.queue(
      EventKind::System(SystemEvent::Disconnected),
      body.to_string(),
    );
  }

  fn queue(&self, kind: EventKind, body: String) {
    if self.handles(&kind) {
      let _ = self.notices.send(Notice(kind, body));
    }
  }

  /// Whether a handler of the hub receives this event.
  pub fn handles(&self, event: &EventKind) -> bool {
    let shared = &self.shared;
    shared
      .dispatcher
      .handler_for(&shared.info.hub, event)
      .is_some()
  }

  /// Delivers a user event and waits for the handler's response.
  pub async fn user_event(
    &self,
    name: &str,
    payload: &Payload,
  ) -> Result<HandlerResponse, DeliveryError> {
    let metadata = payload
      .metadata
      .iter()
      .map(|(key, value)| (format!("{METADATA_HEADER_PREFIX}{key}"), value.clone()))
      .collect();
    let content_type = payload.kind.content_type();
    self
      .user_event_with(name, content_type, payload.data.clone(), metadata)
      .await
  }

  /// Delivers a user event with the protocol's own body type and headers (MQTT's content type and
  /// `mqtt-` user properties) and waits for the handler's response (a non-2xx one is in
  /// [`DeliveryError::Status`]).
  pub async fn user_event_with(
    &self,
    name: &str,
    content_type: &str,
    body: Bytes,
    headers: Vec<(String, String)>,
  ) -> Result<HandlerResponse, DeliveryError> {
    let kind = EventKind::User(name.to_owned());
    let response = self.shared.send(&kind, content_type, body, headers).await?;
    if let Some(state) = connection_state(&response.headers) {
      self.shared.carried.lock().unwrap().connection_state = state;
    }
    Ok(response)
  }
}

/// Sends a connection's notifications one after another until `disconnected` or the connection is gone.
async fn notify(shared: Arc<Shared>, mut notices: mpsc::UnboundedReceiver<Notice>) {
  while let Some(Notice(kind, body)) = notices.recv().await {
    // Failures are logged by the dispatcher; notifications have nobody to report to.
    let _ = shared
      .send(&kind, JSON_CONTENT_TYPE, Bytes::from(body), Vec::new())
      .await;
    if kind == EventKind::System(SystemEvent::Disconnected) {
      break;
    }
  }
}

impl Shared {
  async fn send(
    &self,
    kind: &EventKind,
    content_type: &str,
    body: Bytes,
    mut extra_headers: Vec<(String, String)>,
  ) -> Result<HandlerResponse, DeliveryError> {
    let Some(handler) = self.dispatcher.handler_for(&self.info.hub, kind) else {
      return Err(DeliveryError::NoHandler);
    };
    let Carried {
      connection_state,
      cookies,
    } = self.carried.lock().unwrap().clone();
    if let Some(cookie) = cookies.header() {
      extra_headers.push(("Cookie".to_owned(), cookie));
    }
    let info = &self.info;
    let event = CloudEvent {
      kind,
      hub: &info.hub,
      connection_id: &info.connection_id,
      user_id: info.user_id.as_deref(),
      subprotocol: info.subprotocol.as_deref(),
      connection_state: connection_state.as_deref(),
      physical_connection_id: info.physical_connection_id.as_deref(),
      session_id: info.session_id.as_deref(),
      origin: &info.origin,
      event_id: self.next_event_id.fetch_add(1, Ordering::Relaxed),
      signature: &self.signature,
      time: SystemTime::now(),
    };
    let response = self
      .dispatcher
      .deliver(Outgoing {
        event,
        handler,
        content_type,
        body,
        extra_headers,
      })
      .await?;
    self
      .carried
      .lock()
      .unwrap()
      .cookies
      .store(&response.headers);
    Ok(response)
  }
}

/// The state a blocking event's response sets: `Some(None)` clears it (empty header), `None` keeps it.
pub fn connection_state(headers: &reqwest::header::HeaderMap) -> Option<Option<String>> {
  let value = headers.get(CONNECTION_STATE_HEADER)?.to_str().ok()?;
  Some((!value.is_empty()).then(|| value.to_owned()))
}
