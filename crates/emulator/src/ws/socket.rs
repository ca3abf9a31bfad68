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

/// A data frame written by hand: its header, its shared payload, and how much of both is out.
struct DirectFrame {
  header: [u8; 14],
  header_len: usize,
  payload: Bytes,
  written: usize,
}

impl DirectFrame {
  /// The frame of a text or binary message of at least [`DIRECT_WRITE_BYTES`], else `None`.
  fn of(message: &Message) -> Option<Self> {
    let (opcode, payload) = match message {
      Message::Text(text) if text.len() >= DIRECT_WRITE_BYTES => {
        (Data::Text, Bytes::from(text.clone()))
      }
      Message::Binary(data) if data.len() >= DIRECT_WRITE_BYTES => (Data::Binary, data.clone()),
      _ => return None,
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
      .format(payload.len() as u64, &mut bytes)
      .expect("a frame header fits in 14 bytes");
    let header_len = bytes.position() as usize;
    Some(Self {
      header: bytes.into_inner(),
      header_len,
      payload,
      written: 0,
    })
  }

  fn len(&self) -> usize {
    self.header_len + self.payload.len()
  }

  /// The bytes not yet written, as up to two slices.
  fn rest(&self) -> [IoSlice<'_>; 2] {
    let header = &self.header[self.written.min(self.header_len)..self.header_len];
    let payload = &self.payload[self.written.saturating_sub(self.header_len)..];
    [IoSlice::new(header), IoSlice::new(payload)]
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
  pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
    self.finish_direct().await?;
    match DirectFrame::of(&message) {
      Some(frame) => {
        self.stream.flush().await?;
        self.direct = Some(frame);
        self.finish_direct().await
      }
      None => self.stream.feed(message).await,
    }
  }

  /// Writes out everything queued.
  pub async fn flush(&mut self) -> Result<(), Error> {
    self.finish_direct().await?;
    self.stream.flush().await
  }

  /// Queues a message and flushes.
  pub async fn send(&mut self, message: Message) -> Result<(), Error> {
    self.feed(message).await?;
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

  #[test]
  fn large_data_frames_are_direct_with_the_right_header() {
    assert!(DirectFrame::of(&Message::Binary(Bytes::from(vec![0; 100]))).is_none());
    let frame = DirectFrame::of(&Message::Binary(Bytes::from(vec![7; 70_000]))).unwrap();
    assert_eq!(
      &frame.header[..frame.header_len],
      &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
    );
    let text = "a".repeat(DIRECT_WRITE_BYTES);
    let frame = DirectFrame::of(&Message::Text(text.into())).unwrap();
    assert_eq!(&frame.header[..frame.header_len], &[0x81, 126, 0x40, 0x00]);
  }

  #[test]
  fn the_rest_of_a_partly_written_frame() {
    let mut frame = DirectFrame::of(&Message::Binary(Bytes::from(vec![1; 20_000]))).unwrap();
    frame.written = 2;
    let [header, payload] = frame.rest();
    assert_eq!((header.len(), payload.len()), (2, 20_000));
    frame.written = 4 + 19_000;
    let [header, payload] = frame.rest();
    assert_eq!((header.len(), payload.len()), (0, 1_000));
  }
}
