//! The accept loop of every listener, plain or TLS: each connection is served by hyper on a task the
//! loop owns, so shutdown can end them all. A connection must send its request headers (and finish
//! its TLS handshake) within [`HEADER_READ_TIMEOUT`].
//!
//! Connections that have not sent a byte yet are *silent*, and the first to give way: when the
//! process runs out of file descriptors (an accept error) or the emulator serves its
//! `max_connections`, the oldest silent connection is closed to make room. When none is silent, an
//! accept error pauses the loop briefly instead of spinning, and a connection over the bound is
//! refused with 503 (plain HTTP) or closed (TLS).
//!
//! On `stop` the loop stops accepting and lets each connection finish its current request; on
//! `hard_stop` it drops whatever is left, closing those sockets.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a new connection may take to finish its TLS handshake and send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed accept (e.g. too many open files) before accepting again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Pause after a failed accept that closed a silent connection to make room.
const EVICTION_PAUSE: Duration = Duration::from_millis(1);

/// Connections of one listener that have not sent a byte yet, by accept order; cancelling a token
/// closes its connection.
#[derive(Default)]
struct Silent {
  next_id: u64,
  waiting: BTreeMap<u64, CancellationToken>,
}

impl Silent {
  fn add(&mut self) -> (u64, CancellationToken) {
    let id = self.next_id;
    self.next_id += 1;
    let token = CancellationToken::new();
    self.waiting.insert(id, token.clone());
    (id, token)
  }

  /// The connection spoke, closed or was evicted.
  fn remove(&mut self, id: u64) {
    self.waiting.remove(&id);
  }

  /// Closes the oldest silent connection; false when there is none.
  fn evict_oldest(&mut self) -> bool {
    match self.waiting.pop_first() {
      Some((_, token)) => {
        token.cancel();
        true
      }
      None => false,
    }
  }
}

/// Serves `app` on `listener` (through `tls` when given) until `stop`, with at most
/// `max_connections` at once; see the module docs.
pub async fn serve(
  listener: TcpListener,
  app: Router,
  tls: Option<TlsAcceptor>,
  max_connections: usize,
  stop: CancellationToken,
  hard_stop: CancellationToken,
) {
  let mut connections = JoinSet::new();
  let open = Arc::new(AtomicUsize::new(0));
  let silent = Arc::new(Mutex::new(Silent::default()));
  loop {
    let (stream, peer) = tokio::select! {
      _ = stop.cancelled() => break,
      accepted = listener.accept() => match accepted {
        Ok(accepted) => accepted,
        Err(_) => {
          // An evicted connection's task closes its socket soon; a pause either way keeps the loop
          // from evicting more than it needs.
          let pause = if silent.lock().unwrap().evict_oldest() {
            EVICTION_PAUSE
          } else {
            ACCEPT_ERROR_PAUSE
          };
          tokio::time::sleep(pause).await;
          continue;
        }
      },
    };
    // Reap finished connections so the set does not grow with the server's lifetime.
    while connections.try_join_next().is_some() {}
    let at_bound = open.load(Ordering::Relaxed) >= max_connections;
    if at_bound && !silent.lock().unwrap().evict_oldest() {
      connections.spawn(refuse(stream, tls.is_none(), max_connections));
      continue;
    }
    let stream = Counted::new(stream, &open);
    let app = app.clone().layer(Extension(ConnectInfo(peer)));
    let tls = tls.clone();
    let stop = stop.clone();
    let silent = silent.clone();
    let (id, evicted) = silent.lock().unwrap().add();
    connections.spawn(async move {
      let spoke = tokio::select! {
        spoke = first_byte(&stream) => spoke,
        _ = evicted.cancelled() => false,
      };
      silent.lock().unwrap().remove(id);
      if !spoke {
        return;
      }
      match tls {
        Some(acceptor) => {
          let handshake = tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream));
          if let Ok(Ok(stream)) = handshake.await {
            serve_connection(stream, app, stop).await;
          }
        }
        None => serve_connection(stream, app, stop).await,
      }
    });
  }
  tokio::select! {
    _ = async { while connections.join_next().await.is_some() {} } => {}
    _ = hard_stop.cancelled() => connections.shutdown().await,
  }
}

/// Waits, within [`HEADER_READ_TIMEOUT`], for the peer's first byte without consuming it; false when
/// the peer closed or stayed silent.
async fn first_byte(stream: &Counted) -> bool {
  let mut byte = [0; 1];
  let peek = tokio::time::timeout(HEADER_READ_TIMEOUT, stream.stream.peek(&mut byte));
  matches!(peek.await, Ok(Ok(n)) if n > 0)
}

/// Answers a connection over the bound: 503 on plain HTTP, a close on TLS (which has no handshake yet).
async fn refuse(mut stream: TcpStream, plain: bool, max_connections: usize) {
  if plain {
    let body = format!("The emulator is serving its maximum of {max_connections} connections.");
    let response = format!(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
      body.len()
    );
    let _ = tokio::time::timeout(HEADER_READ_TIMEOUT, stream.write_all(response.as_bytes())).await;
    let _ = stream.shutdown().await;
  }
}

/// A served TCP stream, counted in its listener's open connections for as long as it lives (through
/// a WebSocket upgrade too).
struct Counted {
  stream: TcpStream,
  open: Arc<AtomicUsize>,
}

impl Counted {
  fn new(stream: TcpStream, open: &Arc<AtomicUsize>) -> Self {
    open.fetch_add(1, Ordering::Relaxed);
    Counted {
      stream,
      open: open.clone(),
    }
  }
}

impl Drop for Counted {
  fn drop(&mut self) {
    self.open.fetch_sub(1, Ordering::Relaxed);
  }
}

impl AsyncRead for Counted {
  fn poll_read(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
  ) -> Poll<io::Result<()>> {
    Pin::new(&mut self.stream).poll_read(cx, buf)
  }
}

impl AsyncWrite for Counted {
  fn poll_write(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: &[u8],
  ) -> Poll<io::Result<usize>> {
    Pin::new(&mut self.stream).poll_write(cx, buf)
  }

  fn poll_write_vectored(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
  ) -> Poll<io::Result<usize>> {
    Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
  }

  fn is_write_vectored(&self) -> bool {
    self.stream.is_write_vectored()
  }

  fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.stream).poll_flush(cx)
  }

  fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.stream).poll_shutdown(cx)
  }
}

async fn serve_connection(
  stream: impl AsyncRead + AsyncWrite + Send + Unpin + 'static,
  app: Router,
  stop: CancellationToken,
) {
  let mut builder = auto::Builder::new(TokioExecutor::new());
  builder
    .http1()
    .timer(TokioTimer::new())
    .header_read_timeout(HEADER_READ_TIMEOUT);
  let connection =
    builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app));
  tokio::pin!(connection);
  tokio::select! {
    _ = connection.as_mut() => {}
    _ = stop.cancelled() => {
      connection.as_mut().graceful_shutdown();
      let _ = connection.await;
    }
  }
}
