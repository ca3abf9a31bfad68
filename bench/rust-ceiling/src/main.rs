//! rust-ceiling: the native-client ceiling for bench/sdk-bench.mjs.
//!
//! Sends the same request as the SDK's sendToAll (POST of the small JSON body
//! `{"hello":"world","n":1}` to /api/hubs/bench/:send with SDK-shaped headers of static value) to
//! the local target over keep-alive connections, at each requested concurrency for a fixed
//! duration after a warm-up, and prints one JSON line per concurrency: ops_per_s, p50_ms, p99_ms,
//! cpu_ms_per_op (getrusage user+sys / ops), cpu_util, peak_rss_mb (whole process so far).
//!
//! Usage: rust-ceiling [--url URL] [--duration S] [--warmup S] [--concurrency 1,64] [--threads N]
//! `--threads 1` (default) runs a current-thread tokio runtime (one core, like Node's main
//! thread); N > 1 a multi-thread runtime with N workers. The URL must be on loopback.

use std::process::ExitCode;
use std::sync::Arc;

use rust_ceiling::args::{require_loopback, ArgError, Args};
use rust_ceiling::pool::{measure, print_lines, Call, Window};
use rust_ceiling::runtime;

const DEFAULT_URL: &str = "http://127.0.0.1:18080/api/hubs/bench/:send?api-version=2024-01-01";
const BODY: &str = r#"{"hello":"world","n":1}"#;
const BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovLzEyNy4wLjAuMToxODA4MC9hcGkvaHVicy9iZW5jaC86c2VuZD9hcGktdmVyc2lvbj0yMDI0LTAxLTAxIn0.lTRvF2eWvuYwA7o5vp5UyNBm7gNREhO5oDEGQ2vwl3g";

struct Opts {
  url: String,
  duration: f64,
  warmup: f64,
  concurrency: Vec<usize>,
  threads: usize,
}

fn parse_opts() -> Result<Opts, ArgError> {
  let a = Args::parse(&["url", "duration", "warmup", "concurrency", "threads"])?;
  let o = Opts {
    url: a.get("url", DEFAULT_URL.to_owned())?,
    duration: a.get("duration", 4.0)?,
    warmup: a.get("warmup", 1.0)?,
    concurrency: a.list("concurrency", vec![1, 64])?,
    threads: a.get("threads", 1)?,
  };
  require_loopback(&o.url)?;
  Ok(o)
}

/// The SDK-shaped POST through one shared reqwest client.
#[derive(Clone)]
struct ReqwestPost {
  client: reqwest::Client,
  url: Arc<str>,
}

impl Call for ReqwestPost {
  async fn call(&self) -> Result<(), String> {
    let resp = self
      .client
      .post(&*self.url)
      .header("Content-Type", "application/json")
      .header("Accept", "application/json")
      .header("Accept-Encoding", "gzip,deflate")
      .header(
        "User-Agent",
        "bench-rust/1.0 azsdk-shaped (Linux; x64) padding-to-sdk-size",
      )
      .header(
        "x-ms-client-request-id",
        "00000000-0000-4000-8000-000000000000",
      )
      .header("Authorization", BEARER)
      .body(BODY)
      .send()
      .await
      .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    // Drain the (empty) body so the connection goes back to the pool.
    resp.bytes().await.map_err(|e| e.to_string())?;
    if status != 202 {
      return Err(format!("unexpected status {status}"));
    }
    Ok(())
  }
}

async fn measure_at(o: &Opts, conc: usize) -> serde_json::Value {
  let base = serde_json::json!({
    "tool": "rust-ceiling", "scenario": format!("rust_send_json_c{conc}"),
    "concurrency": conc, "threads": o.threads,
  });
  // A fresh client (and connection pool) per concurrency level.
  let client = reqwest::Client::builder()
    .pool_max_idle_per_host(usize::MAX)
    .tcp_nodelay(true)
    .no_proxy()
    .build()
    .expect("an http-only client always builds");
  let call = ReqwestPost {
    client,
    url: o.url.as_str().into(),
  };
  measure(&call, conc, Window::from_secs(o.duration, o.warmup), base).await
}

fn main() -> ExitCode {
  let o = match parse_opts() {
    Ok(o) => o,
    Err(e) => {
      eprintln!("rust-ceiling: {e}");
      return ExitCode::from(2);
    }
  };
  let rt = runtime(o.threads);
  print_lines(
    o.concurrency
      .iter()
      .map(|&conc| rt.block_on(measure_at(&o, conc))),
  )
}
