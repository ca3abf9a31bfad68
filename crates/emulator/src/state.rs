//! In-memory hub state: hubs, connections, groups and users, and message fan-out.
//!
//! Locking: each hub keeps its indexes behind one `std::sync::RwLock`, held only for short,
//! non-async sections. Fan-out takes the read lock, so concurrent sends to a hub never wait on each
//! other; membership changes take the write lock. A connection's own group set is only written
//! while its hub's write lock is held. Delivery is `try_send` on a bounded queue and never blocks:
//! a connection whose queue is full is closed with 1008 instead.
//!
//! Empty groups and users are removed as soon as their last connection leaves, so memory follows
//! the live connections. Hubs are created only for connected clients ([`Hubs::hub`]); REST calls
//! look hubs up with [`Hubs::find`] and never create them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::ws::socket::Utf8Bytes;
use bytes::Bytes;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;
use webpubsub_protocol::payload::ContentKind;

use crate::odata::{Filter, FilterSubject};
use crate::roles::{GroupAction, PermissionGrants, Roles};

/// Messages a connection's outbound queue may hold before it is closed with 1008.
pub const OUTBOUND_QUEUE_CAPACITY: usize = 1000;

/// Payload bytes a connection's outbound queue may hold, by default, before it is closed as a slow
/// client (see [`crate::config::EmulatorConfig::max_queued_bytes`]).
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// WebSocket close code for a connection closed by the service on purpose (REST close).
pub const CLOSE_NORMAL: u16 = 1000;

/// WebSocket close code for a connection whose outbound queue overflowed.
pub const CLOSE_POLICY_VIOLATION: u16 = 1008;

/// A new, globally unique connection id: 32 lowercase hex characters.
pub fn new_connection_id() -> String {
  uuid::Uuid::new_v4().simple().to_string()
}

/// All hubs of one emulator. Hub names are case-insensitive: the key is the lower-cased name.
#[derive(Default)]
pub struct Hubs {
  hubs: RwLock<HashMap<String, Arc<Hub>>>,
}

impl Hubs {
  /// The hub with this name, created when missing.
  pub fn hub(&self, name: &str) -> Arc<Hub> {
    let key = name.to_lowercase();
    if let Some(hub) = self.hubs.read().unwrap().get(&key) {
      return hub.clone();
    }
    self
      .hubs
      .write()
      .unwrap()
      .entry(key.clone())
      .or_insert_with(|| Arc::new(Hub::new(key)))
      .clone()
  }

  /// The hub with this name if a client ever connected to it.
  pub fn find(&self, name: &str) -> Option<Arc<Hub>> {
    self.hubs.read().unwrap().get(&name.to_lowercase()).cloned()
  }

  /// Every hub a client ever connected to.
  pub fn all(&self) -> Vec<Arc<Hub>> {
    self.hubs.read().unwrap().values().cloned().collect()
  }
}

/// One hub: its connections and the group and user indexes over them.
pub struct Hub {
  name: String,
  index: RwLock<HubIndex>,
}

#[derive(Default)]
struct HubIndex {
  connections: HashMap<String, Arc<Connection>>,
  /// group -> member connection ids, ordered so that listing pages are stable.
  groups: HashMap<String, BTreeSet<String>>,
  /// user id -> connection ids.
  users: HashMap<String, HashSet<String>>,
}

impl HubIndex {
  fn join(&mut self, conn: &Connection, group: &str) {
    self
      .groups
      .entry(group.to_owned())
      .or_default()
      .insert(conn.id.clone());
    if conn.groups.lock().unwrap().insert(group.to_owned()) {
      conn.membership_changed(group, true);
    }
  }

  fn leave(&mut self, conn: &Connection, group: &str) {
    if let Some(members) = self.groups.get_mut(group) {
      members.remove(&conn.id);
      if members.is_empty() {
        self.groups.remove(group);
      }
    }
    if conn.groups.lock().unwrap().remove(group) {
      conn.membership_changed(group, false);
    }
  }

  /// Leaves every group; `notify` raises `left` events (not when the connection goes away).
  fn leave_all(&mut self, conn: &Connection, notify: bool) {
    let groups = std::mem::take(&mut *conn.groups.lock().unwrap());
    for group in groups {
      if notify {
        conn.membership_changed(&group, false);
      }
      if let Some(members) = self.groups.get_mut(&group) {
        members.remove(&conn.id);
        if members.is_empty() {
          self.groups.remove(&group);
        }
      }
    }
  }

  fn user_connections(&self, user_id: &str) -> Vec<Arc<Connection>> {
    self
      .users
      .get(user_id)
      .into_iter()
      .flatten()
      .filter_map(|id| self.connections.get(id).cloned())
      .collect()
  }
}

/// Which connections a fan-out reaches, besides the target itself.
#[derive(Clone, Copy, Default)]
pub struct Selection<'a> {
  /// Connection ids that must not receive the message (exact match).
  pub excluded: &'a [String],
  /// OData filter the receivers must match.
  pub filter: Option<&'a Filter>,
}

impl Selection<'_> {
  fn selects(&self, conn: &Connection) -> bool {
    !self.excluded.contains(&conn.id) && self.filter.is_none_or(|filter| filter.matches(conn))
  }
}

/// One entry of a group listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
  pub connection_id: String,
  pub user_id: Option<String>,
}

impl Hub {
  fn new(name: String) -> Self {
    Hub {
      name,
      index: RwLock::new(HubIndex::default()),
    }
  }

  /// The hub's name, lower-cased.
  pub fn name(&self) -> &str {
    &self.name
  }

  /// Registers a connection (and its user). Groups are joined separately with [`Hub::join_group`].
  pub fn add_connection(&self, conn: Arc<Connection>) {
    let mut index = self.index.write().unwrap();
    if let Some(user) = &conn.user_id {
      index
        .users
        .entry(user.clone())
        .or_default()
        .insert(conn.id.clone());
    }
    index.connections.insert(conn.id.clone(), conn);
  }

  /// Removes a connection from the hub, its groups and its user. Unknown ids are ignored.
  pub fn remove_connection(&self, id: &str) -> Option<Arc<Connection>> {
    let mut index = self.index.write().unwrap();
    let conn = index.connections.remove(id)?;
    index.leave_all(&conn, false);
    if let Some(user) = &conn.user_id {
      if let Some(ids) = index.users.get_mut(user) {
        ids.remove(id);
        if ids.is_empty() {
          index.users.remove(user);
        }
      }
    }
    Some(conn)
  }

  /// Removes `conn` if it is still the hub's connection of its id (a client that reconnected with
  /// the same id, as MQTT clients do, has replaced it).
  pub fn remove_if_current(&self, conn: &Arc<Connection>) {
    let current = self.connection(&conn.id);
    if current.is_some_and(|current| Arc::ptr_eq(&current, conn)) {
      self.remove_connection(&conn.id);
    }
  }

  pub fn connection(&self, id: &str) -> Option<Arc<Connection>> {
    self.index.read().unwrap().connections.get(id).cloned()
  }

  /// The hub's connections now.
  pub fn connections(&self) -> Vec<Arc<Connection>> {
    self
      .index
      .read()
      .unwrap()
      .connections
      .values()
      .cloned()
      .collect()
  }

  pub fn connection_count(&self) -> usize {
    self.index.read().unwrap().connections.len()
  }

  pub fn group_exists(&self, group: &str) -> bool {
    self.index.read().unwrap().groups.contains_key(group)
  }

  pub fn user_exists(&self, user_id: &str) -> bool {
    self.index.read().unwrap().users.contains_key(user_id)
  }

  /// Adds a connection to a group; false when the connection does not exist.
  pub fn join_group(&self, id: &str, group: &str) -> bool {
    let mut index = self.index.write().unwrap();
    let Some(conn) = index.connections.get(id).cloned() else {
      return false;
    };
    index.join(&conn, group);
    true
  }

  pub fn leave_group(&self, id: &str, group: &str) {
    let mut index = self.index.write().unwrap();
    if let Some(conn) = index.connections.get(id).cloned() {
      index.leave(&conn, group);
    }
  }

  pub fn leave_all_groups(&self, id: &str) {
    let mut index = self.index.write().unwrap();
    if let Some(conn) = index.connections.get(id).cloned() {
      index.leave_all(&conn, true);
    }
  }

  /// Adds every current connection of a user to a group; false when the user has none.
  pub fn add_user_to_group(&self, user_id: &str, group: &str) -> bool {
    let mut index = self.index.write().unwrap();
    let conns = index.user_connections(user_id);
    for conn in &conns {
      index.join(conn, group);
    }
    !conns.is_empty()
  }

  pub fn remove_user_from_group(&self, user_id: &str, group: &str) {
    let mut index = self.index.write().unwrap();
    for conn in index.user_connections(user_id) {
      index.leave(&conn, group);
    }
  }

  pub fn remove_user_from_all_groups(&self, user_id: &str) {
    let mut index = self.index.write().unwrap();
    for conn in index.user_connections(user_id) {
      index.leave_all(&conn, true);
    }
  }

  /// Adds every connection matching `filter` (all when `None`) to each group.
  pub fn add_matching_to_groups(&self, groups: &[String], filter: Option<&Filter>) {
    let mut index = self.index.write().unwrap();
    let conns = matching(&index, filter);
    for conn in &conns {
      for group in groups {
        index.join(conn, group);
      }
    }
  }

  /// Removes every connection matching `filter` (all when `None`) from each group.
  pub fn remove_matching_from_groups(&self, groups: &[String], filter: Option<&Filter>) {
    let mut index = self.index.write().unwrap();
    let conns = matching(&index, filter);
    for conn in &conns {
      for group in groups {
        index.leave(conn, group);
      }
    }
  }

  /// Up to `limit` members of a group with ids greater than `after`, in id order, and whether
  /// more members follow.
  pub fn list_group(
    &self,
    group: &str,
    after: Option<&str>,
    limit: usize,
  ) -> (Vec<GroupMember>, bool) {
    let index = self.index.read().unwrap();
    let Some(members) = index.groups.get(group) else {
      return (Vec::new(), false);
    };
    let mut ids = match after {
      Some(after) => {
        members.range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
      }
      None => members.range::<str, _>(..),
    };
    let page = ids
      .by_ref()
      .take(limit)
      .map(|id| GroupMember {
        connection_id: id.clone(),
        user_id: index.connections.get(id).and_then(|c| c.user_id.clone()),
      })
      .collect();
    (page, ids.next().is_some())
  }

  /// Delivers to every selected connection of the hub; returns how many accepted the message.
  pub fn send_to_all(&self, msg: &Arc<DataMessage>, selection: Selection<'_>) -> usize {
    let index = self.index.read().unwrap();
    deliver_all(index.connections.values(), msg, selection, None)
  }

  /// Delivers to the group's selected members; those left [congested](Connection::congested) are
  /// added to `congested` when given.
  pub fn send_to_group(
    &self,
    group: &str,
    msg: &Arc<DataMessage>,
    selection: Selection<'_>,
    congested: Option<&mut Vec<Arc<Connection>>>,
  ) -> usize {
    let index = self.index.read().unwrap();
    let Some(members) = index.groups.get(group) else {
      return 0;
    };
    deliver_all(
      members.iter().filter_map(|id| index.connections.get(id)),
      msg,
      selection,
      congested,
    )
  }

  pub fn send_to_user(
    &self,
    user_id: &str,
    msg: &Arc<DataMessage>,
    selection: Selection<'_>,
  ) -> usize {
    let index = self.index.read().unwrap();
    let Some(ids) = index.users.get(user_id) else {
      return 0;
    };
    deliver_all(
      ids.iter().filter_map(|id| index.connections.get(id)),
      msg,
      selection,
      None,
    )
  }

  pub fn send_to_connection(&self, id: &str, msg: &Arc<DataMessage>) -> bool {
    self
      .connection(id)
      .is_some_and(|conn| conn.deliver(Outbound::Data(msg.clone())))
  }

  /// Closes one connection and removes it from the hub at once, so exists checks answer 404
  /// right after the REST call; false when it did not exist.
  pub fn close_connection(&self, id: &str, reason: &str) -> bool {
    match self.remove_connection(id) {
      Some(conn) => {
        conn.close(CLOSE_NORMAL, reason);
        true
      }
      None => false,
    }
  }

  /// Closes every connection except the excluded ones.
  pub fn close_all(&self, excluded: &[String], reason: &str) {
    let ids: Vec<String> = self
      .index
      .read()
      .unwrap()
      .connections
      .keys()
      .cloned()
      .collect();
    self.close_ids(ids, excluded, reason);
  }

  pub fn close_group(&self, group: &str, excluded: &[String], reason: &str) {
    let ids: Vec<String> = self
      .index
      .read()
      .unwrap()
      .groups
      .get(group)
      .map(|members| members.iter().cloned().collect())
      .unwrap_or_default();
    self.close_ids(ids, excluded, reason);
  }

  pub fn close_user(&self, user_id: &str, excluded: &[String], reason: &str) {
    let ids: Vec<String> = self
      .index
      .read()
      .unwrap()
      .users
      .get(user_id)
      .map(|ids| ids.iter().cloned().collect())
      .unwrap_or_default();
    self.close_ids(ids, excluded, reason);
  }

  fn close_ids(&self, ids: Vec<String>, excluded: &[String], reason: &str) {
    for id in ids.iter().filter(|id| !excluded.contains(id)) {
      self.close_connection(id, reason);
    }
  }
}

fn matching(index: &HubIndex, filter: Option<&Filter>) -> Vec<Arc<Connection>> {
  index
    .connections
    .values()
    .filter(|conn| filter.is_none_or(|f| f.matches(conn.as_ref())))
    .cloned()
    .collect()
}

/// Queues `msg` for every selected connection; returns how many took it. Recipients left congested
/// are collected only for a caller that asks (a client's send, which waits for them).
fn deliver_all<'a>(
  conns: impl Iterator<Item = &'a Arc<Connection>>,
  msg: &Arc<DataMessage>,
  selection: Selection<'_>,
  mut congested: Option<&mut Vec<Arc<Connection>>>,
) -> usize {
  let mut delivered = 0;
  for conn in conns.filter(|conn| selection.selects(conn)) {
    if conn.deliver(Outbound::Data(msg.clone())) {
      delivered += 1;
      if let Some(congested) = congested.as_deref_mut().filter(|_| conn.congested()) {
        congested.push(conn.clone());
      }
    }
  }
  delivered
}

/// What a connection's WebSocket task receives.
#[derive(Debug, Clone)]
pub enum Outbound {
  Data(Arc<DataMessage>),
  /// Close the connection: JSON protocols first get `system/disconnected` with the reason.
  Close {
    code: u16,
    reason: String,
  },
}

impl Outbound {
  /// The payload bytes the item holds in a queue.
  fn size(&self) -> usize {
    match self {
      Outbound::Data(msg) => msg.data.len(),
      Outbound::Close { .. } => 0,
    }
  }
}

/// Where a message came from, as JSON subprotocol clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSource {
  Server,
  Group {
    group: String,
    from_user_id: Option<String>,
  },
}

/// One message fanned out to many connections; shared, never copied per receiver.
#[derive(Debug)]
pub struct DataMessage {
  pub kind: ContentKind,
  pub data: Bytes,
  pub source: MessageSource,
  /// Per-message metadata (`X-WebPubSub-Metadata-*` or client `metadata`), keys lower-cased.
  pub metadata: Vec<(String, String)>,
  /// The sending connection's id, for client messages.
  pub sender: Option<String>,
  /// The `json.webpubsub.azure.v1` frame of this message, serialized once by the first JSON
  /// receiver and shared by the rest (filled by the WebSocket side).
  pub json_frame: OnceLock<Utf8Bytes>,
  /// The text frame raw clients get for a text or JSON payload, checked as UTF-8 once.
  pub raw_text: OnceLock<Utf8Bytes>,
  /// The protobuf subprotocols' frame of this message (without a sequence id), encoded once.
  pub protobuf_frame: OnceLock<Bytes>,
  /// When the message expires (`messageTtlSeconds` / `ttlSeconds`): a receiver that has not taken it
  /// by then never gets it.
  pub expires_at: Option<Instant>,
  /// Set when the message is a fragment (or the end) of a group stream.
  pub stream: Option<StreamInfo>,
  /// Set when an MQTT client published the message: its QoS and MQTT 5 properties, which reach
  /// MQTT receivers (other protocols see only its payload kind and expiry).
  pub mqtt: Option<Box<MqttOrigin>>,
}

/// What an MQTT publication carries beyond its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttOrigin {
  pub qos: u8,
  pub properties: crate::mqtt::packet::PublishProperties,
}

/// Where a message stands in a group stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
  pub stream_id: String,
  /// 1, 2, … as the writer numbered the fragments.
  pub sequence_id: u64,
  /// The stream's last message.
  pub end: bool,
  /// Why the stream ended, when it did not end normally.
  pub error: Option<StreamError>,
}

/// The error a stream ended with: the writer's (`UserError`) or the service's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
  pub name: String,
  pub message: String,
  pub user_error_code: Option<String>,
}

impl DataMessage {
  pub fn new(kind: ContentKind, data: Bytes, source: MessageSource) -> Self {
    DataMessage {
      kind,
      data,
      source,
      metadata: Vec::new(),
      sender: None,
      json_frame: OnceLock::new(),
      raw_text: OnceLock::new(),
      protobuf_frame: OnceLock::new(),
      expires_at: None,
      stream: None,
      mqtt: None,
    }
  }

  pub fn with_stream(mut self, stream: StreamInfo) -> Self {
    self.stream = Some(stream);
    self
  }

  /// Expires the message `seconds` from now; 0 means never.
  pub fn with_ttl_seconds(mut self, seconds: u64) -> Self {
    self.expires_at = (seconds > 0).then(|| Instant::now() + Duration::from_secs(seconds));
    self
  }

  pub fn is_expired(&self) -> bool {
    self
      .expires_at
      .is_some_and(|expiry| expiry <= Instant::now())
  }

  pub fn with_metadata(mut self, metadata: Vec<(String, String)>) -> Self {
    self.metadata = metadata;
    self
  }

  pub fn with_mqtt(mut self, origin: MqttOrigin) -> Self {
    self.mqtt = Some(Box::new(origin));
    self
  }

  pub fn with_sender(mut self, sender: String) -> Self {
    self.sender = Some(sender);
    self
  }
}

/// What a new connection is made of; fields beyond these are set by the hub state.
pub struct ConnectionInit {
  /// Most payload bytes waiting in the connection's outbound queue.
  pub max_queued_bytes: usize,
  pub id: String,
  /// The hub's lower-cased name.
  pub hub: String,
  pub user_id: Option<String>,
  /// Negotiated subprotocol; `None` for raw clients.
  pub protocol: Option<String>,
  pub roles: Roles,
}

/// One client connection as the hub sees it.
pub struct Connection {
  pub id: String,
  pub hub: String,
  pub user_id: Option<String>,
  pub protocol: Option<String>,
  pub roles: Roles,
  /// Runtime grants and revocations from the REST permission API.
  pub grants: Mutex<PermissionGrants>,
  /// Groups this connection is in; written only under the hub's write lock.
  groups: Mutex<HashSet<String>>,
  outbound: mpsc::Sender<Outbound>,
  /// Payload bytes of the data messages in `outbound`.
  queued_bytes: AtomicUsize,
  max_queued_bytes: usize,
  /// Items the connection's task took off its queue so far.
  taken: AtomicU64,
  /// Set while a sender waits for this connection's queue to drain below its high-water mark.
  watched: AtomicBool,
  drained: Notify,
  /// Set once when the service closes the connection; the first close wins.
  close_status: OnceLock<(u16, String)>,
  /// Cancelled when the close could not be queued (full queue): the task must close now.
  close_now: CancellationToken,
  /// The connection's upstream events, set once when its hub has event handlers.
  pub upstream: OnceLock<crate::events::ConnectionEvents>,
  /// Woken when the service asks the connection to close (see [`Connection::close_requested`]).
  close_requested: Notify,
}

impl Connection {
  /// A connection and the receiving end of its outbound queue.
  pub fn new(init: ConnectionInit) -> (Arc<Connection>, mpsc::Receiver<Outbound>) {
    let (outbound, receiver) = mpsc::channel(OUTBOUND_QUEUE_CAPACITY);
    let conn = Connection {
      id: init.id,
      hub: init.hub,
      user_id: init.user_id,
      protocol: init.protocol,
      roles: init.roles,
      grants: Mutex::new(PermissionGrants::default()),
      groups: Mutex::new(HashSet::new()),
      outbound,
      queued_bytes: AtomicUsize::new(0),
      max_queued_bytes: init.max_queued_bytes,
      taken: AtomicU64::new(0),
      watched: AtomicBool::new(false),
      drained: Notify::new(),
      close_status: OnceLock::new(),
      close_now: CancellationToken::new(),
      upstream: OnceLock::new(),
      close_requested: Notify::new(),
    };
    (Arc::new(conn), receiver)
  }

  /// Queues without waiting. A full queue closes this connection with 1008; false when the
  /// item was not queued (full, or the task is gone).
  pub fn deliver(&self, item: Outbound) -> bool {
    let size = item.size();
    if size > 0 {
      let queued = self.queued_bytes.fetch_add(size, Ordering::Relaxed) + size;
      if queued > self.max_queued_bytes {
        self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
        self.close_immediately(
          CLOSE_POLICY_VIOLATION,
          &format!(
            "SlowClient: more than {} bytes of messages are waiting for the client to read them.",
            self.max_queued_bytes
          ),
        );
        return false;
      }
    }
    let sent = self.outbound.try_send(item);
    if sent.is_err() {
      self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
    }
    match sent {
      Ok(()) => true,
      Err(mpsc::error::TrySendError::Full(_)) => {
        self.close(
          CLOSE_POLICY_VIOLATION,
          "The outbound message queue is full.",
        );
        false
      }
      Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
  }

  /// Notes that the connection's task took an item off its queue.
  pub fn took(&self, item: &Outbound) {
    self.queued_bytes.fetch_sub(item.size(), Ordering::Relaxed);
    self.taken.fetch_add(1, Ordering::Relaxed);
    if self.watched.load(Ordering::SeqCst) && !self.congested() {
      self.watched.store(false, Ordering::SeqCst);
      self.drained.notify_waiters();
    }
  }

  /// Whether the queue holds more than half of what it may (by count or bytes) while the task still
  /// reads it: senders to this connection should wait before sending more.
  pub fn congested(&self) -> bool {
    let capacity = self.outbound.max_capacity();
    let queued = capacity - self.outbound.capacity();
    !self.outbound.is_closed()
      && (queued > capacity / 2
        || self.queued_bytes.load(Ordering::Relaxed) > self.max_queued_bytes / 2)
  }

  /// How many items the connection's task took off its queue so far.
  pub fn taken(&self) -> u64 {
    self.taken.load(Ordering::Relaxed)
  }

  /// Completes once the queue is no longer [congested](Connection::congested).
  pub async fn drained(&self) {
    let notified = self.drained.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    self.watched.store(true, Ordering::SeqCst);
    if self.congested() {
      notified.await;
    }
  }

  /// Closes the connection now, without waiting for what is queued (which is dropped).
  pub fn close_immediately(&self, code: u16, reason: &str) {
    if self.close_status.set((code, reason.to_owned())).is_ok() {
      self.close_now.cancel();
      self.close_requested.notify_waiters();
    }
  }

  /// Completes once the service asked the connection to close, immediately or behind its queue:
  /// for a task that is not reading the queue (an MQTT session waiting for its client).
  pub async fn close_requested(&self) {
    let notified = self.close_requested.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    if self.close_status.get().is_none() {
      notified.await;
    }
  }

  /// Asks the connection's task to close. Queued behind pending messages when possible,
  /// otherwise signalled through [`Connection::closed_by_service`] at once.
  pub fn close(&self, code: u16, reason: &str) {
    if self.close_status.set((code, reason.to_owned())).is_err() {
      return;
    }
    self.close_requested.notify_waiters();
    let queued = self
      .outbound
      .try_send(Outbound::Close {
        code,
        reason: reason.to_owned(),
      })
      .is_ok();
    if !queued {
      self.close_now.cancel();
    }
  }

  /// The close the service asked for, if any. A closed reliable connection is not recoverable.
  pub fn close_status(&self) -> Option<&(u16, String)> {
    self.close_status.get()
  }

  /// Completes when the task must close immediately with [`Connection::close_status`].
  pub fn closed_by_service(&self) -> &CancellationToken {
    &self.close_now
  }

  /// Whether the connection may join/leave or send to `group` (token roles, then REST grants).
  pub fn allows(&self, action: GroupAction, group: &str) -> bool {
    crate::roles::allows(&self.roles, &self.grants.lock().unwrap(), action, group)
  }

  pub fn in_group(&self, group: &str) -> bool {
    self.groups.lock().unwrap().contains(group)
  }

  /// The groups the connection is in, sorted.
  pub fn groups(&self) -> Vec<String> {
    let mut groups: Vec<String> = self.groups.lock().unwrap().iter().cloned().collect();
    groups.sort();
    groups
  }

  fn membership_changed(&self, group: &str, joined: bool) {
    if let Some(upstream) = self.upstream.get() {
      upstream.membership_changed(group, joined);
    }
  }
}

impl std::fmt::Debug for Connection {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Connection")
      .field("id", &self.id)
      .field("hub", &self.hub)
      .field("user_id", &self.user_id)
      .field("protocol", &self.protocol)
      .finish_non_exhaustive()
  }
}

/// Everything the REST routes and the WebSocket endpoint share.
pub struct EmulatorState {
  pub hubs: Hubs,
  pub config: crate::config::EmulatorConfig,
  /// Signs and verifies REST and client tokens with the access key.
  pub signing_key: webpubsub_protocol::jwt::SigningKey,
  /// Cancelled on shutdown: WebSocket tasks send close 1001 and end.
  pub shutdown: CancellationToken,
  /// Cancelled when shutdown's grace period is over: whatever is still open is dropped.
  pub hard_stop: CancellationToken,
  /// Tracks WebSocket tasks so shutdown can wait for them.
  pub tasks: tokio_util::task::TaskTracker,
  /// Reliable connections that a recovering client can resume (owned by the WebSocket endpoint).
  pub recovery: crate::ws::recovery::RecoverySessions,
  /// MQTT sessions waiting to be resumed.
  pub mqtt_sessions: crate::mqtt::resume::Sessions,
  /// Delivers client events to the configured event handlers.
  pub events: Arc<crate::events::Dispatcher>,
  /// The live trace of everything that happens.
  pub tracer: Arc<crate::trace::Tracer>,
}

impl EmulatorState {
  pub fn new(config: crate::config::EmulatorConfig) -> Arc<Self> {
    let signing_key = webpubsub_protocol::jwt::SigningKey::new(&config.access_key);
    let tracer = Arc::new(crate::trace::Tracer::new(config.trace_capacity));
    let events = crate::events::Dispatcher::new(
      config.event_handlers.clone(),
      &config.access_key,
      tracer.clone(),
    );
    Arc::new(EmulatorState {
      hubs: Hubs::default(),
      config,
      signing_key,
      shutdown: CancellationToken::new(),
      hard_stop: CancellationToken::new(),
      tasks: tokio_util::task::TaskTracker::new(),
      recovery: crate::ws::recovery::RecoverySessions::default(),
      mqtt_sessions: crate::mqtt::resume::Sessions::default(),
      events: Arc::new(events),
      tracer,
    })
  }
}

/// The state handle that axum handlers extract.
pub type SharedState = Arc<EmulatorState>;

impl FilterSubject for Connection {
  fn connection_id(&self) -> &str {
    &self.id
  }

  fn user_id(&self) -> Option<&str> {
    self.user_id.as_deref()
  }

  fn protocol(&self) -> Option<&str> {
    self.protocol.as_deref()
  }

  fn in_group(&self, group: &str) -> bool {
    Connection::in_group(self, group)
  }

  fn group_count(&self) -> usize {
    self.groups.lock().unwrap().len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn connection(id: &str, user: Option<&str>) -> (Arc<Connection>, mpsc::Receiver<Outbound>) {
    Connection::new(ConnectionInit {
      max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
      id: id.to_owned(),
      hub: "hub".to_owned(),
      user_id: user.map(str::to_owned),
      protocol: None,
      roles: Roles::default(),
    })
  }

  fn message() -> Arc<DataMessage> {
    Arc::new(DataMessage::new(
      ContentKind::Text,
      Bytes::from_static(b"x"),
      MessageSource::Server,
    ))
  }

  #[test]
  fn a_full_queue_closes_the_connection_with_1008_without_blocking() {
    let (conn, _rx) = connection("c", None);
    for _ in 0..OUTBOUND_QUEUE_CAPACITY {
      assert!(conn.deliver(Outbound::Data(message())));
    }
    assert!(!conn.deliver(Outbound::Data(message())));
    assert_eq!(
      conn.close_status().map(|(code, _)| *code),
      Some(CLOSE_POLICY_VIOLATION)
    );
    assert!(conn.closed_by_service().is_cancelled());
  }

  #[test]
  fn queued_bytes_are_bounded_and_given_back_when_taken() {
    let (conn, mut rx) = Connection::new(ConnectionInit {
      max_queued_bytes: 10,
      id: "c".to_owned(),
      hub: "hub".to_owned(),
      user_id: None,
      protocol: None,
      roles: Roles::default(),
    });
    let sized = |n: usize| {
      Outbound::Data(Arc::new(DataMessage::new(
        ContentKind::Binary,
        Bytes::from(vec![0; n]),
        MessageSource::Server,
      )))
    };
    assert!(conn.deliver(sized(6)));
    assert!(conn.deliver(sized(4)));
    conn.took(&rx.try_recv().unwrap());
    assert!(conn.deliver(sized(6)), "taking a message frees its bytes");
    assert!(!conn.deliver(sized(1)));
    let (code, reason) = conn.close_status().unwrap();
    assert_eq!(*code, CLOSE_POLICY_VIOLATION);
    assert!(reason.starts_with("SlowClient:"));
    assert!(
      conn.closed_by_service().is_cancelled(),
      "closed at once, not behind the queue"
    );
  }

  #[tokio::test]
  async fn a_queue_past_half_is_congested_until_its_task_takes_it_back_below() {
    let (conn, mut rx) = connection("c", None);
    for _ in 0..=OUTBOUND_QUEUE_CAPACITY / 2 {
      assert!(conn.deliver(Outbound::Data(message())));
    }
    assert!(conn.congested());
    let drained = tokio::spawn({
      let conn = conn.clone();
      async move { conn.drained().await }
    });
    tokio::task::yield_now().await;
    assert!(!drained.is_finished());
    conn.took(&rx.try_recv().unwrap());
    assert!(!conn.congested());
    drained.await.unwrap();
    assert_eq!(conn.taken(), 1);
    drop(rx);
    for _ in 0..OUTBOUND_QUEUE_CAPACITY {
      conn.deliver(Outbound::Data(message()));
    }
    assert!(
      !conn.congested(),
      "a connection whose task is gone holds nobody back"
    );
  }

  #[test]
  fn removing_the_last_connection_drops_its_groups_and_user() {
    let hubs = Hubs::default();
    let hub = hubs.hub("Hub");
    assert!(Arc::ptr_eq(&hub, &hubs.find("hUB").unwrap()));
    let (a, _rx_a) = connection("a", Some("u"));
    let (b, _rx_b) = connection("b", Some("u"));
    hub.add_connection(a);
    hub.add_connection(b);
    assert!(hub.join_group("a", "g") && hub.join_group("b", "g"));
    assert!(!hub.join_group("missing", "g"));
    hub.remove_connection("a");
    assert!(hub.group_exists("g") && hub.user_exists("u"));
    hub.remove_connection("b");
    assert!(!hub.group_exists("g") && !hub.user_exists("u"));
    assert_eq!(hub.list_group("g", None, 10), (Vec::new(), false));
  }

  #[test]
  fn fan_out_respects_excluded() {
    let hubs = Hubs::default();
    let hub = hubs.hub("hub");
    let (a, mut rx_a) = connection("a", None);
    let (b, mut rx_b) = connection("b", None);
    hub.add_connection(a);
    hub.add_connection(b);
    let excluded = vec!["b".to_owned()];
    let selection = Selection {
      excluded: &excluded,
      filter: None,
    };
    assert_eq!(hub.send_to_all(&message(), selection), 1);
    assert!(matches!(rx_a.try_recv(), Ok(Outbound::Data(_))));
    assert!(rx_b.try_recv().is_err());
  }
}
