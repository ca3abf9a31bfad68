//! Delivery state of the reliable subprotocol: per-connection sequence ids, the buffer of frames the client
//! has not acknowledged yet, and cumulative `sequenceAck` handling.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

/// Most unacknowledged messages kept for one connection.
pub const MAX_UNACKED_MESSAGES: usize = 1000;
/// Most bytes of unacknowledged frames kept for one connection.
pub const MAX_UNACKED_BYTES: usize = 16 * 1024 * 1024;

/// The client let too many messages go unacknowledged; the connection cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The reliable message buffer is full.")]
pub struct BufferFull;

/// Sequence numbering and replay buffer of one logical reliable connection.
#[derive(Debug, Default)]
pub struct ReliableBuffer {
  last_sequence_id: u64,
  unacked: VecDeque<(u64, Utf8Bytes)>,
  unacked_bytes: usize,
}

impl ReliableBuffer {
  pub fn new() -> Self {
    Self::default()
  }

  /// Gives the next data message its sequence id (the first is 1), builds its frame with `frame` and keeps
  /// the frame until the client acknowledges it.
  pub fn push(&mut self, frame: impl FnOnce(u64) -> Utf8Bytes) -> Result<Utf8Bytes, BufferFull> {
    if self.unacked.len() >= MAX_UNACKED_MESSAGES {
      return Err(BufferFull);
    }
    let sequence_id = self.last_sequence_id + 1;
    let frame = frame(sequence_id);
    let size = frame.as_str().len();
    if self.unacked_bytes + size > MAX_UNACKED_BYTES {
      return Err(BufferFull);
    }
    self.last_sequence_id = sequence_id;
    self.unacked_bytes += size;
    self.unacked.push_back((sequence_id, frame.clone()));
    Ok(frame)
  }

  /// Drops every frame whose sequence id is at most `sequence_id` (acks are cumulative).
  pub fn ack(&mut self, sequence_id: u64) {
    while let Some((front, frame)) = self.unacked.front() {
      if *front > sequence_id {
        break;
      }
      self.unacked_bytes -= frame.as_str().len();
      self.unacked.pop_front();
    }
  }

  /// The unacknowledged frames, oldest first, for replay after a recovery.
  pub fn unacked(&self) -> impl Iterator<Item = &Utf8Bytes> {
    self.unacked.iter().map(|(_, frame)| frame)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn frame(sequence_id: u64) -> Utf8Bytes {
    format!("m{sequence_id}").into()
  }

  fn unacked(buffer: &ReliableBuffer) -> Vec<String> {
    buffer.unacked().map(|f| f.as_str().to_owned()).collect()
  }

  #[test]
  fn sequence_ids_start_at_one_and_increase() {
    let mut buffer = ReliableBuffer::new();
    assert_eq!(buffer.push(frame).unwrap().as_str(), "m1");
    assert_eq!(buffer.push(frame).unwrap().as_str(), "m2");
    assert_eq!(unacked(&buffer), ["m1", "m2"]);
  }

  #[test]
  fn acks_are_cumulative_and_ignore_stale_values() {
    let mut buffer = ReliableBuffer::new();
    for _ in 0..5 {
      buffer.push(frame).unwrap();
    }
    buffer.ack(3);
    assert_eq!(unacked(&buffer), ["m4", "m5"]);
    buffer.ack(1);
    assert_eq!(unacked(&buffer), ["m4", "m5"]);
    buffer.ack(u64::MAX);
    assert!(unacked(&buffer).is_empty());
    assert_eq!(buffer.unacked_bytes, 0);
    assert_eq!(buffer.push(frame).unwrap().as_str(), "m6");
  }

  #[test]
  fn overflows_by_count() {
    let mut buffer = ReliableBuffer::new();
    for _ in 0..MAX_UNACKED_MESSAGES {
      buffer.push(frame).unwrap();
    }
    assert_eq!(buffer.push(frame), Err(BufferFull));
    buffer.ack(1);
    assert!(buffer.push(frame).is_ok());
  }

  #[test]
  fn overflows_by_size() {
    let mut buffer = ReliableBuffer::new();
    let big = "x".repeat(MAX_UNACKED_BYTES / 2);
    buffer.push(|_| big.clone().into()).unwrap();
    buffer.push(|_| big.clone().into()).unwrap();
    assert_eq!(buffer.push(|_| "y".into()), Err(BufferFull));
    assert_eq!(buffer.unacked().count(), 2);
  }
}
