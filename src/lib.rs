//! Node.js bindings (napi-rs) of web-pubsub-native: thin classes over the Rust crates.
//!
//! - [`client`]: `NativeClient`, one generic `invoke` over the service client's operations;
//! - [`convert`]: JS option and operation records to core types, core responses to JS records;
//! - [`credential`]: a JS `getToken` callback as the core's `TokenProvider`;
//! - [`attempt_log`]: per-attempt request/response events for logging, sent to a JS callback;
//! - [`attempt_trace`]: per-attempt span events for tracing, and the headers JS gives back;
//! - [`io_thread`]: the one thread all clients' requests run on;
//! - [`completion`]: settles their promises on the JS thread, one wake-up per batch;
//! - [`cancel`]: `CancelHandle`, how an `AbortSignal` reaches a running request;
//! - [`error`]: core errors as failure records and napi errors;
//! - `emulator`: `NativeEmulator`, the local service.
#![deny(clippy::all)]

mod attempt_log;
mod attempt_trace;
mod cancel;
mod client;
mod completion;
mod convert;
mod credential;
mod emulator;
mod error;
mod io_thread;
