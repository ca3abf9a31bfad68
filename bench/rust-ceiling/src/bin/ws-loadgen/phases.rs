//! Send phases: REST sends to all / a group / a user, each message tracked until its last
//! addressed connection got it, either one at a time (latency) or with a window of messages in
//! flight (throughput).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_ceiling::jwt::rest_token;
use rust_ceiling::stats::p50_p99;

use crate::clients::Fleet;
use crate::tracker::{message_text, Audience, Tracker};

const API_VERSION: &str = "2024-01-01";

#[derive(Debug, thiserror::Error)]
pub enum SendError {
  #[error("REST send failed: {0}")]
  Transport(#[from] reqwest::Error),
  #[error("REST send answered {0}")]
  Status(u16),
  #[error("message budget exhausted ({0} slots)")]
  OutOfSlots(usize),
  #[error("the run's time limit passed")]
  Deadline,
}

/// The REST side of the emulator (or ceiling).
pub struct Rest {
  client: reqwest::Client,
  endpoint: String,
  hub: String,
  access_key: String,
}

impl Rest {
  pub fn new(endpoint: &str, hub: &str, access_key: &str) -> Rest {
    Rest {
      client: reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .expect("an http-only client always builds"),
      endpoint: endpoint.to_owned(),
      hub: hub.to_owned(),
      access_key: access_key.to_owned(),
    }
  }

  fn url(&self, audience: Audience) -> String {
    let (e, h) = (&self.endpoint, &self.hub);
    match audience {
      Audience::All => format!("{e}/api/hubs/{h}/:send?api-version={API_VERSION}"),
      Audience::Group(g) => format!("{e}/api/hubs/{h}/groups/g{g}/:send?api-version={API_VERSION}"),
      Audience::User(u) => format!("{e}/api/hubs/{h}/users/u{u}/:send?api-version={API_VERSION}"),
    }
  }

  async fn send(&self, audience: Audience, text: String) -> Result<(), SendError> {
    let url = self.url(audience);
    let status = self
      .client
      .post(&url)
      .header("Content-Type", "text/plain")
      .header(
        "Authorization",
        format!("Bearer {}", rest_token(&url, &self.access_key)),
      )
      .body(text)
      .send()
      .await?
      .status()
      .as_u16();
    if status == 202 {
      Ok(())
    } else {
      Err(SendError::Status(status))
    }
  }
}

pub struct PhaseSpec {
  pub name: &'static str,
  pub audience: Audience,
  pub messages: u32,
  /// Messages in flight (sent, not yet delivered to every addressee); 1 = one at a time.
  pub window: usize,
  pub padding: usize,
}

/// Everything a phase needs from the run.
pub struct Context {
  pub rest: Rest,
  pub tracker: Arc<Tracker>,
  pub fleet: Arc<Fleet>,
  pub delivery_timeout: Duration,
  pub deadline: Instant,
  pub next_seq: u32,
}

/// The sequence numbers a phase used; figures are read from the tracker once all phases ended,
/// so late deliveries still count.
pub struct PhaseRun {
  pub name: &'static str,
  pub audience: Audience,
  pub window: usize,
  pub seqs: std::ops::Range<u32>,
  pub timed_out: u32,
  pub error: Option<String>,
}

impl Context {
  pub async fn run(&mut self, spec: &PhaseSpec) -> PhaseRun {
    let first = self.next_seq;
    let mut timed_out = 0;
    let mut in_flight: VecDeque<u32> = VecDeque::new();
    let mut error = None;
    for _ in 0..spec.messages {
      if let Err(e) = self
        .wait_window(&mut in_flight, spec.window - 1, &mut timed_out)
        .await
      {
        error = Some(e.to_string());
        break;
      }
      match self.send_one(spec).await {
        Ok(seq) => in_flight.push_back(seq),
        Err(e) => {
          error = Some(e.to_string());
          break;
        }
      }
    }
    if let Err(e) = self.wait_window(&mut in_flight, 0, &mut timed_out).await {
      error.get_or_insert(e.to_string());
    }
    PhaseRun {
      name: spec.name,
      audience: spec.audience,
      window: spec.window,
      seqs: first..self.next_seq,
      timed_out,
      error,
    }
  }

  async fn send_one(&mut self, spec: &PhaseSpec) -> Result<u32, SendError> {
    let seq = self.next_seq;
    if seq as usize >= self.tracker.capacity() {
      return Err(SendError::OutOfSlots(self.tracker.capacity()));
    }
    self.next_seq += 1;
    let expected = self.fleet.expected_receivers(spec.audience);
    let text = message_text(seq, spec.audience, spec.padding);
    self.tracker.start(seq, expected);
    self.rest.send(spec.audience, text).await?;
    Ok(seq)
  }

  /// Waits until at most `max` messages are in flight; a message older than the delivery
  /// timeout leaves the window and is counted as timed out.
  async fn wait_window(
    &self,
    in_flight: &mut VecDeque<u32>,
    max: usize,
    timed_out: &mut u32,
  ) -> Result<(), SendError> {
    loop {
      while let Some(&seq) = in_flight.front() {
        let age = Duration::from_nanos(self.tracker.now_ns() - self.tracker.sent_ns(seq));
        if self.tracker.complete(seq) {
          in_flight.pop_front();
        } else if age > self.delivery_timeout {
          *timed_out += 1;
          in_flight.pop_front();
        } else {
          break;
        }
      }
      in_flight.retain(|&s| !self.tracker.complete(s));
      if in_flight.len() <= max {
        return Ok(());
      }
      if Instant::now() > self.deadline {
        return Err(SendError::Deadline);
      }
      tokio::time::sleep(Duration::from_millis(1)).await;
    }
  }
}

/// Figures of one phase, read from the tracker after every phase ended.
pub fn report(run: &PhaseRun, tracker: &Tracker) -> serde_json::Value {
  let (mut expected, mut received, mut undelivered, mut duplicates) = (0u64, 0u64, 0u64, 0u64);
  let (mut first_sent, mut last_receipt) = (u64::MAX, 0u64);
  let mut latencies = Vec::new();
  for seq in run.seqs.clone() {
    let (exp, got, sent, last) = tracker.outcome(seq);
    expected += u64::from(exp);
    received += u64::from(got);
    undelivered += u64::from(exp.saturating_sub(got));
    duplicates += u64::from(got.saturating_sub(exp));
    first_sent = first_sent.min(sent);
    last_receipt = last_receipt.max(last);
    if got >= exp && exp > 0 {
      latencies.push(last.saturating_sub(sent) as f64 / 1e6);
    }
  }
  let (p50, p99) = p50_p99(&mut latencies);
  let span_s = last_receipt.saturating_sub(first_sent) as f64 / 1e9;
  let messages = run.seqs.len();
  serde_json::json!({
    "phase": run.name,
    "audience": format!("{:?}", run.audience),
    "window": run.window,
    "messages": messages,
    "receivers_per_message": if messages > 0 { expected / messages as u64 } else { 0 },
    "expected": expected,
    "delivered": received.min(expected),
    "undelivered": undelivered,
    "duplicates": duplicates,
    "timed_out": run.timed_out,
    "p50_last_delivery_ms": p50,
    "p99_last_delivery_ms": p99,
    "deliveries_per_s": if span_s > 0.0 { Some(received as f64 / span_s) } else { None },
    "error": run.error,
  })
}
