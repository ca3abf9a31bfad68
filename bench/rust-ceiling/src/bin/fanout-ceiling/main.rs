//! fanout-ceiling: a minimal tokio-tungstenite broadcast server that speaks just enough of the
//! Web PubSub surface for ws-loadgen (WebSocket clients with raw or `json.webpubsub.azure.v1`,
//! REST send to all / group / user). It is what a bare native fan-out achieves on this machine,
//! the yardstick for the emulator's deliveries per second. No auth, no events, one hub.
//!
//! Usage: fanout-ceiling [--host 127.0.0.1] [--port 0] [--threads 0 (= one per core)]
//!                       [--exit-with-stdin false]
//! Prints `{"tool":"fanout-ceiling","listening":"127.0.0.1:PORT","pid":N}` once it accepts, then
//! serves until killed or, with `--exit-with-stdin true`, until its stdin closes (the benchmark
//! driver passes that, so the server never outlives the driver's pipe).

mod hub;
mod rest;
mod ws;

use std::process::ExitCode;
use std::sync::Arc;

use rust_ceiling::args::{require_loopback, ArgError, Args};
use rust_ceiling::sys::raise_nofile_limit;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use hub::Hub;

async fn route(stream: TcpStream, hub: Arc<Hub>) {
  let _ = stream.set_nodelay(true);
  let mut head = [0u8; 4];
  // A WebSocket handshake starts with GET; everything else is a REST call.
  let is_get = loop {
    match stream.peek(&mut head).await {
      Ok(n) if n >= 4 => break &head == b"GET ",
      Ok(0) | Err(_) => return,
      Ok(_) => tokio::task::yield_now().await,
    }
  };
  if is_get {
    ws::serve(stream, hub).await;
  } else {
    let _ = rest::serve(stream, &hub).await;
  }
}

async fn run(host: String, port: u16, exit_with_stdin: bool) -> std::io::Result<()> {
  raise_nofile_limit();
  let listener = TcpListener::bind((host.as_str(), port)).await?;
  let addr = listener.local_addr()?;
  println!(
    "{}",
    serde_json::json!({ "tool": "fanout-ceiling", "listening": addr.to_string(), "pid": std::process::id() })
  );
  let hub = Arc::new(Hub::default());
  let mut parent_gone = std::pin::pin!(async {
    if exit_with_stdin {
      stdin_closed().await
    } else {
      std::future::pending().await
    }
  });
  loop {
    tokio::select! {
      accepted = listener.accept() => {
        let (stream, _) = accepted?;
        tokio::spawn(route(stream, hub.clone()));
      }
      _ = &mut parent_gone => return Ok(()),
    }
  }
}

/// Resolves when stdin reaches end of file: the driver that started us is gone (or let go).
async fn stdin_closed() {
  let mut stdin = tokio::io::stdin();
  let mut buf = [0u8; 64];
  while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
}

fn main() -> ExitCode {
  let parsed = (|| -> Result<(String, u16, usize, bool), ArgError> {
    let a = Args::parse(&["host", "port", "threads", "exit-with-stdin"])?;
    let host: String = a.get("host", "127.0.0.1".to_owned())?;
    require_loopback(&host)?;
    Ok((
      host,
      a.get("port", 0)?,
      a.get("threads", 0)?,
      a.get("exit-with-stdin", false)?,
    ))
  })();
  let (host, port, threads, exit_with_stdin) = match parsed {
    Ok(v) => v,
    Err(e) => {
      eprintln!("fanout-ceiling: {e}");
      return ExitCode::from(2);
    }
  };
  let mut builder = tokio::runtime::Builder::new_multi_thread();
  if threads > 0 {
    builder.worker_threads(threads);
  }
  let rt = builder.enable_all().build().expect("tokio runtime");
  match rt.block_on(run(host, port, exit_with_stdin)) {
    Ok(()) => ExitCode::SUCCESS,
    Err(e) => {
      eprintln!("fanout-ceiling: {e}");
      ExitCode::FAILURE
    }
  }
}
