//! A connection's invocations in flight (`invoke` requests): each awaits the event handler's answer to a
//! user event beside the connection's other work, several at once and answered in any order, bounded
//! per connection. A cancelled invocation is dropped, so its late answer is never sent.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::{AbortHandle, Abortable, BoxFuture};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use crate::state::DataMessage;
use crate::ws::events::UserEventError;

/// Most invocations one connection may have waiting for the event handler.
pub const MAX_PENDING_INVOCATIONS: usize = 64;

/// The handler's answer: its message (none for an empty answer) or why there is none.
pub type Answer = Result<Option<Arc<DataMessage>>, UserEventError>;

/// Why an invocation was not started; the client gets a failed `invokeResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
  #[error("An invocation with this invocationId is already in progress.")]
  Duplicate,
  #[error("Too many invocations in progress on this connection (at most 64).")]
  TooMany,
}

#[derive(Default)]
pub struct Invocations {
  pending: FuturesUnordered<Abortable<BoxFuture<'static, (String, Answer)>>>,
  handles: HashMap<String, AbortHandle>,
}

impl Invocations {
  /// Starts waiting for `call`'s answer to invocation `id`.
  pub fn start(
    &mut self,
    id: String,
    call: impl Future<Output = Answer> + Send + 'static,
  ) -> Result<(), Refusal> {
    if self.handles.contains_key(&id) {
      return Err(Refusal::Duplicate);
    }
    if self.handles.len() == MAX_PENDING_INVOCATIONS {
      return Err(Refusal::TooMany);
    }
    let (handle, registration) = AbortHandle::new_pair();
    let key = id.clone();
    let call = async move { (key, call.await) }.boxed();
    self.pending.push(Abortable::new(call, registration));
    self.handles.insert(id, handle);
    Ok(())
  }

  /// Drops an invocation; unknown ids (already answered) are ignored.
  pub fn cancel(&mut self, id: &str) {
    if let Some(handle) = self.handles.remove(id) {
      handle.abort();
    }
  }

  /// The next answered invocation; pending while none is in flight.
  pub async fn next(&mut self) -> (String, Answer) {
    loop {
      match self.pending.next().await {
        Some(Ok((id, answer))) => {
          self.handles.remove(&id);
          return (id, answer);
        }
        Some(Err(_aborted)) => continue,
        None => std::future::pending().await,
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use tokio::sync::oneshot;

  #[tokio::test]
  async fn answers_arrive_in_any_order_and_cancelled_ones_never() {
    let mut invocations = Invocations::default();
    let (first_tx, first_rx) = oneshot::channel::<()>();
    let (second_tx, second_rx) = oneshot::channel::<()>();
    invocations
      .start("a".into(), async move {
        let _ = first_rx.await;
        Ok(None)
      })
      .unwrap();
    invocations
      .start("b".into(), async move {
        let _ = second_rx.await;
        Ok(None)
      })
      .unwrap();
    invocations.start("c".into(), async { Ok(None) }).unwrap();
    assert_eq!(
      invocations.start("a".into(), async { Ok(None) }),
      Err(Refusal::Duplicate)
    );
    assert_eq!(invocations.next().await.0, "c");
    invocations.cancel("a");
    second_tx.send(()).unwrap();
    let _ = first_tx.send(());
    assert_eq!(invocations.next().await.0, "b");
    let nothing =
      tokio::time::timeout(std::time::Duration::from_millis(50), invocations.next()).await;
    assert!(
      nothing.is_err(),
      "the cancelled invocation is never answered"
    );
  }

  #[tokio::test]
  async fn the_number_in_flight_is_bounded() {
    let mut invocations = Invocations::default();
    for i in 0..MAX_PENDING_INVOCATIONS {
      invocations
        .start(i.to_string(), std::future::pending())
        .unwrap();
    }
    assert_eq!(
      invocations.start("one more".into(), async { Ok(None) }),
      Err(Refusal::TooMany)
    );
    invocations.cancel("0");
    assert!(invocations
      .start("one more".into(), async { Ok(None) })
      .is_ok());
  }
}
