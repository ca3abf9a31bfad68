//! Who is connected, in which group and as which user, and the fan-out itself: one frame per
//! protocol per message, cloned (a reference count) into every addressed connection's queue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames queued per connection before further ones are dropped (the emulator's bound too).
pub const QUEUE: usize = 1000;

struct Peer {
  tx: mpsc::Sender<Message>,
  json: bool,
}

#[derive(Default)]
struct Registry {
  peers: HashMap<u64, Peer>,
  groups: HashMap<String, Vec<u64>>,
  users: HashMap<String, Vec<u64>>,
}

/// Where a REST send goes.
pub enum Target<'a> {
  All,
  Group(&'a str),
  User(&'a str),
}

#[derive(Default)]
pub struct Hub {
  registry: RwLock<Registry>,
  next_id: AtomicU64,
  /// Frames not queued because a connection's queue was full.
  pub overflowed: AtomicU64,
}

impl Hub {
  pub fn join(
    &self,
    json: bool,
    user: Option<String>,
    groups: Vec<String>,
  ) -> (u64, mpsc::Receiver<Message>) {
    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut r = self.registry.write().unwrap();
    r.peers.insert(id, Peer { tx, json });
    for g in groups {
      r.groups.entry(g).or_default().push(id);
    }
    if let Some(u) = user {
      r.users.entry(u).or_default().push(id);
    }
    (id, rx)
  }

  pub fn leave(&self, id: u64) {
    let mut guard = self.registry.write().unwrap();
    let r = &mut *guard;
    r.peers.remove(&id);
    for members in r.groups.values_mut().chain(r.users.values_mut()) {
      members.retain(|&m| m != id);
    }
  }

  /// Queues a text message for every addressed connection; returns how many got it.
  pub fn send(&self, target: Target<'_>, text: &str) -> usize {
    let data = serde_json::Value::from(text).to_string();
    let envelope = match target {
      Target::Group(g) => format!(
        r#"{{"type":"message","from":"group","group":{},"dataType":"text","data":{data},"fromUserId":null}}"#,
        serde_json::Value::from(g)
      ),
      _ => format!(r#"{{"type":"message","from":"server","dataType":"text","data":{data}}}"#),
    };
    let raw = Message::Text(Utf8Bytes::from(text.to_owned()));
    let json = Message::Text(Utf8Bytes::from(envelope));
    let r = self.registry.read().unwrap();
    let deliver = |peer: &Peer| {
      let frame = if peer.json { json.clone() } else { raw.clone() };
      let queued = peer.tx.try_send(frame).is_ok();
      if !queued {
        self.overflowed.fetch_add(1, Ordering::Relaxed);
      }
      usize::from(queued)
    };
    let members = |ids: Option<&Vec<u64>>| {
      ids
        .into_iter()
        .flatten()
        .filter_map(|id| r.peers.get(id))
        .map(deliver)
        .sum()
    };
    match target {
      Target::All => r.peers.values().map(deliver).sum(),
      Target::Group(g) => members(r.groups.get(g)),
      Target::User(u) => members(r.users.get(u)),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn fans_out_to_members_only() {
    let hub = Hub::default();
    let (_, mut a) = hub.join(true, Some("u1".into()), vec!["g1".into()]);
    let (b_id, mut b) = hub.join(false, Some("u2".into()), vec![]);
    assert_eq!(hub.send(Target::Group("g1"), "hi"), 1);
    let Message::Text(t) = a.try_recv().unwrap() else {
      panic!("text frame expected")
    };
    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
    assert_eq!(
      (v["from"].as_str(), v["group"].as_str(), v["data"].as_str()),
      (Some("group"), Some("g1"), Some("hi"))
    );
    assert!(b.try_recv().is_err());
    assert_eq!(hub.send(Target::User("u2"), "x"), 1);
    assert_eq!(b.try_recv().unwrap(), Message::Text("x".into()));
    hub.leave(b_id);
    assert_eq!(hub.send(Target::All, "y"), 1);
  }
}
