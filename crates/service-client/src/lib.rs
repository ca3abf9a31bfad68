//! Azure Web PubSub data-plane REST client: the Rust core of web-pubsub-native.
//!
//! It sends what `@azure/web-pubsub` 1.2.0 sends — same methods, paths, query order, headers,
//! bodies and JWTs — and treats answers and failures as its pipeline does (exact success
//! statuses, core-rest-pipeline's retry rules, token caching). One [`ServiceClient`] holds one
//! HTTP connection pool; clone it freely.
//!
//! ```no_run
//! # async fn demo() -> Result<(), webpubsub_service_client::Error> {
//! use webpubsub_service_client::{CallOptions, ClientConfig, Operation, Payload, ServiceClient};
//! use webpubsub_protocol::payload::ContentKind;
//!
//! let config = ClientConfig::from_connection_string(
//!   "Endpoint=https://example.webpubsub.azure.com;AccessKey=<key>;Version=1.0;",
//!   "chat",
//! )
//! .expect("valid connection string");
//! let client = ServiceClient::new(config)?;
//! let op = Operation::SendToAll {
//!   payload: Payload { kind: ContentKind::Text, body: "hello".into() },
//!   excluded: vec![],
//!   filter: None,
//!   message_ttl_seconds: None,
//! };
//! let response = client.execute(op, &CallOptions::default()).await?;
//! assert_eq!(response.status, 202);
//! # Ok(())
//! # }
//! ```

mod client;
mod config;
mod credential;
mod error;
mod log;
mod operation;
mod proxy;
mod retry;
mod token_cache;
mod trace;
mod transport;

pub use client::{CallOptions, ClientAccessToken, ClientTokenOptions, ServiceClient};
pub use config::ClientConfig;
pub use credential::{AccessToken, Credential, KeyCredential, TokenProvider};
pub use error::{Error, Response, SentRequest};
pub use log::{AttemptEvent, AttemptObserver, Observer};
pub use operation::{Operation, Payload, PermissionName};
pub use retry::RetryOptions;
pub use token_cache::WEB_PUBSUB_SCOPE;
pub use trace::{AttemptEnd, AttemptStart, AttemptTracer, TraceHeaders, Tracer};
pub use transport::MAX_REQUESTS_IN_FLIGHT;
