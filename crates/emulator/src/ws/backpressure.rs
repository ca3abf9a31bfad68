//! Backpressure on clients that send to groups. Fan-out never blocks (a full queue closes its
//! reader), so without it one client sending as fast as its socket allows fills its readers' queues
//! faster than they can write them out and gets every reader closed as a slow client. Instead, the
//! sender's task stops reading the sender's frames while a recipient of what it sent is past its
//! high-water mark ([`Connection::congested`]): the sender is slowed to its readers' pace by TCP,
//! and readers that keep reading get every message.
//!
//! A recipient that takes nothing for [`STALL_TIMEOUT`] is not waited for again until it takes
//! something: a stalled reader must not hold its senders back. It fills its queue and is closed as a
//! slow client.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::state::Connection;

/// How long a congested recipient may take nothing before its senders stop waiting for it.
const STALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The congested recipients one connection's sends are waiting for.
#[derive(Default)]
pub struct Backpressure {
  waiting: Vec<Waiting>,
  /// Recipients given up on, with their [`Connection::taken`] then; dropped once they take more,
  /// drain or close.
  stalled: Vec<(Arc<Connection>, u64)>,
}

struct Waiting {
  conn: Arc<Connection>,
  /// The recipient's [`Connection::taken`] when it last made progress.
  taken: u64,
  stalled_at: Instant,
}

impl Backpressure {
  /// Adds recipients that are congested after taking a message from this connection.
  pub fn hold(&mut self, congested: Vec<Arc<Connection>>) {
    if congested.is_empty() {
      return;
    }
    self
      .stalled
      .retain(|(conn, taken)| conn.congested() && conn.taken() == *taken);
    let stalled_at = Instant::now() + STALL_TIMEOUT;
    for conn in congested {
      let known = self.waiting.iter().any(|w| Arc::ptr_eq(&w.conn, &conn))
        || self.stalled.iter().any(|(s, _)| Arc::ptr_eq(s, &conn));
      if !known {
        self.waiting.push(Waiting {
          taken: conn.taken(),
          conn,
          stalled_at,
        });
      }
    }
  }

  pub fn is_clear(&self) -> bool {
    self.waiting.is_empty()
  }

  /// Completes when no recipient holds the sender back any more: each one drained below its
  /// high-water mark, closed, or stalled. Cancel-safe: progress is kept in `self`.
  pub async fn eased(&mut self) {
    while let Some(waiting) = self.waiting.last_mut() {
      if !waiting.conn.congested() {
        self.waiting.pop();
        continue;
      }
      tokio::select! {
        _ = waiting.conn.drained() => {}
        _ = tokio::time::sleep_until(waiting.stalled_at) => {
          let taken = waiting.conn.taken();
          if taken == waiting.taken {
            let waiting = self.waiting.pop().expect("the last entry");
            self.stalled.push((waiting.conn, taken));
          } else {
            waiting.taken = taken;
            waiting.stalled_at = Instant::now() + STALL_TIMEOUT;
          }
        }
      }
    }
  }
}
