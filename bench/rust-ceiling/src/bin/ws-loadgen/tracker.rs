//! Delivery bookkeeping: the marker each REST message carries, who should receive it, and per
//! message the number of receipts and the time of the last one.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

/// Which connections a message is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
  All,
  Group(u32),
  User(u32),
}

impl Audience {
  fn tag(self) -> (char, u32) {
    match self {
      Audience::All => ('a', 0),
      Audience::Group(g) => ('g', g),
      Audience::User(u) => ('u', u),
    }
  }
}

/// The group and user of connection `index` (fixed by its token).
#[derive(Debug, Clone, Copy)]
pub struct Membership {
  pub group: u32,
  pub user: u32,
}

impl Membership {
  pub fn of(index: usize, groups: u32, users: u32) -> Membership {
    Membership {
      group: index as u32 % groups,
      user: index as u32 % users,
    }
  }

  pub fn receives(self, audience: Audience) -> bool {
    match audience {
      Audience::All => true,
      Audience::Group(g) => g == self.group,
      Audience::User(u) => u == self.user,
    }
  }
}

/// Message text: `~m<seq>|<a|g|u><id>|` followed by padding; the marker survives the JSON
/// protocol's envelope unescaped because it holds no JSON-special characters.
pub fn message_text(seq: u32, audience: Audience, padding: usize) -> String {
  let (k, id) = audience.tag();
  format!("~m{seq}|{k}{id}|{}", "x".repeat(padding))
}

/// Finds the marker in a received frame.
pub fn parse_marker(frame: &[u8]) -> Option<(u32, Audience)> {
  let start = frame.windows(2).position(|w| w == b"~m")? + 2;
  let rest = &frame[start..];
  let mut fields = rest.splitn(3, |&b| b == b'|');
  let seq = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
  let target = fields.next()?;
  let (&kind, id) = target.split_first()?;
  let id: u32 = std::str::from_utf8(id).ok()?.parse().ok()?;
  let audience = match kind {
    b'a' => Audience::All,
    b'g' => Audience::Group(id),
    b'u' => Audience::User(id),
    _ => return None,
  };
  fields.next()?;
  Some((seq, audience))
}

struct Slot {
  expected: AtomicU32,
  received: AtomicU32,
  sent_ns: AtomicU64,
  last_ns: AtomicU64,
}

/// Receipts per message sequence number, shared by all connections and the sender.
pub struct Tracker {
  origin: Instant,
  slots: Vec<Slot>,
  /// Frames that were not addressed to the connection that got them, or carried no marker.
  pub unexpected: AtomicU64,
}

impl Tracker {
  pub fn new(capacity: usize) -> Tracker {
    Tracker {
      origin: Instant::now(),
      slots: (0..capacity)
        .map(|_| Slot {
          expected: AtomicU32::new(0),
          received: AtomicU32::new(0),
          sent_ns: AtomicU64::new(0),
          last_ns: AtomicU64::new(0),
        })
        .collect(),
      unexpected: AtomicU64::new(0),
    }
  }

  pub fn capacity(&self) -> usize {
    self.slots.len()
  }

  pub fn now_ns(&self) -> u64 {
    self.origin.elapsed().as_nanos() as u64
  }

  /// Records that `seq` is about to be sent to `expected` receivers.
  pub fn start(&self, seq: u32, expected: u32) {
    let s = &self.slots[seq as usize];
    s.expected.store(expected, Ordering::Release);
    s.sent_ns.store(self.now_ns(), Ordering::Release);
  }

  /// A connection with `member` got a frame.
  pub fn receipt(&self, frame: &[u8], member: Membership) {
    match parse_marker(frame) {
      Some((seq, audience)) if member.receives(audience) && (seq as usize) < self.slots.len() => {
        let s = &self.slots[seq as usize];
        s.last_ns.fetch_max(self.now_ns(), Ordering::AcqRel);
        s.received.fetch_add(1, Ordering::AcqRel);
      }
      _ => {
        self.unexpected.fetch_add(1, Ordering::Relaxed);
      }
    }
  }

  pub fn complete(&self, seq: u32) -> bool {
    let s = &self.slots[seq as usize];
    s.received.load(Ordering::Acquire) >= s.expected.load(Ordering::Acquire)
  }

  pub fn sent_ns(&self, seq: u32) -> u64 {
    self.slots[seq as usize].sent_ns.load(Ordering::Acquire)
  }

  /// (expected, received, sent_ns, last receipt ns) of one message.
  pub fn outcome(&self, seq: u32) -> (u32, u32, u64, u64) {
    let s = &self.slots[seq as usize];
    (
      s.expected.load(Ordering::Acquire),
      s.received.load(Ordering::Acquire),
      s.sent_ns.load(Ordering::Acquire),
      s.last_ns.load(Ordering::Acquire),
    )
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn marker_round_trip_inside_json_envelope() {
    for a in [Audience::All, Audience::Group(7), Audience::User(123)] {
      let text = message_text(42, a, 8);
      let envelope = serde_json::json!({ "type": "message", "from": "server", "data": text });
      assert_eq!(parse_marker(envelope.to_string().as_bytes()), Some((42, a)));
    }
    assert_eq!(parse_marker(b"{\"type\":\"system\"}"), None);
  }

  #[test]
  fn receipts_count_only_addressed_connections() {
    let t = Tracker::new(2);
    t.start(0, 1);
    let frame = message_text(0, Audience::Group(1), 0);
    t.receipt(frame.as_bytes(), Membership::of(0, 2, 5));
    assert!(!t.complete(0));
    assert_eq!(t.unexpected.load(Ordering::Relaxed), 1);
    t.receipt(frame.as_bytes(), Membership::of(1, 2, 5));
    assert!(t.complete(0));
  }
}
