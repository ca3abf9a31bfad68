//! Event handlers: the upstream half of the service, delivering client events to the app server as
//! CloudEvents over HTTP (PROTOCOL.md §8), plus the `joined`/`left` group events the official emulator
//! does not send.
//!
//! - [`settings`]: per-hub handlers, URL templates and event matching.
//! - [`cloudevents`]: `ce-*` headers and the `ce-signature`.
//! - [`validation`]: the abuse-protection handshake and its cache.
//! - [`dispatcher`]: delivery with retries, timeouts and failure logging.
//! - [`connect`]: the blocking `connect` event and its answer.
//! - [`upstream`]: one connection's later events (notifications in order, user events).
//! - [`reply`]: a user event's response as the message sent back to the client.
//! - [`cookies`]: cookies handlers set on a connection.

pub mod cloudevents;
pub mod connect;
pub mod cookies;
pub mod dispatcher;
pub mod reply;
pub mod settings;
pub mod upstream;
pub mod validation;

pub use dispatcher::Dispatcher;
pub use settings::{EventHandlerSettings, SettingsError};
pub use upstream::ConnectionEvents;
