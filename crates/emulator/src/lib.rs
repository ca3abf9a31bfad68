//! A local emulator of the Azure Web PubSub data plane: the REST API and the WebSocket client
//! endpoint, in memory, for development and tests.
//!
//! Modules:
//! - [`config`]: listen address, access key and compatibility switches.
//! - [`server`]: binding, serving and graceful shutdown ([`start`], [`run`], [`app`]).
//! - [`accept`]: the accept loop and per-connection serving, plain or TLS, with their timeouts.
//! - [`state`]: hubs, connections, groups and users, and message fan-out.
//! - [`rest`]: the data-plane REST routes under `/api`.
//! - [`auth`]: REST bearer-token and client access-token checks.
//! - [`error`]: REST error responses in the service's shapes.
//! - [`odata`]: OData filters selecting connections.
//! - [`roles`]: role patterns and runtime permission grants.
//! - [`ws`]: the WebSocket client endpoint `/client/hubs/{hub}`.
//! - [`mqtt`]: the MQTT endpoint `/clients/mqtt/hubs/{hub}`.
//! - [`events`]: event handlers, the CloudEvents the emulator sends to the app server.
//! - [`metadata`]: the rules of per-message metadata, from REST headers and client messages.
//! - [`origin`]: the scheme and host a request was addressed to, for the URLs the emulator writes.
//! - [`tls`]: HTTPS/WSS serving with a generated or given certificate.
//! - [`trace`]: the live trace of connections, messages and HTTP calls, its page and its feed.

pub mod accept;
pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod metadata;
pub mod mqtt;
pub mod odata;
pub mod origin;
pub mod rest;
pub mod roles;
pub mod server;
pub mod state;
pub mod tls;
pub mod trace;
pub mod ws;

pub use config::EmulatorConfig;
pub use server::{app, run, start, RunningEmulator};
pub use state::{EmulatorState, SharedState};
