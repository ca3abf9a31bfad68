//! The measuring loop shared by the HTTP client benchmarks: a sanity call, a warm-up, then
//! `concurrency` tasks sending back to back for a fixed time; one JSON line of figures.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::stats::p50_p99;
use crate::sys::self_usage;

/// One kind of call to measure. Each task holds its own clone.
pub trait Call: Clone + Send + 'static {
  /// Makes one call; `Err` carries a description of what went wrong.
  fn call(&self) -> impl Future<Output = Result<(), String>> + Send;
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Window {
  pub duration: Duration,
  pub warmup: Duration,
}

impl Window {
  pub fn from_secs(duration: f64, warmup: f64) -> Self {
    Window {
      duration: Duration::from_secs_f64(duration),
      warmup: Duration::from_secs_f64(warmup),
    }
  }
}

/// Prints each result line as it comes; fails when any line carries an error.
pub fn print_lines(lines: impl IntoIterator<Item = serde_json::Value>) -> ExitCode {
  let mut ok = true;
  for line in lines {
    ok &= line["error"].is_null();
    println!("{line}");
  }
  if ok {
    ExitCode::SUCCESS
  } else {
    ExitCode::FAILURE
  }
}

#[derive(Default)]
struct PoolResult {
  ok: u64,
  errors: u64,
  first_error: Option<String>,
  elapsed: Duration,
  lat_ms: Vec<f64>,
}

async fn run_pool<C: Call>(call: &C, conc: usize, dur: Duration) -> PoolResult {
  let t0 = Instant::now();
  let deadline = t0 + dur;
  let mut handles = Vec::with_capacity(conc);
  for _ in 0..conc {
    let call = call.clone();
    handles.push(tokio::spawn(async move {
      let mut r = PoolResult::default();
      loop {
        let s = Instant::now();
        if s >= deadline {
          break;
        }
        match call.call().await {
          Ok(()) => {
            r.ok += 1;
            r.lat_ms.push(s.elapsed().as_secs_f64() * 1000.0);
          }
          Err(e) => {
            r.errors += 1;
            r.first_error.get_or_insert(e);
          }
        }
      }
      r
    }));
  }
  let mut res = PoolResult::default();
  for h in handles {
    let r = h.await.expect("worker panicked");
    res.ok += r.ok;
    res.errors += r.errors;
    res.first_error = res.first_error.or(r.first_error);
    res.lat_ms.extend(r.lat_ms);
  }
  res.elapsed = t0.elapsed();
  res
}

/// Measures `call` at one concurrency: the figures are added to `base` (tool, scenario, ...).
pub async fn measure<C: Call>(
  call: &C,
  conc: usize,
  window: Window,
  base: serde_json::Value,
) -> serde_json::Value {
  let with = |extra: serde_json::Value| {
    let mut v = base.clone();
    v.as_object_mut()
      .unwrap()
      .extend(extra.as_object().unwrap().clone());
    v
  };
  if let Err(e) = call.call().await {
    return with(serde_json::json!({ "error": format!("sanity request failed: {e}") }));
  }
  if !window.warmup.is_zero() {
    let w = run_pool(call, conc, window.warmup).await;
    if w.errors > 0 {
      return with(serde_json::json!({ "error": format!("warm-up errors: {:?}", w.first_error) }));
    }
  }
  let (cpu0, _) = self_usage();
  let mut r = run_pool(call, conc, window.duration).await;
  let (cpu1, maxrss) = self_usage();
  let (p50, p99) = p50_p99(&mut r.lat_ms);
  let secs = r.elapsed.as_secs_f64();
  let cpu_ms = cpu1 - cpu0;
  with(serde_json::json!({
    "duration_s": secs, "ops": r.ok, "errors": r.errors, "ops_per_s": r.ok as f64 / secs,
    "p50_ms": p50, "p99_ms": p99,
    "cpu_ms_per_op": if r.ok > 0 { Some(cpu_ms / r.ok as f64) } else { None },
    "cpu_util": cpu_ms / (secs * 1000.0), "peak_rss_mb": maxrss,
    "error": r.first_error.map(|e| format!("{} failed; first: {e}", r.errors)),
  }))
}
