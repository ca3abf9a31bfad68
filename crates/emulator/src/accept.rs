//! The accept loop of every listener, plain or TLS: each connection is served by hyper on a task the
//! loop owns, so shutdown can end them all. A connection must send its request headers (and finish
//! its TLS handshake) within [`HEADER_READ_TIMEOUT`]; an accept error (out of file descriptors) pauses
//! the loop briefly instead of spinning.
//!
//! On `stop` the loop stops accepting and lets each connection finish its current request; on
//! `hard_stop` it drops whatever is left, closing those sockets.

use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a new connection may take to finish its TLS handshake and send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed accept (e.g. too many open files) before accepting again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` (through `tls` when given) until `stop`; see the module docs.
pub async fn serve(
  listener: TcpListener,
  app: Router,
  tls: Option<TlsAcceptor>,
  stop: CancellationToken,
  hard_stop: CancellationToken,
) {
  let mut connections = JoinSet::new();
  loop {
    let (stream, peer) = tokio::select! {
      _ = stop.cancelled() => break,
      accepted = listener.accept() => match accepted {
        Ok(accepted) => accepted,
        Err(_) => {
          tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
          continue;
        }
      },
    };
    let app = app.clone().layer(Extension(ConnectInfo(peer)));
    let tls = tls.clone();
    let stop = stop.clone();
    connections.spawn(async move {
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
    // Reap finished connections so the set does not grow with the server's lifetime.
    while connections.try_join_next().is_some() {}
  }
  tokio::select! {
    _ = async { while connections.join_next().await.is_some() {} } => {}
    _ = hard_stop.cancelled() => connections.shutdown().await,
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
