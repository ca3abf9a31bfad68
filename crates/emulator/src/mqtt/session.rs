//! One MQTT connection: its CONNECT, then its packets and the hub's messages until it ends.
//!
//! The connection is registered in its hub under its client id like any other client, so REST
//! calls, permissions and group fan-out treat it the same way; what is MQTT's own lives here:
//! subscription options (granted QoS, no-local, subscription identifier), packet identifiers and
//! the QoS 1 / 2 handshakes in both directions, keep-alive, and flow control (the client's receive
//! maximum bounds the publications awaiting its acknowledgement; the hub's queue waits meanwhile).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use webpubsub_protocol::names;
use webpubsub_protocol::payload::ContentKind;

use super::admission::{
  self, check_will, connect_body, decode_refusal, handler_refusal, read_connect, refuse_connect,
  user_properties, ClientId, ConnectRefusal, CONNECT_TIMEOUT,
};
use super::content_type::{content_type, payload_kind};
use super::packet::{
  self, reason, ConnAckProperties, Connect, Incoming, Outgoing, Publish, PublishProperties,
  Subscribe, Version, Will,
};
use super::resume::Resume;
use crate::events::connect::ConnectRequest;
use crate::events::dispatcher::DeliveryError;
use crate::events::settings::EventKind;
use crate::events::upstream::{Carried, ConnectionInfo};
use crate::events::ConnectionEvents;
use crate::roles::{GroupAction, Roles};
use crate::state::{
  Connection, ConnectionInit, DataMessage, Hub, MessageSource, MqttOrigin, Outbound, Selection,
  SharedState,
};
use crate::trace::{Category, Level, TraceRecord};
use crate::ws::connection::{close_code, close_socket};
use crate::ws::handshake::NewClient;
use crate::ws::socket::{Frame, Spliced, WebSocket, DIRECT_WRITE_BYTES};

/// Largest packet a client may send (the service's message size limit); announced in CONNACK.
pub const MAX_PACKET_BYTES: usize = 1024 * 1024;
/// QoS 1 and 2 publications a client may have unacknowledged towards the service; announced in
/// CONNACK (MQTT 5); a client that exceeds it is disconnected.
pub const RECEIVE_MAXIMUM: u16 = 100;
/// Most publications the service leaves unacknowledged towards a client (fewer when the client's
/// receive maximum says so); more wait in the connection's queue.
pub const MAX_OUTBOUND_INFLIGHT: u16 = 100;
/// QoS of the service's own sends (REST), and of subscriptions made by REST or token groups.
const SERVICE_QOS: u8 = 1;
/// The topic of REST sends to all, to a user or to a connection.
pub const SERVER_MESSAGES_TOPIC: &str = "$webpubsub/server/messages";
/// Topics under this prefix are the service's own.
const RESERVED_PREFIX: &str = "$webpubsub/";
/// Publications to `$webpubsub/server/events/{event}` are the user event `event` for the event handler.
const EVENTS_PREFIX: &str = "$webpubsub/server/events/";
/// Request and response headers carrying MQTT user properties to and from the event handler.
const MQTT_HEADER_PREFIX: &str = "mqtt-";
/// The close reason of a connection whose client id connected again: MQTT clients get it as the
/// DISCONNECT reason "session taken over".
const SESSION_TAKEN_OVER: &str = "SessionTakenOver";
/// The longest a session outlives its connection (the service keeps sessions up to 30 seconds).
pub const MAX_SESSION_EXPIRY: Duration = Duration::from_secs(30);
/// The MQTT 5 DISCONNECT reason "disconnect with will message": a normal end that still sends the will.
const DISCONNECT_WITH_WILL: u8 = 0x04;

/// A subscription's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Subscription {
  qos: u8,
  no_local: bool,
  id: Option<usize>,
}

/// An outbound QoS 1 / 2 publication awaiting the client.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inflight {
  /// Waiting for PUBACK (QoS 1) or PUBREC (QoS 2); kept to be sent again to a resumed session.
  Sent(Box<Publish>),
  /// QoS 2: PUBREL sent, waiting for PUBCOMP.
  Released,
}

/// Why a connection ends.
enum Ending {
  /// The client sent DISCONNECT.
  Disconnected(packet::Disconnect),
  /// The transport closed or failed.
  Gone,
  /// The service ends it: an MQTT 5 DISCONNECT with this reason code first, then a close.
  Refused { code: u8, reason: String },
  /// The client connected again to resume the session: the old transport gives way.
  TakenOver(Box<Resume>),
}

/// What the upgrade request said, for the `connect` event and the trace.
pub struct UpgradeRequest {
  pub query: Vec<(String, String)>,
  pub headers: HeaderMap,
  pub ip: Option<String>,
}

/// Runs one MQTT connection to its end.
pub async fn run(
  state: SharedState,
  hub_name: String,
  mut client: NewClient,
  request: UpgradeRequest,
  mut socket: WebSocket,
) {
  let mut request_ip = request.ip;
  let mut buf = BytesMut::new();
  let mut connect =
    match tokio::time::timeout(CONNECT_TIMEOUT, read_connect(&mut socket, &mut buf)).await {
      Ok(Ok(connect)) => connect,
      Ok(Err(refusal)) => {
        refuse_connect(socket, refusal, &state).await;
        return;
      }
      Err(_) => {
        let close = Some((
          close_code::POLICY_VIOLATION,
          "No MQTT CONNECT packet arrived in time.",
        ));
        close_socket(socket, close, &state.hard_stop).await;
        return;
      }
    };
  let version = connect.version;
  let Some(ClientId {
    id: client_id,
    assigned,
  }) = admission::client_id(&connect)
  else {
    let refusal = ConnectRefusal::code(version, reason::CLIENT_IDENTIFIER_NOT_VALID);
    refuse_connect(socket, refusal, &state).await;
    return;
  };
  if let Some(will) = &connect.will {
    if let Err(code) = check_will(will, version) {
      refuse_connect(socket, ConnectRefusal::code(version, code), &state).await;
      return;
    }
  }
  let Some(keep_alive) = admission::keep_alive(&connect) else {
    let reason = "The MQTT 3.1.1 keep-alive must be 1 to 180 seconds.";
    close_socket(
      socket,
      Some((close_code::POLICY_VIOLATION, reason)),
      &state.hard_stop,
    )
    .await;
    return;
  };

  let hub = state.hubs.hub(&hub_name);
  let mut info = ConnectionInfo {
    hub: hub.name().to_owned(),
    connection_id: client_id.clone(),
    user_id: client.user_id.clone(),
    subprotocol: Some(super::MQTT_SUBPROTOCOL.to_owned()),
    origin: crate::ws::events::origin(&request.headers, &state),
    physical_connection_id: Some(crate::state::new_connection_id()),
    session_id: None,
  };
  let mut connack_user_properties = Vec::new();
  let mut carried = Carried::default();
  let has_handlers = !state.events.settings().hub(hub.name()).is_empty();
  if has_handlers {
    let connect_request = ConnectRequest {
      info: &info,
      claims: &client.claims,
      query: &request.query,
      headers: &request.headers,
      subprotocols: &[super::MQTT_SUBPROTOCOL.to_owned()],
      mqtt: Some(connect_body(&connect)),
    };
    match crate::events::connect::connect(&state.events, connect_request).await {
      Ok(Some(decision)) => {
        if let Some(user_id) = decision.user_id {
          client.user_id = (!user_id.is_empty()).then_some(user_id);
        }
        if let Some(groups) = decision.groups {
          client.groups = groups;
        }
        if let Some(roles) = decision.roles {
          match Roles::parse(&roles) {
            Ok(roles) => client.roles = roles,
            Err(_) => {
              let refusal = ConnectRefusal::code(version, reason::UNSPECIFIED_ERROR);
              refuse_connect(socket, refusal, &state).await;
              return;
            }
          }
        }
        connack_user_properties = decision
          .mqtt_user_properties
          .into_iter()
          .map(|p| (p.name, p.value))
          .collect();
        carried = decision.carried;
      }
      Ok(None) => {}
      Err(error) => {
        refuse_connect(socket, handler_refusal(version, &error), &state).await;
        return;
      }
    }
    info.user_id = client.user_id.clone();
    info.session_id = Some(crate::state::new_connection_id());
  }
  if !connect.clean_start {
    let resume = Resume {
      socket,
      connect,
      buf,
      keep_alive,
      ip: request_ip.take(),
    };
    match state.mqtt_sessions.resume(hub.name(), &client_id, resume) {
      Ok(()) => return,
      Err(resume) => {
        // No session to resume: a new one.
        let resume = *resume;
        (socket, connect, buf) = (resume.socket, resume.connect, resume.buf);
        request_ip = resume.ip;
      }
    }
  }
  // A client connecting with the id of a live connection takes its place.
  if let Some(previous) = hub.connection(&client_id) {
    previous.close_immediately(close_code::POLICY_VIOLATION, SESSION_TAKEN_OVER);
    hub.remove_if_current(&previous);
  }
  let (conn, mut outbound) = Connection::new(ConnectionInit {
    max_queued_bytes: state.config.max_queued_bytes,
    id: client_id,
    hub: hub.name().to_owned(),
    user_id: client.user_id,
    protocol: Some(super::MQTT_SUBPROTOCOL.to_owned()),
    roles: client.roles,
  });
  hub.add_connection(conn.clone());
  for group in &client.groups {
    hub.join_group(&conn.id, group);
  }
  if has_handlers {
    let _ = conn
      .upstream
      .set(ConnectionEvents::start(state.events.clone(), info, carried));
  }

  let properties = ConnAckProperties {
    assigned_client_id: assigned.then(|| conn.id.clone()),
    user_properties: connack_user_properties,
    ..accepted(&connect, keep_alive)
  };
  let connack = Outgoing::ConnAck {
    session_present: false,
    code: reason::SUCCESS,
    properties,
  };
  let mut session = Session {
    state: state.clone(),
    hub: hub.clone(),
    conn: conn.clone(),
    version,
    subscriptions: HashMap::new(),
    inflight: HashMap::new(),
    next_pkid: 1,
    client_receive_maximum: outbound_window(&connect),
    awaiting_release: HashSet::new(),
    frames: Vec::new(),
    out: BytesMut::new(),
    pending_event: None,
    will: connect.will.clone(),
    pending_will: None,
  };
  let mut record = session.record(
    Level::Information,
    "ConnectionStarted",
    "The MQTT client connected.".to_owned(),
  );
  record.ip = request_ip;
  state.tracer.record(record);

  session.queue(connack);
  if let Some(upstream) = conn.upstream.get() {
    upstream.connected();
  }
  let mut expiry = session_expiry(&connect);
  let mut registration =
    (!expiry.is_zero()).then(|| state.mqtt_sessions.register(hub.name(), &conn.id));
  let mut keep_alive = keep_alive;
  let outcome = loop {
    let ending = match session.flush(&mut socket).await {
      Ok(()) => {
        let resumes = registration.as_mut().map(|r| &mut r.receiver);
        session
          .serve(&mut socket, &mut buf, &mut outbound, keep_alive, resumes)
          .await
      }
      Err(()) => Ending::Gone,
    };
    if let Ending::TakenOver(resume) = ending {
      let taken = Ending::Refused {
        code: reason::SESSION_TAKEN_OVER,
        reason: SESSION_TAKEN_OVER.to_owned(),
      };
      session.close_transport(socket, taken, false).await;
      (socket, buf, keep_alive) = session.resume(*resume, &mut expiry);
      continue;
    }
    if let Ending::Disconnected(packet) = &ending {
      if let Some(seconds) = packet.session_expiry_interval {
        expiry = capped_expiry(seconds);
      }
    }
    // The service's own closes end the session with the connection.
    let closed_by_service = matches!(&ending, Ending::Refused { code, .. }
      if [reason::ADMINISTRATIVE_ACTION, reason::SESSION_TAKEN_OVER, reason::SERVER_SHUTTING_DOWN].contains(code));
    let keep = !expiry.is_zero() && !closed_by_service && registration.is_some();
    let outcome = session.close_transport(socket, ending, keep).await;
    let Some(registration) = registration.as_mut().filter(|_| keep) else {
      break outcome;
    };
    // Detached: the session waits for its client, until it expires or the service closes it.
    let expires = tokio::time::sleep(expiry);
    tokio::pin!(expires);
    let resumed = loop {
      let will_at = session.pending_will.as_ref().map(|(at, _)| *at);
      tokio::select! {
        resume = registration.receiver.recv() => break resume,
        () = &mut expires => break None,
        () = conn.close_requested() => break None,
        () = state.hard_stop.cancelled() => break None,
        () = sleep_until_or_never(will_at) => session.publish_pending_will(),
      }
    };
    match resumed {
      Some(resume) => (socket, buf, keep_alive) = session.resume(resume, &mut expiry),
      None => break outcome,
    }
  };
  if let Some(registration) = &registration {
    state
      .mqtt_sessions
      .unregister(hub.name(), &conn.id, registration);
  }
  hub.remove_if_current(&conn);
  session.publish_pending_will();
  if let Some(upstream) = conn.upstream.get() {
    upstream.disconnected_with(outcome);
  }
}

/// The CONNACK properties of an accepted CONNECT: the service's limits, and the keep-alive when it
/// is not the client's.
fn accepted(connect: &Connect, keep_alive: u16) -> ConnAckProperties {
  ConnAckProperties {
    server_keep_alive: (keep_alive != connect.keep_alive).then_some(keep_alive),
    receive_maximum: Some(RECEIVE_MAXIMUM),
    maximum_packet_size: u32::try_from(MAX_PACKET_BYTES).ok(),
    ..ConnAckProperties::default()
  }
}

/// How many QoS 1 / 2 publications may await the client's acknowledgement: its receive maximum,
/// at most [`MAX_OUTBOUND_INFLIGHT`] (each is kept until acknowledged, to be sent again).
fn outbound_window(connect: &Connect) -> u16 {
  connect
    .receive_maximum
    .unwrap_or(MAX_OUTBOUND_INFLIGHT)
    .clamp(1, MAX_OUTBOUND_INFLIGHT)
}

/// How long a session outlives its connection: MQTT 3.1.1 without clean session and MQTT 5 with a
/// session expiry interval keep it, for at most [`MAX_SESSION_EXPIRY`] (the service's guarantee).
fn session_expiry(connect: &Connect) -> Duration {
  match connect.version {
    Version::V311 if connect.clean_start => Duration::ZERO,
    Version::V311 => MAX_SESSION_EXPIRY,
    Version::V5 => capped_expiry(connect.session_expiry_interval.unwrap_or(0)),
  }
}

fn capped_expiry(seconds: u32) -> Duration {
  Duration::from_secs(u64::from(seconds)).min(MAX_SESSION_EXPIRY)
}

async fn next_resume(
  resumes: &mut Option<&mut tokio::sync::mpsc::Receiver<Resume>>,
) -> Option<Resume> {
  match resumes {
    Some(resumes) => resumes.recv().await,
    None => std::future::pending().await,
  }
}

async fn sleep_until_or_never(at: Option<Instant>) {
  match at {
    Some(at) => tokio::time::sleep_until(at.into()).await,
    None => std::future::pending().await,
  }
}

struct Session {
  state: SharedState,
  hub: Arc<Hub>,
  conn: Arc<Connection>,
  version: Version,
  subscriptions: HashMap<String, Subscription>,
  inflight: HashMap<u16, Inflight>,
  next_pkid: u16,
  client_receive_maximum: u16,
  /// Inbound QoS 2 publications delivered and waiting for the client's PUBREL.
  awaiting_release: HashSet<u16>,
  /// Encoded packets not yet written: whole frames, then the bytes of the next one.
  frames: Vec<Frame>,
  out: BytesMut,
  /// A user event just published, for the serve loop to hand to the event handler.
  pending_event: Option<(String, Publish)>,
  /// Published when the connection ends without a normal DISCONNECT.
  will: Option<Will>,
  /// A will waiting out its MQTT 5 delay while the session waits for its client.
  pending_will: Option<(Instant, Will)>,
}

impl Session {
  fn record(&self, level: Level, event: &'static str, message: String) -> TraceRecord {
    TraceRecord::new(Category::Connectivity, level, event, message).client(&self.conn)
  }

  fn queue(&mut self, packet: Outgoing) {
    match packet {
      // A large payload is sent from the message's shared bytes: the frame is the packets queued
      // so far and this one's head, spliced before it.
      Outgoing::Publish(publish) if publish.payload.len() >= DIRECT_WRITE_BYTES => {
        let body = packet::encode_publish_head(publish, self.version, &mut self.out);
        self.frames.push(Frame::Spliced(Spliced {
          text: false,
          head: self.out.split().freeze(),
          body,
          tail: Bytes::new(),
        }));
      }
      packet => packet::encode(packet, self.version, &mut self.out),
    }
  }

  async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), ()> {
    if !self.out.is_empty() {
      self
        .frames
        .push(Message::Binary(self.out.split().freeze()).into());
    }
    if self.frames.is_empty() {
      return Ok(());
    }
    for frame in self.frames.drain(..) {
      socket.feed(frame).await.map_err(|_| ())?;
    }
    socket.flush().await.map_err(|_| ())
  }

  async fn serve(
    &mut self,
    socket: &mut WebSocket,
    buf: &mut BytesMut,
    outbound: &mut tokio::sync::mpsc::Receiver<Outbound>,
    keep_alive: u16,
    mut resumes: Option<&mut tokio::sync::mpsc::Receiver<Resume>>,
  ) -> Ending {
    // The client must send something within one and a half keep-alive periods.
    let grace = Duration::from_millis(u64::from(keep_alive) * 1500);
    let mut deadline = Instant::now() + grace;
    let closed_by_service = self.conn.closed_by_service().clone();
    loop {
      // Packets already read come first.
      loop {
        match packet::decode(buf, self.version, MAX_PACKET_BYTES) {
          Ok(Some(incoming)) => {
            deadline = Instant::now() + grace;
            if let Some(ending) = self.handle(incoming) {
              let _ = self.flush(socket).await;
              return ending;
            }
            if let Some((name, publish)) = self.pending_event.take() {
              // Blocking, as the service's user events are; the client is not timed out meanwhile.
              if self.flush(socket).await.is_err() {
                return Ending::Gone;
              }
              self.user_event(name, publish).await;
              deadline = Instant::now() + grace;
            }
          }
          Ok(None) => break,
          Err(error) => {
            let _ = self.flush(socket).await;
            return Ending::Refused {
              code: decode_refusal(&error),
              reason: error.to_string(),
            };
          }
        }
      }
      if self.flush(socket).await.is_err() {
        return Ending::Gone;
      }
      let window_open = self.inflight.len() < usize::from(self.client_receive_maximum);
      tokio::select! {
        frame = socket.recv() => match frame {
          Some(Ok(Message::Binary(bytes))) => {
            if buf.len() + bytes.len() > 2 * MAX_PACKET_BYTES {
              return Ending::Refused { code: reason::PACKET_TOO_LARGE, reason: "The packet is too large.".to_owned() };
            }
            buf.extend_from_slice(&bytes);
          }
          Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
          Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ending::Gone,
          Some(Ok(_)) => {
            return Ending::Refused { code: reason::MALFORMED_PACKET, reason: "MQTT packets travel in binary frames.".to_owned() }
          }
        },
        item = outbound.recv(), if window_open => match item {
          Some(item) => {
            self.conn.took(&item);
            match item {
              Outbound::Data(msg) => self.deliver(&msg),
              Outbound::Close { reason, .. } => {
                return Ending::Refused { code: reason::ADMINISTRATIVE_ACTION, reason };
              }
            }
          }
          None => return Ending::Gone,
        },
        () = closed_by_service.cancelled() => {
          let reason = self.conn.close_status().map(|(_, reason)| reason.clone()).unwrap_or_default();
          let code = if reason == SESSION_TAKEN_OVER { reason::SESSION_TAKEN_OVER } else { reason::ADMINISTRATIVE_ACTION };
          return Ending::Refused { code, reason };
        }
        () = tokio::time::sleep_until(deadline.into()) => {
          return Ending::Refused { code: reason::KEEP_ALIVE_TIMEOUT, reason: "The client sent nothing within one and a half keep-alive periods.".to_owned() };
        }
        () = self.state.hard_stop.cancelled() => {
          return Ending::Refused { code: reason::SERVER_SHUTTING_DOWN, reason: "The emulator is shutting down.".to_owned() };
        }
        Some(resume) = next_resume(&mut resumes) => return Ending::TakenOver(Box::new(resume)),
      }
    }
  }

  /// Handles one packet; `Some` when it ends the connection.
  fn handle(&mut self, incoming: Incoming) -> Option<Ending> {
    match incoming {
      Incoming::Publish(publish) => return self.publish(publish),
      Incoming::PubAck(pkid) => {
        if matches!(self.inflight.get(&pkid), Some(Inflight::Sent(p)) if p.qos == 1) {
          self.inflight.remove(&pkid);
        }
      }
      Incoming::PubRec(pkid) => {
        if matches!(self.inflight.get(&pkid), Some(Inflight::Sent(p)) if p.qos == 2) {
          self.inflight.insert(pkid, Inflight::Released);
        }
        self.queue(Outgoing::PubRel { pkid });
      }
      Incoming::PubComp(pkid) => {
        if matches!(self.inflight.get(&pkid), Some(Inflight::Released)) {
          self.inflight.remove(&pkid);
        }
      }
      Incoming::PubRel(pkid) => {
        self.awaiting_release.remove(&pkid);
        self.queue(Outgoing::PubComp { pkid });
      }
      Incoming::Subscribe(subscribe) => self.subscribe(subscribe),
      Incoming::Unsubscribe { pkid, filters } => {
        let codes = filters
          .iter()
          .map(|filter| self.unsubscribe(filter))
          .collect();
        self.queue(Outgoing::UnsubAck { pkid, codes });
      }
      Incoming::PingReq => self.queue(Outgoing::PingResp),
      Incoming::Disconnect(disconnect) => return Some(Ending::Disconnected(disconnect)),
      Incoming::Connect(_) => {
        return Some(Ending::Refused {
          code: reason::PROTOCOL_ERROR,
          reason: "A second CONNECT on one connection.".to_owned(),
        })
      }
      Incoming::Unexpected(name) => {
        return Some(Ending::Refused {
          code: reason::PROTOCOL_ERROR,
          reason: format!("A client does not send {name}."),
        })
      }
    }
    None
  }

  fn subscribe(&mut self, subscribe: Subscribe) {
    let mut codes = Vec::with_capacity(subscribe.filters.len());
    for filter in subscribe.filters {
      let topic = filter.filter;
      let code = if topic.starts_with("$share/") {
        reason::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED
      } else if topic.contains(['#', '+']) {
        reason::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED
      } else if names::validate_group(&topic).is_err() || topic.starts_with(RESERVED_PREFIX) {
        reason::TOPIC_FILTER_INVALID
      } else if !self.conn.allows(GroupAction::JoinLeave, &topic) {
        reason::NOT_AUTHORIZED
      } else {
        let qos = filter.qos.min(2);
        self.hub.join_group(&self.conn.id, &topic);
        let subscription = Subscription {
          qos,
          no_local: filter.no_local,
          id: subscribe.subscription_id,
        };
        self.subscriptions.insert(topic.clone(), subscription);
        let record = self
          .record(
            Level::Information,
            "GroupJoined",
            "The MQTT client subscribed to a topic.".to_owned(),
          )
          .group(&topic);
        self.state.tracer.record(record);
        qos
      };
      codes.push(code);
    }
    self.queue(Outgoing::SubAck {
      pkid: subscribe.pkid,
      codes,
    });
  }

  fn unsubscribe(&mut self, topic: &str) -> u8 {
    if names::validate_group(topic).is_err() || topic.contains(['#', '+']) {
      return reason::TOPIC_FILTER_INVALID;
    }
    if !self.conn.allows(GroupAction::JoinLeave, topic) {
      return reason::NOT_AUTHORIZED;
    }
    self.subscriptions.remove(topic);
    if !self.conn.in_group(topic) {
      return reason::NO_SUBSCRIPTION_EXISTED;
    }
    self.hub.leave_group(&self.conn.id, topic);
    let record = self
      .record(
        Level::Information,
        "GroupLeft",
        "The MQTT client unsubscribed from a topic.".to_owned(),
      )
      .group(topic);
    self.state.tracer.record(record);
    reason::SUCCESS
  }

  fn publish(&mut self, publish: Publish) -> Option<Ending> {
    let topic = &publish.topic;
    if publish.properties.topic_alias.is_some() {
      return Some(Ending::Refused {
        code: reason::TOPIC_ALIAS_INVALID,
        reason: "Topic aliases are not supported.".to_owned(),
      });
    }
    if publish.retain && self.version == Version::V5 {
      return Some(Ending::Refused {
        code: reason::RETAIN_NOT_SUPPORTED,
        reason: "Retained messages are not supported.".to_owned(),
      });
    }
    if topic.contains(['#', '+']) || names::validate_group(topic).is_err() {
      return Some(Ending::Refused {
        code: reason::TOPIC_NAME_INVALID,
        reason: format!("'{topic}' is not a topic name."),
      });
    }
    let qos = publish.qos;
    if qos == 2 && self.awaiting_release.contains(&publish.pkid) {
      // A resent QoS 2 publication already delivered: acknowledge it again, deliver it once.
      self.queue(Outgoing::PubRec {
        pkid: publish.pkid,
        code: reason::SUCCESS,
      });
      return None;
    }
    if qos == 2 && self.awaiting_release.len() >= usize::from(RECEIVE_MAXIMUM) {
      return Some(Ending::Refused {
        code: reason::RECEIVE_MAXIMUM_EXCEEDED,
        reason: format!("More than {RECEIVE_MAXIMUM} QoS 2 publications await their PUBREL."),
      });
    }
    let event = topic
      .strip_prefix(EVENTS_PREFIX)
      .filter(|name| !name.is_empty() && !name.contains('/'));
    if let Some(name) = event {
      // Received: acknowledged now; the handler's answer follows on its own topic.
      self.acknowledge(&publish, reason::SUCCESS);
      self.pending_event = Some((name.to_owned(), publish));
      return None;
    }
    let allowed = !topic.starts_with(RESERVED_PREFIX) && self.conn.allows(GroupAction::Send, topic);
    let code = if allowed {
      self.send_to_group(&publish);
      reason::SUCCESS
    } else {
      let record = self
        .record(
          Level::Warning,
          "GroupMessageRefused",
          format!("The MQTT client may not publish to '{topic}'."),
        )
        .group(topic);
      self.state.tracer.record(record);
      reason::NOT_AUTHORIZED
    };
    self.acknowledge(&publish, code);
    None
  }

  /// PUBACK (QoS 1) or PUBREC (QoS 2) for a publication; a QoS 2 one accepted then waits for PUBREL.
  fn acknowledge(&mut self, publish: &Publish, code: u8) {
    let pkid = publish.pkid;
    match publish.qos {
      1 => self.queue(Outgoing::PubAck { pkid, code }),
      2 => {
        if code == reason::SUCCESS {
          self.awaiting_release.insert(pkid);
        }
        self.queue(Outgoing::PubRec { pkid, code });
      }
      _ => {}
    }
  }

  /// Hands a publication to `$webpubsub/server/events/{name}` to the hub's event handler as the user
  /// event `name`, and publishes its answer to the client on `…/{name}/succeeded` (2xx) or
  /// `…/{name}/failed`, with the request's QoS and correlation data, the answer's content type, and
  /// its `mqtt-` headers and status as user properties. Without a handler for the event nothing
  /// is published.
  async fn user_event(&mut self, name: String, publish: Publish) {
    let Some(upstream) = self
      .conn
      .upstream
      .get()
      .filter(|upstream| upstream.handles(&EventKind::User(name.clone())))
    else {
      let record = self.record(
        Level::Warning,
        "EventDropped",
        format!("No event handler takes the MQTT client's event '{name}'."),
      );
      self.state.tracer.record(record);
      return;
    };
    let request = &publish.properties;
    let content_type = request
      .content_type
      .clone()
      .unwrap_or_else(|| content_type(ContentKind::Binary).to_owned());
    let headers = request
      .user_properties
      .iter()
      .map(|(name, value)| (format!("{MQTT_HEADER_PREFIX}{name}"), value.clone()))
      .collect();
    let result = upstream
      .user_event_with(&name, &content_type, publish.payload.clone(), headers)
      .await;
    let (outcome, answer) = match result {
      Ok(response) => ("succeeded", Some(response)),
      Err(DeliveryError::Status(response)) => ("failed", Some(*response)),
      Err(_) => ("failed", None),
    };
    let mut properties = PublishProperties {
      correlation_data: request.correlation_data.clone(),
      ..PublishProperties::default()
    };
    let mut payload = bytes::Bytes::new();
    if let Some(answer) = answer {
      properties.content_type = answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
      for (header_name, value) in &answer.headers {
        let property = header_name.as_str().strip_prefix(MQTT_HEADER_PREFIX);
        if let (Some(property), Ok(value)) = (property, value.to_str()) {
          properties
            .user_properties
            .push((property.to_owned(), value.to_owned()));
        }
      }
      let status = answer.status.as_u16().to_string();
      properties
        .user_properties
        .push(("azure-status-code".to_owned(), status));
      payload = answer.body;
    }
    if self.version == Version::V311 {
      properties = PublishProperties::default();
    }
    self.send_publish(Publish {
      dup: false,
      qos: publish.qos,
      retain: false,
      topic: format!("{EVENTS_PREFIX}{name}/{outcome}"),
      pkid: 0,
      payload,
      properties,
    });
  }

  fn send_to_group(&self, publish: &Publish) {
    let group = publish.topic.clone();
    let properties = &publish.properties;
    let kind = payload_kind(properties.content_type.as_deref());
    let source = MessageSource::Group {
      group: group.clone(),
      from_user_id: self.conn.user_id.clone(),
    };
    let ttl = properties.message_expiry_interval.map_or(0, u64::from);
    let msg = DataMessage::new(kind, publish.payload.clone(), source)
      .with_sender(self.conn.id.clone())
      .with_ttl_seconds(ttl)
      .with_mqtt(MqttOrigin {
        qos: publish.qos,
        properties: properties.clone(),
      });
    let recipients = self
      .hub
      .send_to_group(&group, &Arc::new(msg), Selection::default(), None);
    let mut record = self
      .record(
        Level::Information,
        "GroupMessageSent",
        format!("The MQTT client published to '{group}'."),
      )
      .group(&group);
    record.category = Category::Messaging;
    record.recipients = Some(recipients);
    self.state.tracer.record(record);
  }

  /// Sends the last will to its topic's group, if the client may send there.
  fn publish_will(&self, will: Will) {
    let message = will.message;
    if !self.conn.allows(GroupAction::Send, &message.topic)
      || names::validate_group(&message.topic).is_err()
    {
      let refused = format!(
        "The MQTT client may not publish its will to '{}'.",
        message.topic
      );
      let record = self
        .record(Level::Warning, "WillRefused", refused)
        .group(&message.topic);
      self.state.tracer.record(record);
      return;
    }
    self.send_to_group(&message);
  }

  /// Queues the PUBLISH of a hub message, unless it is the client's own on a no-local subscription.
  fn deliver(&mut self, msg: &DataMessage) {
    if msg.is_expired() {
      return;
    }
    let (topic, subscription) = match &msg.source {
      MessageSource::Group { group, .. } => {
        (group.as_str(), self.subscriptions.get(group).copied())
      }
      MessageSource::Server => (SERVER_MESSAGES_TOPIC, None),
    };
    if subscription.is_some_and(|s| s.no_local)
      && msg.sender.as_deref() == Some(self.conn.id.as_str())
    {
      return;
    }
    let sent_qos = msg.mqtt.as_ref().map_or(SERVICE_QOS, |origin| origin.qos);
    let granted = subscription.map_or(SERVICE_QOS, |s| s.qos);
    let qos = sent_qos.min(granted);
    let mut properties = match (&msg.mqtt, self.version) {
      (Some(origin), Version::V5) => PublishProperties {
        topic_alias: None,
        subscription_identifiers: Vec::new(),
        ..origin.properties.clone()
      },
      _ => PublishProperties::default(),
    };
    if self.version == Version::V5 {
      if properties.content_type.is_none() {
        properties.content_type = Some(content_type(msg.kind).to_owned());
      }
      properties.message_expiry_interval = msg.expires_at.map(|at| {
        u32::try_from(
          at.saturating_duration_since(Instant::now())
            .as_secs()
            .max(1),
        )
        .unwrap_or(u32::MAX)
      });
      properties.subscription_identifiers = subscription.and_then(|s| s.id).into_iter().collect();
    }
    self.send_publish(Publish {
      dup: false,
      qos,
      retain: false,
      topic: topic.to_owned(),
      pkid: 0,
      payload: msg.data.clone(),
      properties,
    });
  }

  /// Queues a PUBLISH to the client; at QoS 1 and 2 with a free packet identifier, kept until the
  /// client acknowledges it.
  fn send_publish(&mut self, mut publish: Publish) {
    if publish.qos > 0 {
      publish.pkid = self.allocate_pkid();
      self
        .inflight
        .insert(publish.pkid, Inflight::Sent(Box::new(publish.clone())));
    }
    self.queue(Outgoing::Publish(publish));
  }

  /// A packet identifier not in use by an outbound publication.
  fn allocate_pkid(&mut self) -> u16 {
    loop {
      let pkid = self.next_pkid;
      self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
      if !self.inflight.contains_key(&pkid) {
        return pkid;
      }
    }
  }

  /// Ends a transport: an MQTT 5 DISCONNECT when the service ends it, the last will unless the
  /// client disconnected normally (after its MQTT 5 delay when the session lives on), the trace.
  /// Returns the `disconnected` event's body should the session end here.
  async fn close_transport(
    &mut self,
    mut socket: WebSocket,
    ending: Ending,
    session_kept: bool,
  ) -> Value {
    let normal =
      matches!(&ending, Ending::Disconnected(packet) if packet.reason_code != DISCONNECT_WITH_WILL);
    if let Some(will) = self.will.take().filter(|_| !normal) {
      match will
        .delay_interval
        .filter(|delay| *delay > 0 && session_kept)
      {
        Some(delay) => {
          let at = Instant::now() + Duration::from_secs(u64::from(delay));
          self.pending_will = Some((at, will));
        }
        None => self.publish_will(will),
      }
    }
    let lost = "The connection's transport was lost.";
    // The `disconnected` event's reason and `mqtt` part, and the trace record.
    let (reason, mqtt, level, event, message) = match ending {
      Ending::Disconnected(packet) => {
        let properties =
          (self.version == Version::V5).then(|| user_properties(&packet.user_properties));
        let mqtt = json!({
          "initiatedByClient": true,
          "disconnectPacket": { "code": packet.reason_code, "userProperties": properties },
        });
        let message = "The MQTT client disconnected.".to_owned();
        (
          packet.reason,
          mqtt,
          Level::Information,
          "ConnectionEnded",
          message,
        )
      }
      Ending::Gone | Ending::TakenOver(_) => {
        let mqtt = json!({ "initiatedByClient": false, "disconnectPacket": null });
        let message = lost.to_owned();
        (
          Some(lost.to_owned()),
          mqtt,
          Level::Warning,
          "ConnectionAborted",
          message,
        )
      }
      Ending::Refused { code, reason } => {
        self.queue(Outgoing::Disconnect {
          code,
          reason: Some(reason.clone()).filter(|r| !r.is_empty()),
        });
        let _ = self.flush(&mut socket).await;
        // MQTT 3.1.1 has no server DISCONNECT: its connection just closes.
        let packet =
          (self.version == Version::V5).then(|| json!({ "code": code, "userProperties": null }));
        let mqtt = json!({ "initiatedByClient": false, "disconnectPacket": packet });
        let message =
          format!("The service disconnected the MQTT client with reason code {code:#04x}.");
        (
          Some(reason),
          mqtt,
          Level::Warning,
          "ConnectionEnded",
          message,
        )
      }
    };
    let mut record = self.record(level, event, message);
    record.exception = reason
      .clone()
      .filter(|reason| !reason.is_empty() && reason != lost);
    self.state.tracer.record(record);
    close_socket(socket, None, &self.state.hard_stop).await;
    json!({ "reason": reason, "mqtt": mqtt })
  }

  /// Takes a resuming client's transport: a CONNACK with the session present, then every
  /// publication it had not acknowledged, again (DUP set; PUBREL for those it had received).
  /// Returns the transport, the bytes read after its CONNECT and its keep-alive.
  fn resume(&mut self, resume: Resume, expiry: &mut Duration) -> (WebSocket, BytesMut, u16) {
    let Resume {
      socket,
      connect,
      buf,
      keep_alive,
      ip,
    } = resume;
    self.version = connect.version;
    self.client_receive_maximum = outbound_window(&connect);
    self.will = connect.will.clone();
    // The client is back before its will's delay ran out: the will is not sent.
    self.pending_will = None;
    *expiry = session_expiry(&connect);
    let properties = accepted(&connect, keep_alive);
    self.queue(Outgoing::ConnAck {
      session_present: true,
      code: reason::SUCCESS,
      properties,
    });
    let mut pending: Vec<(u16, Inflight)> =
      self.inflight.iter().map(|(k, v)| (*k, v.clone())).collect();
    pending.sort_by_key(|(pkid, _)| *pkid);
    for (pkid, inflight) in pending {
      match inflight {
        Inflight::Sent(mut publish) => {
          publish.dup = true;
          self.queue(Outgoing::Publish(*publish));
        }
        Inflight::Released => self.queue(Outgoing::PubRel { pkid }),
      }
    }
    let mut record = self.record(
      Level::Information,
      "ConnectionResumed",
      "The MQTT client resumed its session.".to_owned(),
    );
    record.ip = ip;
    self.state.tracer.record(record);
    (socket, buf, keep_alive)
  }

  fn publish_pending_will(&mut self) {
    if let Some((_, will)) = self.pending_will.take() {
      self.publish_will(will);
    }
  }
}
