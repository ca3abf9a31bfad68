//! Helpers shared by the benchmark binaries: argument parsing, loopback checks, statistics,
//! process resource figures, HS256 tokens and the HTTP measuring loop.

pub mod args;
pub mod jwt;
pub mod pool;
pub mod stats;
pub mod sys;

/// A current-thread tokio runtime for `threads <= 1` (one core, like Node's main thread), else a
/// multi-thread runtime with that many workers.
pub fn runtime(threads: usize) -> tokio::runtime::Runtime {
  if threads <= 1 {
    tokio::runtime::Builder::new_current_thread()
      .enable_all()
      .build()
  } else {
    tokio::runtime::Builder::new_multi_thread()
      .worker_threads(threads)
      .enable_all()
      .build()
  }
  .expect("tokio runtime")
}
