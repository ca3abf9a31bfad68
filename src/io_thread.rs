//! The thread every client's requests run on: one current-thread tokio runtime for the process.
//!
//! A request is I/O plus a few microseconds of CPU, so one thread keeps up with the JS thread
//! feeding it. Measured against napi-rs's multi-thread runtime, it does the same calls with less
//! than half the CPU: no work stealing, no wake-ups between workers, and allocations freed on the
//! thread that made them.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

static IO_RUNTIME: OnceLock<Result<Handle, String>> = OnceLock::new();

/// Runs `task` on the I/O thread, starting the thread on first use.
pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) -> napi::Result<()> {
  let handle = IO_RUNTIME
    .get_or_init(start)
    .as_ref()
    .map_err(|reason| napi::Error::from_reason(reason.clone()))?;
  handle.spawn(task);
  Ok(())
}

fn start() -> Result<Handle, String> {
  let runtime = Builder::new_current_thread()
    .enable_all()
    .build()
    .map_err(|e| format!("Cannot start the I/O runtime: {e}"))?;
  let handle = runtime.handle().clone();
  // The thread never ends; Node exits without waiting for it.
  std::thread::Builder::new()
    .name("web-pubsub-io".into())
    .spawn(move || runtime.block_on(std::future::pending::<()>()))
    .map_err(|e| format!("Cannot start the I/O thread: {e}"))?;
  Ok(handle)
}
