//! MQTT sessions that outlive their connection: a session with an expiry registers here under its
//! hub and client id, and a later CONNECT without clean start hands its transport to the session's
//! task instead of starting a new session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::BytesMut;
use tokio::sync::mpsc;

use super::packet::Connect;
use crate::ws::socket::WebSocket;

/// A new transport for an existing session: the socket, its CONNECT and what was read after it.
pub struct Resume {
  pub socket: WebSocket,
  pub connect: Box<Connect>,
  pub buf: BytesMut,
  /// The keep-alive the new CONNECT settled on.
  pub keep_alive: u16,
  pub ip: Option<String>,
}

type Key = (String, String);

/// A registered session's end of the channel; `id` tells it from a later one of the same client id.
pub struct Registration {
  id: u64,
  pub receiver: mpsc::Receiver<Resume>,
}

/// The resumable MQTT sessions of one emulator.
#[derive(Default)]
pub struct Sessions {
  sessions: Mutex<HashMap<Key, (u64, mpsc::Sender<Resume>)>>,
  next_id: AtomicU64,
}

impl Sessions {
  /// Registers the session of `client_id` in `hub` (lower-cased), replacing one registered before.
  pub fn register(&self, hub: &str, client_id: &str) -> Registration {
    let (sender, receiver) = mpsc::channel(1);
    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
    let key = (hub.to_owned(), client_id.to_owned());
    self.sessions.lock().unwrap().insert(key, (id, sender));
    Registration { id, receiver }
  }

  /// Forgets a registration (not one made after it under the same id).
  pub fn unregister(&self, hub: &str, client_id: &str, registration: &Registration) {
    let key = (hub.to_owned(), client_id.to_owned());
    let mut sessions = self.sessions.lock().unwrap();
    if sessions
      .get(&key)
      .is_some_and(|(id, _)| *id == registration.id)
    {
      sessions.remove(&key);
    }
  }

  /// Hands a transport to the registered session, or gives it back when there is none (or it is
  /// ending).
  pub fn resume(&self, hub: &str, client_id: &str, resume: Resume) -> Result<(), Box<Resume>> {
    let key = (hub.to_owned(), client_id.to_owned());
    let sender = self
      .sessions
      .lock()
      .unwrap()
      .get(&key)
      .map(|(_, sender)| sender.clone());
    match sender {
      Some(sender) => sender
        .try_send(resume)
        .map_err(|error| Box::new(error.into_inner())),
      None => Err(Box::new(resume)),
    }
  }
}
