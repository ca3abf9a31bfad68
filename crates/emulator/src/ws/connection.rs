//! The task behind one logical client connection: it writes queued messages to the WebSocket in the
//! client's protocol, runs the client's requests, and outlives dropped transports of reliable clients
//! until they recover or the recovery window ends. Everything protocol-specific is the connection's
//! [`Codec`]; this task is the same for every protocol.

use std::borrow::Cow;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::ws::socket::{CloseFrame, Error as SocketError, Frame, Message, WebSocket};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::auth::now_seconds;
use crate::roles::GroupAction;
use crate::state::{
  Connection, DataMessage, EmulatorState, Hub, MessageSource, Outbound, Selection, SharedState,
  StreamError, StreamInfo,
};
use crate::trace::{Category, Level, TraceRecord};
use crate::ws::backpressure::Backpressure;
use crate::ws::codec::{AckErrorName, Codec, Payload, Rejection, Reply, Request};
use crate::ws::events::{self, UserEvent};
use crate::ws::invocations::{Answer, Invocations};
use crate::ws::recovery::{reconnection_token, RECOVERY_WINDOW};
use crate::ws::reliable::ReliableBuffer;
use crate::ws::streams::{Ended, Fragment, Streams};
use crate::ws::MAX_CLIENT_MESSAGE_BYTES;

/// Close codes the endpoint sends besides the ones in [`crate::state`].
pub mod close_code {
  pub const GOING_AWAY: u16 = 1001;
  pub const UNSUPPORTED_DATA: u16 = 1003;
  pub const INVALID_PAYLOAD: u16 = 1007;
  pub const POLICY_VIOLATION: u16 = 1008;
  pub const MESSAGE_TOO_BIG: u16 = 1009;
  pub const INTERNAL_ERROR: u16 = 1011;
}

/// The error name of a failed invocation (the handler failed, is missing, or the invocation was refused).
const INVOCATION_ERROR: &str = "InternalServerError";

/// How long the endpoint waits for a peer to take its last frames before dropping the socket.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// Most bytes of a close frame's reason.
const MAX_CLOSE_REASON_BYTES: usize = 123;

/// Most queued messages written as one batch before the socket is flushed and the task looks at the
/// client's frames again.
const MAX_BATCH_MESSAGES: usize = 64;

/// Everything one logical connection's task owns.
pub struct Session {
  state: SharedState,
  hub: Arc<Hub>,
  conn: Arc<Connection>,
  outbound: mpsc::Receiver<Outbound>,
  codec: Box<dyn Codec>,
  /// Sequence ids and unacknowledged frames of a reliable protocol.
  reliable: Option<Box<ReliableBuffer>>,
  /// Ack ids of requests that succeeded, for `Duplicate` answers.
  processed_acks: HashSet<u64>,
  /// New transports of a reliable connection, from recovery requests.
  transports: Option<mpsc::Receiver<Box<WebSocket>>>,
  /// A new transport that arrived while a write to the old one was waiting on its peer.
  replacement: Option<Box<WebSocket>>,
  /// `invoke` requests waiting for the event handler.
  invocations: Invocations,
  /// The group streams this connection writes.
  streams: Streams,
  /// Recipients of this connection's group sends that are slow to take them.
  backpressure: Backpressure,
  stop: Stop,
}

/// Completes when the task must stop waiting on its socket: the emulator shuts down or the service
/// closes the connection. It is polled for every message written, so it watches shutdown through a
/// child token of its own (checking a token locks its node: the shared one would be a lock every
/// connection contends for) and keeps its futures for the task's life instead of registering and
/// dropping a waiter per message.
struct Stop {
  shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
  closed_by_service: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Stop {
  fn new(state: &EmulatorState, conn: &Connection) -> Self {
    Stop {
      shutdown: Box::pin(state.shutdown.child_token().cancelled_owned()),
      closed_by_service: Box::pin(conn.closed_by_service().clone().cancelled_owned()),
    }
  }

  /// Shutdown wins when both happened.
  async fn wait(&mut self) -> Wake {
    tokio::select! {
      biased;
      _ = self.shutdown.as_mut() => Wake::Shutdown,
      _ = self.closed_by_service.as_mut() => Wake::ClosedByService,
    }
  }
}

/// How a connection ends.
enum Ending {
  /// The service closes the connection; JSON clients first get `system/disconnected` when `notify`.
  Close {
    code: u16,
    reason: Cow<'static, str>,
    notify: bool,
  },
  /// The client closed the connection, or (`aborted`) the transport is gone for good.
  Gone { aborted: bool },
}

impl Ending {
  fn close(code: u16, reason: impl Into<Cow<'static, str>>) -> Self {
    Ending::Close {
      code,
      reason: reason.into(),
      notify: false,
    }
  }

  fn rejected(rejection: Rejection) -> Self {
    Ending::close(rejection.code, rejection.reason)
  }
}

/// What woke the task up.
enum Wake {
  Shutdown,
  ClosedByService,
  Outbound(Option<Outbound>),
  Frame(Option<Result<Message, SocketError>>),
  Transport(Option<Box<WebSocket>>),
  RecoveryExpired,
  Invoked(String, Answer),
  StreamsIdle,
  /// The recipients that held back the client's frames took their messages (or stalled).
  Eased,
}

/// The result of writing one frame.
enum Sent {
  Ok,
  /// The transport is broken.
  Failed,
  /// Shutdown or a service close interrupted a write the peer did not take.
  Interrupted,
}

impl Session {
  pub fn new(
    state: SharedState,
    hub: Arc<Hub>,
    conn: Arc<Connection>,
    outbound: mpsc::Receiver<Outbound>,
    codec: Box<dyn Codec>,
    reliable: bool,
  ) -> Self {
    Session {
      stop: Stop::new(&state, &conn),
      state,
      hub,
      conn,
      outbound,
      codec,
      reliable: reliable.then(|| Box::new(ReliableBuffer::new())),
      processed_acks: HashSet::new(),
      transports: None,
      replacement: None,
      invocations: Invocations::default(),
      streams: Streams::default(),
      backpressure: Backpressure::default(),
    }
  }

  /// Serves the connection until it ends, then removes it from the hub.
  pub async fn run(mut self, socket: WebSocket) {
    if self.reliable.is_some() {
      self.transports = Some(self.state.recovery.register(&self.conn.id));
    }
    let mut socket = Some(socket);
    let mut recovery_deadline = None;
    let ending = self
      .send_connected(&mut socket, &mut recovery_deadline)
      .await;
    let ending = match ending {
      Some(ending) => ending,
      None => self.serve(&mut socket, &mut recovery_deadline).await,
    };
    self.finish(ending, socket).await;
  }

  async fn serve(
    &mut self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Ending {
    loop {
      let wake = match self.replacement.take() {
        Some(transport) => Wake::Transport(Some(transport)),
        None => self.next_wake(socket, *recovery_deadline).await,
      };
      let ending = match wake {
        Wake::Shutdown => Some(Ending::close(
          close_code::GOING_AWAY,
          "The emulator is shutting down.",
        )),
        Wake::ClosedByService => Some(self.service_close()),
        Wake::Outbound(Some(item)) => {
          self.conn.took(&item);
          self.write_queued(item, socket, recovery_deadline).await
        }
        Wake::Outbound(None) | Wake::Transport(None) | Wake::RecoveryExpired => {
          Some(Ending::Gone { aborted: true })
        }
        Wake::Frame(frame) => self.receive(frame, socket, recovery_deadline).await,
        Wake::StreamsIdle => self.expire_streams(socket, recovery_deadline).await,
        Wake::Eased => None,
        Wake::Invoked(id, answer) => {
          self
            .answer_invocation(&id, answer, socket, recovery_deadline)
            .await
        }
        Wake::Transport(Some(transport)) => {
          *socket = Some(*transport);
          *recovery_deadline = None;
          // The client learns its new reconnection token (and resumes its streams) from this.
          if let Some(ending) = self.send_connected(socket, recovery_deadline).await {
            return ending;
          }
          self.trace(
            Category::Connectivity,
            Level::Information,
            "ConnectionRecovered",
            "The reliable client resumed its connection on a new WebSocket.".to_owned(),
          );
          self.replay(socket, recovery_deadline).await
        }
      };
      if let Some(ending) = ending {
        return ending;
      }
    }
  }

  /// Waits for what the task does next. The client's frames are not read while recipients of what
  /// it sent are congested: a client that sends faster than its group reads feels it as TCP
  /// backpressure instead of getting the readers closed as slow clients.
  async fn next_wake(
    &mut self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: Option<Instant>,
  ) -> Wake {
    let reading = self.backpressure.is_clear();
    tokio::select! {
      biased;
      wake = self.stop.wait() => wake,
      item = self.outbound.recv() => Wake::Outbound(item),
      frame = next_frame(socket), if reading => Wake::Frame(frame),
      _ = self.backpressure.eased(), if !reading => Wake::Eased,
      transport = next_transport(&mut self.transports) => Wake::Transport(transport),
      (id, answer) = self.invocations.next() => Wake::Invoked(id, answer),
      _ = expiry(self.streams.next_deadline()) => Wake::StreamsIdle,
      _ = expiry(recovery_deadline) => Wake::RecoveryExpired,
    }
  }

  fn service_close(&self) -> Ending {
    let (code, reason) = self
      .conn
      .close_status()
      .cloned()
      .unwrap_or((close_code::POLICY_VIOLATION, String::new()));
    Ending::Close {
      code,
      reason: reason.into(),
      notify: true,
    }
  }

  /// Sends the `connected` system message, with a fresh reconnection token on reliable protocols.
  async fn send_connected(
    &mut self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let token = self
      .reliable
      .is_some()
      .then(|| reconnection_token(&self.state.signing_key, &self.conn.id, now_seconds()));
    let conn = self.conn.clone();
    let connected = Reply::Connected {
      connection_id: &conn.id,
      user_id: conn.user_id.as_deref(),
      reconnection_token: token.as_deref(),
    };
    self.reply(connected, socket, recovery_deadline).await
  }

  /// Writes a queued item and the ones already queued behind it (up to [`MAX_BATCH_MESSAGES`]) to
  /// the socket, then flushes once: one write for the batch instead of one per message. A close
  /// request ends the batch; the messages before it are flushed first. Messages whose TTL ran out
  /// while they waited are dropped.
  async fn write_queued(
    &mut self,
    first: Outbound,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let mut next = Some(first);
    let mut written = 0;
    let mut expired = 0;
    let ending = loop {
      let Some(item) = next.take() else {
        break None;
      };
      match item {
        Outbound::Close { code, reason } => {
          break Some(Ending::Close {
            code,
            reason: reason.into(),
            notify: true,
          })
        }
        Outbound::Data(msg) if msg.is_expired() => expired += 1,
        Outbound::Data(msg) => {
          let frame = match self.frame(&msg) {
            Ok(frame) => frame,
            Err(ending) => break Some(ending),
          };
          match self.feed(socket, frame).await {
            Sent::Ok => {}
            Sent::Interrupted => return None,
            Sent::Failed => return self.transport_lost(socket, recovery_deadline),
          }
          written += 1;
          if written == MAX_BATCH_MESSAGES {
            break None;
          }
        }
      }
      next = self.outbound.try_recv().ok();
      if let Some(item) = &next {
        self.conn.took(item);
      }
    };
    self.log_expired(expired);
    match self.flush(socket).await {
      Sent::Ok | Sent::Interrupted => ending,
      Sent::Failed => self.transport_lost(socket, recovery_deadline).or(ending),
    }
  }

  fn log_expired(&self, count: usize) {
    if count > 0 {
      eprintln!(
        "webpubsub-emulator: dropped {count} message(s) to connection {} of hub '{}': their TTL expired before the client took them",
        self.conn.id, self.conn.hub
      );
      self.trace(
        Category::Messaging,
        Level::Warning,
        "MessageExpired",
        format!("Dropped {count} message(s): their TTL expired before the client took them."),
      );
    }
  }

  /// Records something that happened on this connection in the live trace.
  fn trace(&self, category: Category, level: Level, event: &'static str, message: String) {
    self
      .state
      .tracer
      .record(self.record(category, level, event, message));
  }

  fn record(
    &self,
    category: Category,
    level: Level,
    event: &'static str,
    message: String,
  ) -> TraceRecord {
    TraceRecord::new(category, level, event, message).client(&self.conn)
  }

  fn trace_ending(&self, ending: &Ending) {
    let (level, event, message, exception) = match ending {
      Ending::Gone { aborted: false } => (
        Level::Information,
        "ConnectionEnded",
        "The client closed the connection.".to_owned(),
        None,
      ),
      Ending::Gone { aborted: true } => (
        Level::Warning,
        "ConnectionAborted",
        "The connection's transport was lost.".to_owned(),
        None,
      ),
      Ending::Close { code, reason, .. } => {
        let level = if *code == crate::state::CLOSE_NORMAL || *code == close_code::GOING_AWAY {
          Level::Information
        } else {
          Level::Warning
        };
        (
          level,
          "ConnectionEnded",
          format!("The service closed the connection with code {code}."),
          Some(reason.to_string()).filter(|reason| !reason.is_empty()),
        )
      }
    };
    let mut record = self.record(Category::Connectivity, level, event, message);
    record.exception = exception;
    self.state.tracer.record(record);
  }

  /// Writes one data message (an event handler's reply) in the connection's protocol.
  async fn deliver(
    &mut self,
    msg: &DataMessage,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let frame = match self.frame(msg) {
      Ok(frame) => frame,
      Err(ending) => return Some(ending),
    };
    match self.send(socket, frame).await {
      Sent::Ok | Sent::Interrupted => None,
      Sent::Failed => self.transport_lost(socket, recovery_deadline),
    }
  }

  /// A data message's frame in the connection's protocol; reliable clients get it buffered first,
  /// and a full buffer ends the connection.
  fn frame(&mut self, msg: &DataMessage) -> Result<Frame, Ending> {
    let codec = &self.codec;
    match &mut self.reliable {
      None => Ok(codec.data(msg, None)),
      Some(buffer) => buffer
        .push(msg.expires_at, |sequence_id| {
          codec.data(msg, Some(sequence_id))
        })
        .map_err(|full| Ending::Close {
          code: close_code::POLICY_VIOLATION,
          reason: full.to_string().into(),
          notify: true,
        }),
    }
  }

  /// Sends the unacknowledged, unexpired messages of a reliable connection on its new transport, in
  /// order.
  async fn replay(
    &mut self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let Some(buffer) = &mut self.reliable else {
      return None;
    };
    let expired = buffer.drop_expired(std::time::Instant::now());
    let frames: Vec<Frame> = buffer.unacked().cloned().collect();
    self.log_expired(expired);
    for frame in frames {
      match self.feed(socket, frame).await {
        Sent::Ok => {}
        Sent::Interrupted => return None,
        Sent::Failed => return self.transport_lost(socket, recovery_deadline),
      }
    }
    match self.flush(socket).await {
      Sent::Ok | Sent::Interrupted => None,
      Sent::Failed => self.transport_lost(socket, recovery_deadline),
    }
  }

  /// Handles what the transport produced: a client frame, its end, or an error.
  async fn receive(
    &mut self,
    frame: Option<Result<Message, SocketError>>,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    match frame {
      Some(Ok(Message::Close(_))) => Some(Ending::Gone { aborted: false }),
      Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
      Some(Ok(Message::Text(text))) if text.len() > MAX_CLIENT_MESSAGE_BYTES => Some(too_big()),
      Some(Ok(Message::Binary(bytes))) if bytes.len() > MAX_CLIENT_MESSAGE_BYTES => Some(too_big()),
      Some(Ok(message)) => self.on_message(message, socket, recovery_deadline).await,
      Some(Err(error)) if is_too_big(&error) => Some(too_big()),
      Some(Err(_)) | None => self.transport_lost(socket, recovery_deadline),
    }
  }

  async fn on_message(
    &mut self,
    message: Message,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    match self.codec.decode(message) {
      Ok(Some(request)) => self.on_request(request, socket, recovery_deadline).await,
      Ok(None) => None,
      Err(rejection) => Some(Ending::rejected(rejection)),
    }
  }

  async fn on_request(
    &mut self,
    request: Request,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let (ack_id, outcome) = match request {
      Request::Ping => return self.reply(Reply::Pong, socket, recovery_deadline).await,
      Request::SequenceAck { sequence_id } => {
        if let Some(buffer) = &mut self.reliable {
          buffer.ack(sequence_id);
        }
        return None;
      }
      Request::Invoke {
        invocation_id,
        event,
        payload,
      } => {
        let conn = self.conn.clone();
        let call = async move {
          let event = UserEvent {
            name: event,
            payload,
          };
          events::dispatch(&conn, event).await
        };
        let Err(refusal) = self.invocations.start(invocation_id.clone(), call) else {
          return None;
        };
        let reply = Reply::InvokeResponse {
          invocation_id: &invocation_id,
          result: Err((INVOCATION_ERROR, &refusal.to_string())),
        };
        return self.reply(reply, socket, recovery_deadline).await;
      }
      Request::CancelInvocation { invocation_id } => {
        self.invocations.cancel(&invocation_id);
        return None;
      }
      Request::StreamStart {
        group,
        no_echo,
        stream_id,
        idle_timeout_ms,
      } => {
        let started = if self.conn.allows(GroupAction::Send, &group) {
          self
            .streams
            .start(&stream_id, &group, no_echo, idle_timeout_ms, Instant::now())
            .map_err(|refusal| (refusal.name(), refusal.to_string()))
        } else {
          Err(("Forbidden", self.forbidden("send to", &group).1))
        };
        let (level, message) = match &started {
          Ok(()) => (
            Level::Information,
            "The client opened a group stream.".to_owned(),
          ),
          Err((_, why)) => (Level::Warning, format!("A group stream was refused: {why}")),
        };
        let mut record = self
          .record(Category::Messaging, level, "StreamStarted", message)
          .group(&group);
        record.stream_id = Some(stream_id.clone());
        self.state.tracer.record(record);
        let reply = match &started {
          Ok(()) => Reply::StreamAck {
            stream_id: &stream_id,
            expected: 1,
          },
          Err((name, message)) => Reply::StreamClosed {
            stream_id: &stream_id,
            error: Some((name, message)),
          },
        };
        return self.reply(reply, socket, recovery_deadline).await;
      }
      Request::StreamData {
        stream_id,
        fragment,
      } => {
        return self
          .stream_data(stream_id, fragment, socket, recovery_deadline)
          .await
      }
      Request::StreamEnd { stream_id, error } => {
        let Some(ended) = self.streams.end(&stream_id) else {
          return self
            .stream_not_found(&stream_id, socket, recovery_deadline)
            .await;
        };
        let error = error.map(|error| StreamError {
          name: "UserError".to_owned(),
          message: error
            .message
            .unwrap_or_else(|| "The writer aborted the stream.".to_owned()),
          user_error_code: error.user_error_code,
        });
        self.publish_end(&ended, error);
        let reply = Reply::StreamClosed {
          stream_id: &stream_id,
          error: None,
        };
        return self.reply(reply, socket, recovery_deadline).await;
      }
      Request::JoinGroup { ack_id, .. }
      | Request::LeaveGroup { ack_id, .. }
      | Request::SendToGroup { ack_id, .. }
      | Request::Event { ack_id, .. }
        if ack_id.is_some_and(|id| self.processed_acks.contains(&id)) =>
      {
        (
          ack_id,
          Err((AckErrorName::Duplicate, duplicate_message(ack_id))),
        )
      }
      Request::JoinGroup { group, ack_id } => (ack_id, self.join_or_leave(group, true)),
      Request::LeaveGroup { group, ack_id } => (ack_id, self.join_or_leave(group, false)),
      Request::SendToGroup {
        group,
        ack_id,
        no_echo,
        payload,
        ttl_seconds,
      } => {
        let outcome = if self.conn.allows(GroupAction::Send, &group) {
          self.publish(group, no_echo, payload, ttl_seconds.unwrap_or(0), None);
          Ok(())
        } else {
          Err(self.forbidden("send to", &group))
        };
        (ack_id, outcome)
      }
      Request::Event {
        event,
        ack_id,
        payload,
      } => {
        let event = UserEvent {
          name: event,
          payload,
        };
        match events::dispatch(&self.conn, event).await {
          Ok(reply) => {
            // The reply reaches the client before the ack.
            if let Some(reply) = reply {
              if let Some(ending) = self.deliver(&reply, socket, recovery_deadline).await {
                return Some(ending);
              }
            }
            (ack_id, Ok(()))
          }
          Err(_) if ack_id.is_none() => {
            return self
              .codec
              .unacknowledged_event_failure()
              .map(Ending::rejected)
          }
          Err(error) => (
            ack_id,
            Err((AckErrorName::InternalServerError, error.to_string())),
          ),
        }
      }
    };
    let ack_id = ack_id?;
    let error = match &outcome {
      Ok(()) => {
        self.processed_acks.insert(ack_id);
        None
      }
      Err((name, message)) => Some((*name, message.as_str())),
    };
    let reply = Reply::Ack { ack_id, error };
    self.reply(reply, socket, recovery_deadline).await
  }

  /// A fragment or keepalive of one of this connection's streams.
  async fn stream_data(
    &mut self,
    stream_id: String,
    fragment: Option<(u64, Payload)>,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let sequence_id = fragment.as_ref().map(|(id, _)| *id);
    let outcome = self.streams.data(&stream_id, sequence_id, Instant::now());
    let reply = match outcome {
      Fragment::KeepAlive => return None,
      Fragment::NotFound => {
        return self
          .stream_not_found(&stream_id, socket, recovery_deadline)
          .await
      }
      Fragment::Publish {
        group,
        no_echo,
        expected,
      } => {
        if let Some((sequence_id, payload)) = fragment {
          let info = StreamInfo {
            stream_id: stream_id.clone(),
            sequence_id,
            end: false,
            error: None,
          };
          self.publish(group, no_echo, payload, 0, Some(info));
        }
        Reply::StreamAck {
          stream_id: &stream_id,
          expected,
        }
      }
      Fragment::Duplicate { expected } => Reply::StreamAck {
        stream_id: &stream_id,
        expected,
      },
      Fragment::Gap { expected } => Reply::StreamNack {
        stream_id: &stream_id,
        name: "InvalidSequenceId",
        message: "The fragment is out of order: resend from the expected sequence id.",
        expected,
      },
    };
    self.reply(reply, socket, recovery_deadline).await
  }

  async fn stream_not_found(
    &mut self,
    stream_id: &str,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let reply = Reply::StreamClosed {
      stream_id,
      error: Some(("StreamNotFound", "No stream with this id is open.")),
    };
    self.reply(reply, socket, recovery_deadline).await
  }

  /// Ends the streams that stayed idle past their timeout, for their subscribers and their writer.
  async fn expire_streams(
    &mut self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    const MESSAGE: &str = "The stream received no data within its idle timeout.";
    for ended in self.streams.expire(Instant::now()) {
      let error = StreamError {
        name: "IdleTimeout".to_owned(),
        message: MESSAGE.to_owned(),
        user_error_code: None,
      };
      self.publish_end(&ended, Some(error));
      let reply = Reply::StreamClosed {
        stream_id: &ended.stream_id,
        error: Some(("IdleTimeout", MESSAGE)),
      };
      if let Some(ending) = self.reply(reply, socket, recovery_deadline).await {
        return Some(ending);
      }
    }
    None
  }

  /// The last message of a stream: no payload, `endOfStream`, and the error it ended with.
  fn publish_end(&mut self, ended: &Ended, error: Option<StreamError>) {
    let (level, message) = match &error {
      None => (Level::Information, "The group stream ended.".to_owned()),
      Some(error) => (
        Level::Warning,
        format!(
          "The group stream ended with {}: {}",
          error.name, error.message
        ),
      ),
    };
    let payload = Payload {
      kind: webpubsub_protocol::payload::ContentKind::Text,
      data: bytes::Bytes::new(),
      metadata: Vec::new(),
    };
    let info = StreamInfo {
      stream_id: ended.stream_id.clone(),
      sequence_id: ended.next_sequence_id,
      end: true,
      error,
    };
    self.publish(ended.group.clone(), ended.no_echo, payload, 0, Some(info));
    let mut record = self
      .record(Category::Messaging, level, "StreamEnded", message)
      .group(&ended.group);
    record.stream_id = Some(ended.stream_id.clone());
    self.state.tracer.record(record);
  }

  /// Sends the event handler's answer to an invocation.
  async fn answer_invocation(
    &mut self,
    invocation_id: &str,
    answer: Answer,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let failure;
    let result = match &answer {
      Ok(message) => Ok(message.as_deref()),
      Err(error) => {
        failure = error.to_string();
        Err((INVOCATION_ERROR, failure.as_str()))
      }
    };
    let reply = Reply::InvokeResponse {
      invocation_id,
      result,
    };
    self.reply(reply, socket, recovery_deadline).await
  }

  fn join_or_leave(&self, group: String, join: bool) -> Result<(), (AckErrorName, String)> {
    if !self.conn.allows(GroupAction::JoinLeave, &group) {
      let action = if join { "join" } else { "leave" };
      return Err(self.forbidden(action, &group));
    }
    let (event, message) = if join {
      self.hub.join_group(&self.conn.id, &group);
      ("GroupJoined", "The client joined a group.")
    } else {
      self.hub.leave_group(&self.conn.id, &group);
      ("GroupLeft", "The client left a group.")
    };
    let record = self
      .record(
        Category::Connectivity,
        Level::Information,
        event,
        message.to_owned(),
      )
      .group(&group);
    self.state.tracer.record(record);
    Ok(())
  }

  /// A refused request, traced.
  fn forbidden(&self, action: &str, group: &str) -> (AckErrorName, String) {
    let message = forbidden_message(action, group);
    let record = self
      .record(
        Category::Messaging,
        Level::Warning,
        "PermissionDenied",
        message.clone(),
      )
      .group(group);
    self.state.tracer.record(record);
    (AckErrorName::Forbidden, message)
  }

  /// Publishes a client's payload to a group (the sender need not be a member).
  fn publish(
    &mut self,
    group: String,
    no_echo: bool,
    payload: Payload,
    ttl_seconds: u64,
    stream: Option<StreamInfo>,
  ) {
    let source = MessageSource::Group {
      group: group.clone(),
      from_user_id: self.conn.user_id.clone(),
    };
    let mut msg = DataMessage::new(payload.kind, payload.data, source)
      .with_metadata(payload.metadata)
      .with_sender(self.conn.id.clone())
      .with_ttl_seconds(ttl_seconds);
    if let Some(stream) = stream {
      msg = msg.with_stream(stream);
    }
    let msg = Arc::new(msg);
    let myself = [self.conn.id.clone()];
    let excluded: &[String] = if no_echo { &myself } else { &[] };
    let mut congested = Vec::new();
    let recipients = self.hub.send_to_group(
      &group,
      &msg,
      Selection {
        excluded,
        filter: None,
      },
      Some(&mut congested),
    );
    // The sender's own queue is written by this task, which never waits for itself.
    congested.retain(|conn| !Arc::ptr_eq(conn, &self.conn));
    self.backpressure.hold(congested);
    let mut record = self
      .record(
        Category::Messaging,
        Level::Information,
        "GroupMessageSent",
        format!("The client sent a message to group '{group}'."),
      )
      .group(&group)
      .delivery(msg.kind.content_type(), msg.data.len(), recipients);
    record.stream_id = msg.stream.as_ref().map(|stream| stream.stream_id.clone());
    self.state.tracer.record(record);
  }

  /// Sends a reply (ack, pong) when the protocol has one and a transport is attached.
  async fn reply(
    &mut self,
    reply: Reply<'_>,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    let frame = self.codec.reply(reply)?;
    match self.send(socket, frame.into()).await {
      Sent::Ok | Sent::Interrupted => None,
      Sent::Failed => self.transport_lost(socket, recovery_deadline),
    }
  }

  /// A reliable connection waits for recovery; any other connection ends.
  fn transport_lost(
    &self,
    socket: &mut Option<WebSocket>,
    recovery_deadline: &mut Option<Instant>,
  ) -> Option<Ending> {
    *socket = None;
    if self.reliable.is_some() {
      *recovery_deadline = Some(Instant::now() + RECOVERY_WINDOW);
      None
    } else {
      Some(Ending::Gone { aborted: true })
    }
  }

  /// Writes one frame and flushes it.
  async fn send(&mut self, socket: &mut Option<WebSocket>, frame: Frame) -> Sent {
    match self.feed(socket, frame).await {
      Sent::Ok => self.flush(socket).await,
      unsent => unsent,
    }
  }

  /// Hands one frame to the socket, which writes it out only once its write buffer is full; gives
  /// up when the emulator shuts down, the service closes the connection or the client recovers on
  /// a new transport while the peer does not take the bytes (the write is tried first, so a write
  /// that completes at once costs no check of [`Stop`]). No transport: nothing to do.
  async fn feed(&mut self, socket: &mut Option<WebSocket>, frame: Frame) -> Sent {
    let Some(transport) = socket.as_mut() else {
      return Sent::Ok;
    };
    let write_timeout = self.state.config.write_timeout;
    tokio::select! {
      biased;
      result = timeout(write_timeout, transport.feed(frame)) => self.written(result),
      _ = self.stop.wait() => Sent::Interrupted,
      Some(new) = next_transport(&mut self.transports) => self.replaced(new),
    }
  }

  /// A write's result; one the client did not take within the write timeout closes the connection
  /// as a slow client (the task sees the close next).
  fn written(&self, result: Result<Result<(), SocketError>, tokio::time::error::Elapsed>) -> Sent {
    match result {
      Ok(result) => sent(result),
      Err(_) => {
        self.conn.close_immediately(
          close_code::POLICY_VIOLATION,
          &format!(
            "SlowClient: the client did not read for {} s.",
            self.state.config.write_timeout.as_secs_f64()
          ),
        );
        Sent::Interrupted
      }
    }
  }

  /// A reliable client recovered on a new transport while a write to the old one waited on its
  /// peer (a half-open socket nobody reads): the old transport is abandoned with what it had not
  /// written, and the serving loop switches to the new one, which gets every unacknowledged message.
  fn replaced(&mut self, transport: Box<WebSocket>) -> Sent {
    self.replacement = Some(transport);
    Sent::Failed
  }

  /// Writes out what [`Session::feed`] left buffered, giving up like it.
  async fn flush(&mut self, socket: &mut Option<WebSocket>) -> Sent {
    let Some(transport) = socket.as_mut() else {
      return Sent::Ok;
    };
    let write_timeout = self.state.config.write_timeout;
    tokio::select! {
      biased;
      result = timeout(write_timeout, transport.flush()) => self.written(result),
      _ = self.stop.wait() => Sent::Interrupted,
      Some(new) = next_transport(&mut self.transports) => self.replaced(new),
    }
  }

  /// Leaves the hub, then says goodbye on the transport if there still is one.
  async fn finish(mut self, ending: Ending, socket: Option<WebSocket>) {
    self.trace_ending(&ending);
    for ended in self.streams.end_all() {
      let error = StreamError {
        name: "WriterDisconnected".to_owned(),
        message: "The stream's writer disconnected.".to_owned(),
        user_error_code: None,
      };
      self.publish_end(&ended, Some(error));
    }
    if self.transports.is_some() {
      self.state.recovery.unregister(&self.conn.id);
    }
    self.hub.remove_connection(&self.conn.id);
    if let Some(upstream) = self.conn.upstream.get() {
      let reason = match &ending {
        Ending::Close { reason, .. } => reason,
        Ending::Gone { .. } => "",
      };
      upstream.disconnected(reason);
    }
    let Some(mut socket) = socket else {
      return;
    };
    let (code, reason, notify) = match ending {
      Ending::Close {
        code,
        reason,
        notify,
      } => (code, reason, notify),
      Ending::Gone { .. } => return close_socket(socket, None, &self.state.hard_stop).await,
    };
    let disconnected = notify
      .then(|| self.codec.reply(Reply::Disconnected { reason: &reason }))
      .flatten();
    let hard_stop = &self.state.hard_stop;
    if let Some(frame) = disconnected {
      tokio::select! {
        _ = timeout(CLOSE_TIMEOUT, socket.send(frame)) => {}
        _ = hard_stop.cancelled() => return,
      }
    }
    close_socket(socket, Some((code, &reason)), hard_stop).await;
  }
}

/// Sends a close frame (when given) and waits a bounded time for the peer to complete the close
/// handshake; gives up at once when the emulator's shutdown drops every socket (`hard_stop`).
pub async fn close_socket(
  mut socket: WebSocket,
  close: Option<(u16, &str)>,
  hard_stop: &CancellationToken,
) {
  let goodbye = async {
    if let Some((code, reason)) = close {
      let close = CloseFrame {
        code: code.into(),
        reason: close_reason(reason).into(),
      };
      let _ = socket.send(Message::Close(Some(close))).await;
    }
    while let Some(Ok(_)) = socket.recv().await {}
  };
  tokio::select! {
    _ = timeout(CLOSE_TIMEOUT, goodbye) => {}
    _ = hard_stop.cancelled() => {}
  }
}

/// A close reason cut to the 123 bytes a close frame can carry.
fn close_reason(reason: &str) -> &str {
  let mut end = reason.len().min(MAX_CLOSE_REASON_BYTES);
  while !reason.is_char_boundary(end) {
    end -= 1;
  }
  &reason[..end]
}

fn sent(result: Result<(), SocketError>) -> Sent {
  match result {
    Ok(()) => Sent::Ok,
    Err(_) => Sent::Failed,
  }
}

fn too_big() -> Ending {
  Ending::close(
    close_code::MESSAGE_TOO_BIG,
    "The message is larger than 1 MB.",
  )
}

fn duplicate_message(ack_id: Option<u64>) -> String {
  format!(
    "Message with ack-id: {} has been processed",
    ack_id.unwrap_or_default()
  )
}

fn forbidden_message(action: &str, group: &str) -> String {
  format!("The client does not have permission to {action} group '{group}'.")
}

/// Whether a transport error is tungstenite refusing a frame or message over the size limit.
fn is_too_big(error: &SocketError) -> bool {
  matches!(error, SocketError::Capacity(_))
}

async fn next_frame(socket: &mut Option<WebSocket>) -> Option<Result<Message, SocketError>> {
  match socket {
    Some(socket) => socket.recv().await,
    None => std::future::pending().await,
  }
}

async fn next_transport(
  transports: &mut Option<mpsc::Receiver<Box<WebSocket>>>,
) -> Option<Box<WebSocket>> {
  match transports {
    Some(transports) => transports.recv().await,
    None => std::future::pending().await,
  }
}

async fn expiry(deadline: Option<Instant>) {
  match deadline {
    Some(deadline) => tokio::time::sleep_until(deadline).await,
    None => std::future::pending().await,
  }
}
