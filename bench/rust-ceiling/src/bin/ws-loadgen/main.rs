//! ws-loadgen: opens N WebSocket clients (raw or `json.webpubsub.azure.v1`) to a Web PubSub
//! emulator (or the fan-out ceiling), holds them, then sends to all / one group / one user through
//! the REST API and measures, per message, the time from the REST call to the LAST addressed
//! client receiving it.
//!
//! Usage: ws-loadgen --endpoint http://127.0.0.1:PORT [--hub bench] [--connections 10000]
//!   [--protocol json|raw] [--groups 10] [--users 1000] [--connect-concurrency 200] [--hold 2]
//!   [--server-pid PID] [--messages 20] [--throughput-messages 60] [--window 8] [--padding 32]
//!   [--delivery-timeout 10] [--max-seconds 180] [--threads 2] [--label TEXT]
//! The access key comes from the BENCH_ACCESS_KEY environment variable (kept off the command
//! line). Connection i has user `u{i % users}` and group `g{i % groups}` in its token.
//!
//! Prints one JSON line per phase (connect, hold, each send phase, close) and a final `summary`
//! line whose `errors` counts failed connects, dropped connections, REST failures, undelivered,
//! duplicate and unexpected frames; exits 1 if it is not 0. Bounded by --max-seconds.

mod clients;
mod phases;
mod tracker;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_ceiling::args::{require_loopback, ArgError, Args};
use rust_ceiling::runtime;
use rust_ceiling::sys::{proc_memory, raise_nofile_limit, self_usage};
use serde_json::json;

use clients::{Fleet, FleetConfig, Protocol};
use phases::{report, Context, PhaseSpec, Rest};
use tracker::{Audience, Tracker};

struct Opts {
  fleet: FleetConfig,
  connections: usize,
  hold: f64,
  server_pid: Option<u32>,
  messages: u32,
  throughput_messages: u32,
  window: usize,
  padding: usize,
  delivery_timeout: f64,
  max_seconds: f64,
  threads: usize,
  label: String,
}

#[derive(Debug, thiserror::Error)]
enum OptsError {
  #[error(transparent)]
  Arg(#[from] ArgError),
  #[error("BENCH_ACCESS_KEY is not set")]
  NoKey,
  #[error("--window and --groups/--users must be at least 1")]
  Zero,
}

fn parse_opts() -> Result<Opts, OptsError> {
  let a = Args::parse(&[
    "endpoint",
    "hub",
    "connections",
    "protocol",
    "groups",
    "users",
    "connect-concurrency",
    "hold",
    "server-pid",
    "messages",
    "throughput-messages",
    "window",
    "padding",
    "delivery-timeout",
    "max-seconds",
    "threads",
    "label",
  ])?;
  let endpoint: String = a.get("endpoint", "http://127.0.0.1:8080".to_owned())?;
  require_loopback(&endpoint)?;
  let pid: u32 = a.get("server-pid", 0)?;
  let o = Opts {
    fleet: FleetConfig {
      endpoint: endpoint.trim_end_matches('/').to_owned(),
      hub: a.get("hub", "bench".to_owned())?,
      access_key: std::env::var("BENCH_ACCESS_KEY").map_err(|_| OptsError::NoKey)?,
      protocol: a.get("protocol", Protocol::Json)?,
      groups: a.get("groups", 10)?,
      users: a.get("users", 1000)?,
      connect_concurrency: a.get("connect-concurrency", 200)?,
    },
    connections: a.get("connections", 10_000)?,
    hold: a.get("hold", 2.0)?,
    server_pid: (pid > 0).then_some(pid),
    messages: a.get("messages", 20)?,
    throughput_messages: a.get("throughput-messages", 60)?,
    window: a.get("window", 8)?,
    padding: a.get("padding", 32)?,
    delivery_timeout: a.get("delivery-timeout", 10.0)?,
    max_seconds: a.get("max-seconds", 180.0)?,
    threads: a.get("threads", 2)?,
    label: a.get("label", String::new())?,
  };
  if o.window == 0 || o.fleet.groups == 0 || o.fleet.users == 0 {
    return Err(OptsError::Zero);
  }
  Ok(o)
}

fn server_rss_mib(pid: Option<u32>) -> (Option<f64>, Option<f64>) {
  match pid.map(proc_memory) {
    Some(Ok(m)) => (
      Some(m.rss_kib as f64 / 1024.0),
      Some(m.peak_rss_kib as f64 / 1024.0),
    ),
    _ => (None, None),
  }
}

struct Printer {
  label: String,
  protocol: Protocol,
}

impl Printer {
  fn line(&self, mut v: serde_json::Value) {
    let head = json!({ "tool": "ws-loadgen", "label": self.label,
      "protocol": format!("{:?}", self.protocol).to_lowercase() });
    let mut o = head.as_object().unwrap().clone();
    o.extend(v.as_object_mut().unwrap().clone());
    println!("{}", serde_json::Value::Object(o));
  }
}

async fn run(o: Opts) -> u64 {
  let started = Instant::now();
  let deadline = started + Duration::from_secs_f64(o.max_seconds);
  let out = Printer {
    label: o.label.clone(),
    protocol: o.fleet.protocol,
  };
  let nofile = raise_nofile_limit();
  let (rss_before, _) = server_rss_mib(o.server_pid);
  let phases = [
    PhaseSpec {
      name: "broadcast_latency",
      audience: Audience::All,
      messages: o.messages,
      window: 1,
      padding: o.padding,
    },
    PhaseSpec {
      name: "broadcast_throughput",
      audience: Audience::All,
      messages: o.throughput_messages,
      window: o.window,
      padding: o.padding,
    },
    PhaseSpec {
      name: "group_latency",
      audience: Audience::Group(0),
      messages: o.messages,
      window: 1,
      padding: o.padding,
    },
    PhaseSpec {
      name: "user_latency",
      audience: Audience::User(0),
      messages: o.messages,
      window: 1,
      padding: o.padding,
    },
  ];
  let slots: u32 = phases.iter().map(|p| p.messages).sum();
  let tracker = Arc::new(Tracker::new(slots as usize));
  let fleet = Fleet::new(o.fleet.clone(), o.connections);

  // Connect.
  let t0 = Instant::now();
  fleet.open_all(tracker.clone());
  while fleet.settled() < o.connections && Instant::now() < deadline {
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  let connect_s = t0.elapsed().as_secs_f64();
  let connected = fleet.connected.load(Ordering::Acquire);
  let mut errors = fleet.connect_errors.load(Ordering::Acquire) as u64;
  errors += (o.connections - fleet.settled().min(o.connections)) as u64;
  out.line(
    json!({ "phase": "connect", "connections_requested": o.connections,
    "connected": connected, "connect_errors": fleet.connect_errors.load(Ordering::Acquire),
    "connect_s": connect_s, "connects_per_s": connected as f64 / connect_s, "nofile_limit": nofile,
    "first_error": fleet.first_error() }),
  );

  // Hold.
  tokio::time::sleep(Duration::from_secs_f64(o.hold)).await;
  let open = fleet.open_count();
  let (rss_held, _) = server_rss_mib(o.server_pid);
  let per_conn_kib = match (rss_before, rss_held) {
    (Some(b), Some(h)) if open > 0 => Some((h - b) * 1024.0 / open as f64),
    _ => None,
  };
  out.line(json!({ "phase": "hold", "held_s": o.hold, "open": open,
    "dropped": fleet.dropped.load(Ordering::Acquire), "server_rss_mb_before": rss_before,
    "server_rss_mb_held": rss_held, "server_rss_kib_per_connection": per_conn_kib }));

  // Send phases.
  let mut ctx = Context {
    rest: Rest::new(&o.fleet.endpoint, &o.fleet.hub, &o.fleet.access_key),
    tracker: tracker.clone(),
    fleet: fleet.clone(),
    delivery_timeout: Duration::from_secs_f64(o.delivery_timeout),
    deadline,
    next_seq: 0,
  };
  let mut runs = Vec::new();
  if connected > 0 {
    for spec in &phases {
      runs.push(ctx.run(spec).await);
    }
  }
  // Let stragglers arrive before the books close (bounded by the delivery timeout).
  let settle_until = Instant::now() + Duration::from_secs_f64(o.delivery_timeout.min(2.0));
  while (0..ctx.next_seq).any(|s| !tracker.complete(s)) && Instant::now() < settle_until {
    tokio::time::sleep(Duration::from_millis(10)).await;
  }
  let (rss_end, rss_peak) = server_rss_mib(o.server_pid);
  let open_after = fleet.open_count();
  for r in &runs {
    let line = report(r, &tracker);
    errors += line["undelivered"].as_u64().unwrap_or(0) + line["duplicates"].as_u64().unwrap_or(0);
    errors += u64::from(!line["error"].is_null());
    out.line(line);
  }

  // Close.
  let dropped = fleet.dropped.load(Ordering::Acquire) as u64;
  let unexpected = tracker.unexpected.load(Ordering::Acquire);
  errors += dropped + unexpected;
  fleet.close_all().await;
  let (_, loadgen_peak) = self_usage();
  out.line(
    json!({ "phase": "summary", "connections_requested": o.connections,
    "connected": connected, "open_after_sends": open_after, "dropped": dropped,
    "unexpected_frames": unexpected, "server_rss_mb_end": rss_end, "server_peak_rss_mb": rss_peak,
    "loadgen_peak_rss_mb": loadgen_peak, "elapsed_s": started.elapsed().as_secs_f64(),
    "errors": errors, "first_error": fleet.first_error() }),
  );
  errors
}

fn main() -> ExitCode {
  let o = match parse_opts() {
    Ok(o) => o,
    Err(e) => {
      eprintln!("ws-loadgen: {e}");
      return ExitCode::from(2);
    }
  };
  let rt = runtime(o.threads);
  let errors = rt.block_on(run(o));
  // Tasks that did not finish closing are abandoned here; the process ends either way.
  rt.shutdown_timeout(Duration::from_secs(1));
  if errors == 0 {
    ExitCode::SUCCESS
  } else {
    ExitCode::FAILURE
  }
}
