//! Delivery state of the reliable subprotocols: per-connection sequence ids, the buffer of frames the client
//! has not acknowledged yet, and cumulative sequence-ack handling. Frames of any protocol are kept as
//! they were sent, with their message's expiry: an expired frame is not replayed.

use std::collections::VecDeque;
use std::time::Instant;

use crate::ws::socket::Frame;

/// Most unacknowledged messages kept for one connection.
pub const MAX_UNACKED_MESSAGES: usize = 1000;
/// Most bytes of unacknowledged frames kept for one connection.
pub const MAX_UNACKED_BYTES: usize = 16 * 1024 * 1024;

/// The client let too many messages go unacknowledged; the connection cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The reliable message buffer is full.")]
pub struct BufferFull;

#[derive(Debug)]
struct Unacked {
  sequence_id: u64,
  frame: Frame,
  expires_at: Option<Instant>,
}

/// Sequence numbering and replay buffer of one logical reliable connection.
#[derive(Debug, Default)]
pub struct ReliableBuffer {
  last_sequence_id: u64,
  unacked: VecDeque<Unacked>,
  unacked_bytes: usize,
}

impl ReliableBuffer {
  pub fn new() -> Self {
    Self::default()
  }

  /// Gives the next data message its sequence id (the first is 1), builds its frame with `frame` and keeps
  /// the frame until the client acknowledges it or it expires.
  pub fn push(
    &mut self,
    expires_at: Option<Instant>,
    frame: impl FnOnce(u64) -> Frame,
  ) -> Result<Frame, BufferFull> {
    if self.unacked.len() >= MAX_UNACKED_MESSAGES {
      return Err(BufferFull);
    }
    let sequence_id = self.last_sequence_id + 1;
    let frame = frame(sequence_id);
    let size = frame.data_len();
    if self.unacked_bytes + size > MAX_UNACKED_BYTES {
      return Err(BufferFull);
    }
    self.last_sequence_id = sequence_id;
    self.unacked_bytes += size;
    self.unacked.push_back(Unacked {
      sequence_id,
      frame: frame.clone(),
      expires_at,
    });
    Ok(frame)
  }

  /// Drops every frame whose sequence id is at most `sequence_id` (acks are cumulative).
  pub fn ack(&mut self, sequence_id: u64) {
    while let Some(front) = self.unacked.front() {
      if front.sequence_id > sequence_id {
        break;
      }
      self.unacked_bytes -= front.frame.data_len();
      self.unacked.pop_front();
    }
  }

  /// Drops the frames that expired by `now`; returns how many.
  pub fn drop_expired(&mut self, now: Instant) -> usize {
    let before = self.unacked.len();
    self
      .unacked
      .retain(|entry| entry.expires_at.is_none_or(|expiry| expiry > now));
    self.unacked_bytes = self
      .unacked
      .iter()
      .map(|entry| entry.frame.data_len())
      .sum();
    before - self.unacked.len()
  }

  /// The unacknowledged frames, oldest first, for replay after a recovery.
  pub fn unacked(&self) -> impl Iterator<Item = &Frame> {
    self.unacked.iter().map(|entry| &entry.frame)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::ws::socket::Message;

  fn frame(sequence_id: u64) -> Frame {
    Message::Text(format!("m{sequence_id}").into()).into()
  }

  fn text(frame: Frame) -> String {
    frame
      .into_message()
      .into_text()
      .unwrap()
      .as_str()
      .to_owned()
  }

  fn unacked(buffer: &ReliableBuffer) -> Vec<String> {
    buffer.unacked().cloned().map(text).collect()
  }

  #[test]
  fn sequence_ids_start_at_one_and_increase() {
    let mut buffer = ReliableBuffer::new();
    assert_eq!(text(buffer.push(None, frame).unwrap()), "m1");
    assert_eq!(text(buffer.push(None, frame).unwrap()), "m2");
    assert_eq!(unacked(&buffer), ["m1", "m2"]);
  }

  #[test]
  fn acks_are_cumulative_and_ignore_stale_values() {
    let mut buffer = ReliableBuffer::new();
    for _ in 0..5 {
      buffer.push(None, frame).unwrap();
    }
    buffer.ack(3);
    assert_eq!(unacked(&buffer), ["m4", "m5"]);
    buffer.ack(1);
    assert_eq!(unacked(&buffer), ["m4", "m5"]);
    buffer.ack(u64::MAX);
    assert!(unacked(&buffer).is_empty());
    assert_eq!(buffer.unacked_bytes, 0);
    assert_eq!(text(buffer.push(None, frame).unwrap()), "m6");
  }

  #[test]
  fn overflows_by_count() {
    let mut buffer = ReliableBuffer::new();
    for _ in 0..MAX_UNACKED_MESSAGES {
      buffer.push(None, frame).unwrap();
    }
    assert_eq!(buffer.push(None, frame), Err(BufferFull));
    buffer.ack(1);
    assert!(buffer.push(None, frame).is_ok());
  }

  #[test]
  fn overflows_by_size() {
    let mut buffer = ReliableBuffer::new();
    let big = "x".repeat(MAX_UNACKED_BYTES / 2);
    buffer
      .push(None, |_| Message::Text(big.clone().into()).into())
      .unwrap();
    buffer
      .push(None, |_| Message::Binary(big.clone().into()).into())
      .unwrap();
    assert_eq!(
      buffer.push(None, |_| Message::Text("y".into()).into()),
      Err(BufferFull)
    );
    assert_eq!(buffer.unacked().count(), 2);
  }

  #[test]
  fn expired_frames_are_dropped_before_replay() {
    let mut buffer = ReliableBuffer::new();
    let now = Instant::now();
    let later = now + std::time::Duration::from_secs(10);
    buffer.push(Some(now), frame).unwrap();
    buffer.push(None, frame).unwrap();
    buffer.push(Some(later), frame).unwrap();
    assert_eq!(buffer.drop_expired(now), 1);
    assert_eq!(unacked(&buffer), ["m2", "m3"]);
    assert_eq!(buffer.unacked_bytes, 4);
    assert_eq!(buffer.drop_expired(later), 1);
    assert_eq!(unacked(&buffer), ["m2"]);
  }
}
