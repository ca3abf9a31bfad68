//! The group streams one connection writes: each an ordered run of fragments to a group, numbered 1, 2, …
//! by the writer. The next expected fragment is published; a lower number is a duplicate (acknowledged,
//! not published again, as a reliable writer resends after recovery); a higher one is out of order. A
//! stream ends when its writer ends it, when it stays idle past its timeout, or when its writer's
//! connection ends. Fragments are published as they come, so nothing is buffered per stream.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// Most streams one connection may have open.
pub const MAX_STREAMS_PER_CONNECTION: usize = 16;
/// How long a stream may go without a fragment or keepalive, unless its writer asks otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest idle timeout a writer may ask for.
pub const MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);
const MAX_STREAM_ID_CHARS: usize = 128;

/// Why a stream was not opened; the writer gets `streamClosed` with this error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StartRefusal {
  #[error("The stream id must be 1 to 128 characters.")]
  InvalidStreamId,
  #[error("A stream with this id is already open on this connection.")]
  DuplicateStream,
  #[error("Too many streams are open on this connection (at most 16).")]
  TooManyStreams,
}

impl StartRefusal {
  pub fn name(self) -> &'static str {
    match self {
      StartRefusal::InvalidStreamId => "InvalidStreamId",
      StartRefusal::DuplicateStream => "DuplicateStream",
      StartRefusal::TooManyStreams => "TooManyStreams",
    }
  }
}

/// A stream that is over: where its end goes and the sequence id its end message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
  pub stream_id: String,
  pub group: String,
  pub no_echo: bool,
  pub next_sequence_id: u64,
}

/// What a `streamData` frame does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
  /// Publish it to `group`; the writer is told `expected` next.
  Publish {
    group: String,
    no_echo: bool,
    expected: u64,
  },
  /// Already published; acknowledge `expected` again.
  Duplicate { expected: u64 },
  /// Out of order: the writer must resend from `expected`.
  Gap { expected: u64 },
  /// A keepalive: nothing to publish or answer.
  KeepAlive,
  /// No such stream is open.
  NotFound,
}

#[derive(Debug)]
struct Stream {
  group: String,
  no_echo: bool,
  expected: u64,
  idle_timeout: Duration,
  deadline: Instant,
}

impl Stream {
  fn ended(&self, stream_id: String) -> Ended {
    Ended {
      stream_id,
      group: self.group.clone(),
      no_echo: self.no_echo,
      next_sequence_id: self.expected,
    }
  }
}

#[derive(Debug, Default)]
pub struct Streams {
  open: HashMap<String, Stream>,
}

impl Streams {
  /// Opens a stream; `idle_timeout_ms` 0 or absent means [`DEFAULT_IDLE_TIMEOUT`].
  pub fn start(
    &mut self,
    stream_id: &str,
    group: &str,
    no_echo: bool,
    idle_timeout_ms: Option<u64>,
    now: Instant,
  ) -> Result<(), StartRefusal> {
    if stream_id.is_empty() || stream_id.chars().count() > MAX_STREAM_ID_CHARS {
      return Err(StartRefusal::InvalidStreamId);
    }
    if self.open.contains_key(stream_id) {
      return Err(StartRefusal::DuplicateStream);
    }
    if self.open.len() == MAX_STREAMS_PER_CONNECTION {
      return Err(StartRefusal::TooManyStreams);
    }
    let idle_timeout = match idle_timeout_ms {
      None | Some(0) => DEFAULT_IDLE_TIMEOUT,
      Some(ms) => Duration::from_millis(ms).min(MAX_IDLE_TIMEOUT),
    };
    let stream = Stream {
      group: group.to_owned(),
      no_echo,
      expected: 1,
      idle_timeout,
      deadline: now + idle_timeout,
    };
    self.open.insert(stream_id.to_owned(), stream);
    Ok(())
  }

  /// A fragment numbered `sequence_id`, or a keepalive (`None`); either keeps the stream alive.
  pub fn data(&mut self, stream_id: &str, sequence_id: Option<u64>, now: Instant) -> Fragment {
    let Some(stream) = self.open.get_mut(stream_id) else {
      return Fragment::NotFound;
    };
    stream.deadline = now + stream.idle_timeout;
    match sequence_id {
      None => Fragment::KeepAlive,
      Some(id) if id == stream.expected => {
        stream.expected += 1;
        Fragment::Publish {
          group: stream.group.clone(),
          no_echo: stream.no_echo,
          expected: stream.expected,
        }
      }
      Some(id) if id < stream.expected => Fragment::Duplicate {
        expected: stream.expected,
      },
      Some(_) => Fragment::Gap {
        expected: stream.expected,
      },
    }
  }

  /// Ends a stream at its writer's request; `None` when it is not open. Its id may be used again.
  pub fn end(&mut self, stream_id: &str) -> Option<Ended> {
    let stream = self.open.remove(stream_id)?;
    Some(stream.ended(stream_id.to_owned()))
  }

  /// When the next stream goes idle.
  pub fn next_deadline(&self) -> Option<Instant> {
    self.open.values().map(|stream| stream.deadline).min()
  }

  /// Ends the streams idle at `now`.
  pub fn expire(&mut self, now: Instant) -> Vec<Ended> {
    let idle: Vec<String> = self
      .open
      .iter()
      .filter(|(_, stream)| stream.deadline <= now)
      .map(|(id, _)| id.clone())
      .collect();
    idle.into_iter().filter_map(|id| self.end(&id)).collect()
  }

  /// Ends every stream (the writer's connection is gone).
  pub fn end_all(&mut self) -> Vec<Ended> {
    self
      .open
      .drain()
      .map(|(id, stream)| stream.ended(id))
      .collect()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn fragments_are_published_in_order_duplicates_acked_and_gaps_refused() {
    let now = Instant::now();
    let mut streams = Streams::default();
    streams.start("s", "g", false, None, now).unwrap();
    let publish = |expected| Fragment::Publish {
      group: "g".into(),
      no_echo: false,
      expected,
    };
    assert_eq!(streams.data("s", Some(1), now), publish(2));
    assert_eq!(streams.data("s", Some(2), now), publish(3));
    assert_eq!(
      streams.data("s", Some(1), now),
      Fragment::Duplicate { expected: 3 }
    );
    assert_eq!(
      streams.data("s", Some(5), now),
      Fragment::Gap { expected: 3 }
    );
    assert_eq!(streams.data("s", None, now), Fragment::KeepAlive);
    assert_eq!(streams.data("other", Some(1), now), Fragment::NotFound);
    let ended = streams.end("s").unwrap();
    assert_eq!((ended.group.as_str(), ended.next_sequence_id), ("g", 3));
    assert_eq!(streams.end("s"), None);
    assert!(
      streams.start("s", "g", false, None, now).is_ok(),
      "an ended id can be used again"
    );
  }

  #[test]
  fn refused_starts() {
    let now = Instant::now();
    let mut streams = Streams::default();
    assert_eq!(
      streams.start("", "g", false, None, now),
      Err(StartRefusal::InvalidStreamId)
    );
    assert_eq!(
      streams.start(&"x".repeat(129), "g", false, None, now),
      Err(StartRefusal::InvalidStreamId)
    );
    for i in 0..MAX_STREAMS_PER_CONNECTION {
      streams
        .start(&i.to_string(), "g", false, None, now)
        .unwrap();
    }
    assert_eq!(
      streams.start("0", "g", false, None, now),
      Err(StartRefusal::DuplicateStream)
    );
    assert_eq!(
      streams.start("new", "g", false, None, now),
      Err(StartRefusal::TooManyStreams)
    );
    assert_eq!(streams.end_all().len(), MAX_STREAMS_PER_CONNECTION);
    assert_eq!(streams.next_deadline(), None);
  }

  #[test]
  fn idle_streams_expire_and_activity_keeps_them_open() {
    let now = Instant::now();
    let mut streams = Streams::default();
    streams.start("quiet", "g", false, Some(100), now).unwrap();
    streams.start("busy", "g", false, Some(100), now).unwrap();
    streams.start("default", "g", false, Some(0), now).unwrap();
    let later = now + Duration::from_millis(80);
    streams.data("busy", None, later);
    let expired = streams.expire(now + Duration::from_millis(120));
    assert_eq!(
      expired
        .iter()
        .map(|e| e.stream_id.as_str())
        .collect::<Vec<_>>(),
      ["quiet"]
    );
    assert_eq!(
      streams.next_deadline(),
      Some(later + Duration::from_millis(100))
    );
    assert!(streams
      .expire(now + DEFAULT_IDLE_TIMEOUT)
      .iter()
      .any(|e| e.stream_id == "default"));
  }
}
