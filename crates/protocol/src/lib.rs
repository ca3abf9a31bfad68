//! Rules shared by the Web PubSub service client and the emulator.
//!
//! Every rule here mirrors what `@azure/web-pubsub` 1.2.0 does on the wire or what the
//! service accepts, so that the client and the emulator agree by construction.

pub mod api;
pub mod client_protocol;
pub mod connection_string;
pub mod encoding;
pub mod jwt;
pub mod names;
pub mod payload;
pub mod permission;
pub mod tls;
