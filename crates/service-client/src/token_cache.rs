//! Bearer-token caching with core-rest-pipeline's refresh rules:
//! - no token, or less than 1 s left: every caller waits for one shared refresh;
//! - less than 2 min left (or past `refresh_after_ms`): one background refresh starts and
//!   callers keep using the current token;
//! - a background refresh that fails is retried every 3 s until the current token expires; the
//!   first attempt without a usable token reports its error.

use crate::credential::{AccessToken, TokenProvider};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The scope the SDK asks for.
pub const WEB_PUBSUB_SCOPE: &str = "https://webpubsub.azure.com/.default";

const REFRESH_WINDOW_MS: u64 = 2 * 60 * 1000;
const FORCED_REFRESH_WINDOW_MS: u64 = 1000;
const RETRY_INTERVAL: Duration = Duration::from_secs(3);

type Refresh = Shared<BoxFuture<'static, Result<AccessToken, String>>>;

#[derive(Default)]
struct State {
  token: Option<AccessToken>,
  refreshing: Option<Refresh>,
}

/// Caches the token of one [`TokenProvider`].
pub(crate) struct TokenCache {
  provider: Arc<dyn TokenProvider>,
  state: Mutex<State>,
}

impl TokenCache {
  pub(crate) fn new(provider: Arc<dyn TokenProvider>) -> Arc<Self> {
    Arc::new(Self {
      provider,
      state: Mutex::new(State::default()),
    })
  }

  /// The token to send now, refreshing as described in the module docs.
  pub(crate) async fn token(self: &Arc<Self>) -> Result<String, String> {
    let now = now_ms();
    let pending = {
      let mut state = self.lock();
      match &state.token {
        Some(token) if token.expires_on_ms.saturating_sub(FORCED_REFRESH_WINDOW_MS) >= now => {
          let token_text = token.token.clone();
          let should_refresh = state.refreshing.is_none()
            && (token.refresh_after_ms.is_some_and(|at| at < now)
              || token.expires_on_ms.saturating_sub(REFRESH_WINDOW_MS) < now);
          if should_refresh {
            // The refresh runs on its own task; this caller keeps the current token.
            drop(self.start_refresh(&mut state));
          }
          return Ok(token_text);
        }
        _ => self.start_refresh(&mut state),
      }
    };
    pending.await.map(|token| token.token)
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Joins the refresh in progress or starts one on the runtime, so that it completes even when
  /// no caller waits for it.
  fn start_refresh(self: &Arc<Self>, state: &mut State) -> Refresh {
    if let Some(refresh) = &state.refreshing {
      return refresh.clone();
    }
    let give_up_at = state.token.as_ref().map_or(0, |token| token.expires_on_ms);
    let cache = Arc::clone(self);
    // The spawned task locks the state only after this function returns the lock.
    let task = tokio::spawn(async move {
      let result = cache.fetch(give_up_at).await;
      let mut state = cache.lock();
      state.refreshing = None;
      state.token = result.as_ref().ok().cloned();
      result
    });
    let refresh = async move {
      task
        .await
        .unwrap_or_else(|join_error| Err(join_error.to_string()))
    }
    .boxed()
    .shared();
    state.refreshing = Some(refresh.clone());
    refresh
  }

  async fn fetch(&self, give_up_at_ms: u64) -> Result<AccessToken, String> {
    loop {
      let attempt = self.provider.get_token(vec![WEB_PUBSUB_SCOPE.to_owned()]);
      if now_ms() >= give_up_at_ms {
        return attempt.await;
      }
      if let Ok(token) = attempt.await {
        return Ok(token);
      }
      tokio::time::sleep(RETRY_INTERVAL).await;
    }
  }
}

fn now_ms() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicU32, Ordering};

  struct Counting {
    calls: AtomicU32,
    lifetime_ms: u64,
  }

  impl TokenProvider for Counting {
    fn get_token(&self, scopes: Vec<String>) -> BoxFuture<'static, Result<AccessToken, String>> {
      assert_eq!(scopes, vec![WEB_PUBSUB_SCOPE.to_owned()]);
      let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
      let lifetime_ms = self.lifetime_ms;
      async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(AccessToken {
          token: format!("t{n}"),
          expires_on_ms: now_ms() + lifetime_ms,
          refresh_after_ms: None,
        })
      }
      .boxed()
    }
  }

  #[tokio::test]
  async fn concurrent_callers_share_one_fetch_and_reuse_the_token() {
    let provider = Arc::new(Counting {
      calls: AtomicU32::new(0),
      lifetime_ms: 3_600_000,
    });
    let cache = TokenCache::new(provider.clone());
    let tokens = futures_util::future::join_all((0..8).map(|_| {
      let cache = cache.clone();
      async move { cache.token().await }
    }))
    .await;
    assert!(tokens.iter().all(|t| t.as_deref() == Ok("t1")));
    assert_eq!(cache.token().await.as_deref(), Ok("t1"));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
  }

  #[tokio::test]
  async fn token_near_expiry_is_refreshed_in_the_background() {
    // 90 s left: inside the 2-minute window but outside the 1-second forced window.
    let provider = Arc::new(Counting {
      calls: AtomicU32::new(0),
      lifetime_ms: 90_000,
    });
    let cache = TokenCache::new(provider.clone());
    assert_eq!(cache.token().await.as_deref(), Ok("t1"));
    // The current token is still returned while a refresh starts.
    assert_eq!(cache.token().await.as_deref(), Ok("t1"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.token().await.as_deref(), Ok("t2"));
    assert!(provider.calls.load(Ordering::SeqCst) >= 2);
  }

  struct Failing;

  impl TokenProvider for Failing {
    fn get_token(&self, _: Vec<String>) -> BoxFuture<'static, Result<AccessToken, String>> {
      async { Err("no credential available".to_owned()) }.boxed()
    }
  }

  #[tokio::test]
  async fn first_failure_is_reported() {
    let cache = TokenCache::new(Arc::new(Failing));
    assert_eq!(
      cache.token().await,
      Err("no credential available".to_owned())
    );
  }
}
