//! Settles the promises of native calls on their JS thread.
//!
//! napi-rs's `spawn_future` creates and tears down a threadsafe function (a libuv handle, a cleanup
//! hook and a wake-up of the JS thread) for every call. Here one threadsafe function per JS
//! environment is a doorbell: the I/O thread queues finished calls and rings only when the queue
//! was empty, and the JS thread settles everything queued in one callback. While calls are in
//! flight the doorbell keeps the event loop alive, as an open socket would; otherwise it does not.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env};

use crate::convert::NativeResponse;
use crate::error::NativeFailure;

/// A promise's resolver. Made on a JS thread and used only there.
struct Deferred(sys::napi_deferred);

// SAFETY: the I/O thread only carries the pointer; Node reads it on the JS thread that made it.
unsafe impl Send for Deferred {}

struct Queue {
  done: Vec<(Deferred, NativeResponse)>,
  /// Set when the environment tears down: the doorbell is gone and results are dropped.
  closed: bool,
}

/// The completion queue of one JS environment.
pub(crate) struct Completions {
  /// The threadsafe function; set once, right after it is created.
  doorbell: AtomicPtr<sys::napi_threadsafe_function__>,
  queue: Mutex<Queue>,
  /// Calls begun and not yet settled; changed on the JS thread only.
  in_flight: AtomicUsize,
}

/// A call begun on the JS thread; `finish` (from any thread) settles its promise. Dropped
/// unfinished (its task panicked), it settles the promise with an internal failure.
pub(crate) struct Pending {
  completions: Arc<Completions>,
  deferred: Option<Deferred>,
}

impl Pending {
  pub(crate) fn finish(mut self, response: NativeResponse) {
    if let Some(deferred) = self.deferred.take() {
      self.completions.push(deferred, response);
    }
  }
}

impl Drop for Pending {
  fn drop(&mut self) {
    if let Some(deferred) = self.deferred.take() {
      let failure = NativeFailure {
        kind: "internal".to_owned(),
        code: None,
        message: "The request ended without an answer: an internal error of web-pubsub-native."
          .to_owned(),
      };
      self
        .completions
        .push(deferred, crate::convert::failure_record(failure));
    }
  }
}

thread_local! {
  /// The JS environment that runs on this thread (each Node worker has its own thread).
  static COMPLETIONS: RefCell<Option<Arc<Completions>>> = const { RefCell::new(None) };
}

/// Makes a promise for a call about to start, and the `Pending` that settles it.
pub(crate) fn begin<'env>(
  env: &'env Env,
) -> napi::Result<(PromiseRaw<'env, NativeResponse>, Pending)> {
  let completions = COMPLETIONS.with(|slot| -> napi::Result<_> {
    let mut slot = slot.borrow_mut();
    if let Some(completions) = slot.as_ref() {
      return Ok(Arc::clone(completions));
    }
    let completions = Completions::new(env)?;
    *slot = Some(Arc::clone(&completions));
    Ok(completions)
  })?;
  let mut deferred = ptr::null_mut();
  let mut promise = ptr::null_mut();
  check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
  if completions.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
    check_status!(unsafe { sys::napi_ref_threadsafe_function(env.raw(), completions.doorbell()) })?;
  }
  let pending = Pending {
    completions,
    deferred: Some(Deferred(deferred)),
  };
  Ok((PromiseRaw::new(env.raw(), promise), pending))
}

impl Completions {
  fn new(env: &Env) -> napi::Result<Arc<Self>> {
    let mut name = ptr::null_mut();
    let label = "web-pubsub-native completions";
    check_status!(unsafe {
      sys::napi_create_string_utf8(
        env.raw(),
        label.as_ptr().cast(),
        label.len() as isize,
        &mut name,
      )
    })?;
    // The doorbell points at the queue it serves; its finalizer holds one reference, so the
    // pointer stays valid for as long as Node may call `ring`.
    let completions = Arc::new(Self {
      doorbell: AtomicPtr::new(ptr::null_mut()),
      queue: Mutex::new(Queue {
        done: Vec::new(),
        closed: false,
      }),
      in_flight: AtomicUsize::new(0),
    });
    let context = Arc::as_ptr(&completions) as *mut c_void;
    let finalize_data = Arc::into_raw(Arc::clone(&completions)) as *mut c_void;
    let mut doorbell = ptr::null_mut();
    let status = unsafe {
      sys::napi_create_threadsafe_function(
        env.raw(),
        ptr::null_mut(),
        ptr::null_mut(),
        name,
        0,
        1,
        finalize_data,
        Some(release_reference),
        context,
        Some(ring),
        &mut doorbell,
      )
    };
    if let Err(error) = check_status!(status) {
      drop(unsafe { Arc::from_raw(finalize_data as *const Self) });
      return Err(error);
    }
    completions.doorbell.store(doorbell, Ordering::Release);
    check_status!(unsafe { sys::napi_unref_threadsafe_function(env.raw(), doorbell) })?;
    // Registered after the doorbell, so it runs before Node's own teardown of the doorbell.
    let hook_data = Arc::into_raw(Arc::clone(&completions)) as *mut c_void;
    check_status!(unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(close), hook_data) })?;
    Ok(completions)
  }

  fn doorbell(&self) -> sys::napi_threadsafe_function {
    self.doorbell.load(Ordering::Acquire)
  }

  fn lock(&self) -> MutexGuard<'_, Queue> {
    self.queue.lock().unwrap_or_else(PoisonError::into_inner)
  }

  fn push(&self, deferred: Deferred, response: NativeResponse) {
    let mut queue = self.lock();
    if queue.closed {
      return;
    }
    let was_empty = queue.done.is_empty();
    queue.done.push((deferred, response));
    if was_empty {
      // Non-blocking on an unbounded queue: cannot fail but for a closing environment, which
      // `closed` already rules out.
      unsafe {
        sys::napi_call_threadsafe_function(
          self.doorbell(),
          ptr::null_mut(),
          sys::ThreadsafeFunctionCallMode::nonblocking,
        )
      };
    }
  }

  /// Settles every queued call (on the JS thread).
  fn settle_all(&self, env: sys::napi_env) {
    let done = std::mem::take(&mut self.lock().done);
    let count = done.len();
    for (deferred, response) in done {
      unsafe {
        match NativeResponse::to_napi_value(env, response) {
          Ok(value) => sys::napi_resolve_deferred(env, deferred.0, value),
          Err(error) => {
            let reason = napi::JsError::from(error).into_value(env);
            sys::napi_reject_deferred(env, deferred.0, reason)
          }
        };
      }
    }
    if count > 0 && self.in_flight.fetch_sub(count, Ordering::Relaxed) == count {
      unsafe { sys::napi_unref_threadsafe_function(env, self.doorbell()) };
    }
  }
}

/// The doorbell's callback. Node also calls it with no environment while tearing the doorbell
/// down; there is nothing to settle then.
unsafe extern "C" fn ring(
  env: sys::napi_env,
  _js_callback: sys::napi_value,
  context: *mut c_void,
  _data: *mut c_void,
) {
  if env.is_null() {
    return;
  }
  // SAFETY: `context` is the `Completions` the doorbell's finalizer keeps alive.
  let completions = unsafe { &*(context as *const Completions) };
  completions.settle_all(env);
}

unsafe extern "C" fn release_reference(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  drop(unsafe { Arc::from_raw(data as *const Completions) });
}

/// The environment is going away: results that arrive later are dropped with their promises.
unsafe extern "C" fn close(data: *mut c_void) {
  let completions = unsafe { Arc::from_raw(data as *const Completions) };
  let mut queue = completions.lock();
  queue.closed = true;
  queue.done.clear();
  drop(queue);
  let _ = COMPLETIONS.try_with(|slot| slot.borrow_mut().take());
}
