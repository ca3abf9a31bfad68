//! One client transport's WebSocket: the HTTP/1.1 upgrade ([`Upgrade`]) and the socket it yields
//! ([`WebSocket`]).
//!
//! tokio-tungstenite reads frames, answers pings and close frames, and writes small frames through
//! its write buffer. Data frames of [`DIRECT_WRITE_BYTES`] or more are written past it: the frame
//! header, then the payload straight from the message's shared bytes, in vectored writes.
//! tungstenite copies every frame it writes into a per-connection buffer that keeps the capacity of
//! the largest one for the connection's life, so one 1 MiB broadcast to 1,000 clients would take
//! and keep 1 GiB; written past it, the payload is never copied and nothing grows.

use std::future::Future;
use std::io::{Cursor, IoSlice};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use crate::ws::handshake::HandshakeError;

pub use tokio_tungstenite::tungstenite::protocol::CloseFrame;
pub use tokio_tungstenite::tungstenite::{Error, Message, Utf8Bytes};

/// Data frames at least this large are written without tungstenite's write buffer; smaller ones go
/// through it, where a batch of them becomes one write.
pub const DIRECT_WRITE_BYTES: usize = 16 * 1024;

/// A frame to send: a whole message, or a data frame spliced from parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
  Message(Message),
  Spliced(Spliced),
}

/// A data frame whose payload is a body shared with other receivers between a small head and tail
/// of its own (a reliable client's frame: the shared frame with its sequence id spliced in).
#[derive(Debug, Clone, PartialEq)]
pub struct Spliced {
  /// A text frame (the parts together are UTF-8), else binary.
  pub text: bool,
  pub head: Bytes,
  pub body: Bytes,
  pub tail: Bytes,
}

impl From<Message> for Frame {
  fn from(message: Message) -> Self {
    Self::Message(message)
  }
}

impl Frame {
  /// Bytes of a data frame's payload; 0 for other frames.
  pub fn data_len(&self) -> usize {
    match self {
      Self::Message(Message::Text(text)) => text.len(),
      Self::Message(Message::Binary(data)) => data.len(),
      Self::Message(_) => 0,
      Self::Spliced(spliced) => spliced.head.len() + spliced.body.len() + spliced.tail.len(),
    }
  }

  /// The frame as one message; a spliced frame's parts are copied together.
  pub fn into_message(self) -> Message {
    let spliced = match self {
      Self::Message(message) => return message,
      Self::Spliced(spliced) => spliced,
    };
    let mut payload =
      Vec::with_capacity(spliced.head.len() + spliced.body.len() + spliced.tail.len());
    for part in [&spliced.head, &spliced.body, &spliced.tail] {
      payload.extend_from_slice(part);
    }
    if spliced.text {
      Message::Text(Utf8Bytes::try_from(Bytes::from(payload)).expect("the parts of UTF-8 text"))
    } else {
      Message::Binary(payload.into())
    }
  }
}

/// A WebSocket upgrade request (HTTP/1.1 `GET` with `Upgrade: websocket`, version 13).
pub struct Upgrade {
  key: HeaderValue,
  on_upgrade: OnUpgrade,
  offered: Vec<String>,
  selected: Option<HeaderValue>,
}

/// The request is not a WebSocket upgrade the endpoint can take.
#[derive(Debug)]
pub struct NotWebSocket;

impl IntoResponse for NotWebSocket {
  fn into_response(self) -> Response {
    HandshakeError::NotWebSocket.into_response()
  }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
  type Rejection = NotWebSocket;

  async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
    let headers = &parts.headers;
    let upgrade = parts.method == Method::GET
      && has_token(headers, header::CONNECTION, "upgrade")
      && has_token(headers, header::UPGRADE, "websocket")
      && headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned();
    let (Some(key), true) = (key, upgrade) else {
      return Err(NotWebSocket);
    };
    let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(NotWebSocket)?;
    let offered = headers
      .get_all(header::SEC_WEBSOCKET_PROTOCOL)
      .iter()
      .filter_map(|value| value.to_str().ok())
      .flat_map(|value| value.split(','))
      .map(|name| name.trim().to_owned())
      .filter(|name| !name.is_empty())
      .collect();
    Ok(Self {
      key,
      on_upgrade,
      offered,
      selected: None,
    })
  }
}

/// Whether a comma-separated header holds `token` (ASCII case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
  headers
    .get_all(name)
    .iter()
    .filter_map(|value| value.to_str().ok())
    .flat_map(|value| value.split(','))
    .any(|item| item.trim().eq_ignore_ascii_case(token))
}

impl Upgrade {
  /// The subprotocols the client offered, in its order.
  pub fn offered(&self) -> &[String] {
    &self.offered
  }

  /// The subprotocol the `101` answer names.
  pub fn select_protocol(&mut self, name: HeaderValue) {
    self.selected = Some(name);
  }

  /// The `101 Switching Protocols` answer; once the connection has switched, `serve` runs with the
  /// socket on a task of its own, or `failed` runs when it never switches.
  pub fn on_upgrade<F, Fut>(
    self,
    config: WebSocketConfig,
    failed: impl FnOnce() + Send + 'static,
    serve: F,
  ) -> Response
  where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
  {
    let on_upgrade = self.on_upgrade;
    tokio::spawn(async move {
      match on_upgrade.await {
        Ok(upgraded) => {
          let stream =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
              .await;
          serve(WebSocket::new(stream)).await;
        }
        Err(_) => failed(),
      }
    });
    let accept = derive_accept_key(self.key.as_bytes());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
      header::SEC_WEBSOCKET_ACCEPT,
      HeaderValue::from_str(&accept).expect("base64 is a valid header value"),
    );
    if let Some(name) = self.selected {
      headers.insert(header::SEC_WEBSOCKET_PROTOCOL, name);
    }
    response
  }
}

/// A server-side WebSocket over an upgraded connection.
pub struct WebSocket {
  stream: WebSocketStream<TokioIo<Upgraded>>,
  /// A large frame being written past tungstenite; it is finished before anything else is read or
  /// written, so a write given up on (a timeout, shutdown) never leaves half a frame followed by
  /// another.
  direct: Option<DirectFrame>,
}

/// A data frame written by hand: its header, its payload's parts, and how much of all is out.
struct DirectFrame {
  header: [u8; 14],
  header_len: usize,
  parts: [Bytes; 3],
  written: usize,
}

impl DirectFrame {
  /// The frame of a data frame of at least [`DIRECT_WRITE_BYTES`], else `None`.
  fn of(frame: &Frame) -> Option<Self> {
    if frame.data_len() < DIRECT_WRITE_BYTES {
      return None;
    }
    let (opcode, parts) = match frame {
      Frame::Message(Message::Text(text)) => (
        Data::Text,
        [Bytes::new(), Bytes::from(text.clone()), Bytes::new()],
      ),
      Frame::Message(Message::Binary(data)) => {
        (Data::Binary, [Bytes::new(), data.clone(), Bytes::new()])
      }
      Frame::Message(_) => return None,
      Frame::Spliced(spliced) => (
        if spliced.text {
          Data::Text
        } else {
          Data::Binary
        },
        [
          spliced.head.clone(),
          spliced.body.clone(),
          spliced.tail.clone(),
        ],
      ),
    };
    let header = FrameHeader {
      is_final: true,
      rsv1: false,
      rsv2: false,
      rsv3: false,
      opcode: OpCode::Data(opcode),
      mask: None,
    };
    let mut bytes = Cursor::new([0u8; 14]);
    header
      .format(frame.data_len() as u64, &mut bytes)
      .expect("a frame header fits in 14 bytes");
    let header_len = bytes.position() as usize;
    Some(Self {
      header: bytes.into_inner(),
      header_len,
      parts,
      written: 0,
    })
  }

  fn len(&self) -> usize {
    self.header_len + self.parts.iter().map(Bytes::len).sum::<usize>()
  }

  /// The bytes not yet written: what is left of the header and of each part.
  fn rest(&self) -> [IoSlice<'_>; 4] {
    let mut skip = self.written;
    let mut unwritten = |bytes: &[u8]| -> std::ops::Range<usize> {
      let start = skip.min(bytes.len());
      skip -= start;
      start..bytes.len()
    };
    let header = &self.header[..self.header_len];
    let header = &header[unwritten(header)];
    let [head, body, tail] = &self.parts;
    let head = &head[unwritten(head)];
    let body = &body[unwritten(body)];
    let tail = &tail[unwritten(tail)];
    [
      IoSlice::new(header),
      IoSlice::new(head),
      IoSlice::new(body),
      IoSlice::new(tail),
    ]
  }
}

impl WebSocket {
  fn new(stream: WebSocketStream<TokioIo<Upgraded>>) -> Self {
    Self {
      stream,
      direct: None,
    }
  }

  /// The next message from the client; `None` once the connection is closed. Cancel-safe.
  pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
    if let Err(error) = self.finish_direct().await {
      return Some(Err(error));
    }
    self.stream.next().await
  }

  /// Queues a message: a small one in the write buffer (written once the buffer fills or on
  /// [`WebSocket::flush`]), a large one written out now. Cancel-safe: a message given up on is
  /// either not started or finished by the next call.
  pub async fn feed(&mut self, frame: impl Into<Frame>) -> Result<(), Error> {
    self.finish_direct().await?;
    let frame = frame.into();
    match DirectFrame::of(&frame) {
      Some(direct) => {
        self.stream.flush().await?;
        self.direct = Some(direct);
        self.finish_direct().await
      }
      None => self.stream.feed(frame.into_message()).await,
    }
  }

  /// Writes out everything queued.
  pub async fn flush(&mut self) -> Result<(), Error> {
    self.finish_direct().await?;
    self.stream.flush().await
  }

  /// Queues a message and flushes.
  pub async fn send(&mut self, frame: impl Into<Frame>) -> Result<(), Error> {
    self.feed(frame).await?;
    self.flush().await
  }

  async fn finish_direct(&mut self) -> Result<(), Error> {
    while let Some(frame) = &mut self.direct {
      if frame.written == frame.len() {
        self.direct = None;
        break;
      }
      let io = self.stream.get_mut();
      let written = io.write_vectored(&frame.rest()).await?;
      if written == 0 {
        return Err(Error::Io(std::io::ErrorKind::WriteZero.into()));
      }
      frame.written += written;
    }
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn binary(len: usize) -> Frame {
    Message::Binary(Bytes::from(vec![7; len])).into()
  }

  #[test]
  fn large_data_frames_are_direct_with_the_right_header() {
    assert!(DirectFrame::of(&binary(100)).is_none());
    let frame = DirectFrame::of(&binary(70_000)).unwrap();
    assert_eq!(
      &frame.header[..frame.header_len],
      &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
    );
    let text = "a".repeat(DIRECT_WRITE_BYTES);
    let frame = DirectFrame::of(&Message::Text(text.into()).into()).unwrap();
    assert_eq!(&frame.header[..frame.header_len], &[0x81, 126, 0x40, 0x00]);
  }

  #[test]
  fn the_rest_of_a_partly_written_frame() {
    let lens = |frame: &DirectFrame| frame.rest().map(|slice| slice.len());
    let mut frame = DirectFrame::of(&binary(20_000)).unwrap();
    frame.written = 2;
    assert_eq!(lens(&frame), [2, 0, 20_000, 0]);
    frame.written = 4 + 19_000;
    assert_eq!(lens(&frame), [0, 0, 1_000, 0]);
    let spliced = Frame::Spliced(Spliced {
      text: false,
      head: Bytes::from_static(b"hd"),
      body: Bytes::from(vec![1; 20_000]),
      tail: Bytes::from_static(b"tail"),
    });
    let mut frame = DirectFrame::of(&spliced).unwrap();
    assert_eq!(lens(&frame), [4, 2, 20_000, 4]);
    frame.written = 5;
    assert_eq!(lens(&frame), [0, 1, 20_000, 4]);
    frame.written = 4 + 2 + 20_000 + 1;
    assert_eq!(lens(&frame), [0, 0, 0, 3]);
  }

  #[test]
  fn a_small_spliced_frame_becomes_one_message() {
    let spliced = Frame::Spliced(Spliced {
      text: true,
      head: Bytes::new(),
      body: Bytes::from_static(br#"{"a":1"#),
      tail: Bytes::from_static(br#","sequenceId":2}"#),
    });
    assert_eq!(spliced.data_len(), 22);
    assert_eq!(
      spliced.into_message(),
      Message::Text(r#"{"a":1,"sequenceId":2}"#.into())
    );
  }
}
