//! What a [`crate::ServiceClient`] is built from.

use crate::credential::{Credential, KeyCredential};
use crate::log::Observer;
use crate::retry::RetryOptions;
use std::sync::Arc;
use webpubsub_protocol::api::API_VERSION;
use webpubsub_protocol::connection_string::{self, ConnectionStringError};

/// Client settings; the SDK's constructor arguments and `WebPubSubServiceClientOptions`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
  /// Service endpoint, e.g. `https://<name>.webpubsub.azure.com`. Kept as given: it is also the
  /// base of client access token URLs, exactly as in the SDK.
  pub endpoint: String,
  /// Hub name, sent as given (percent-encoded in paths, raw in client token URLs).
  pub hub: String,
  /// Access key or token provider.
  pub credential: Credential,
  /// `api-version` query value (default [`API_VERSION`]).
  pub api_version: String,
  /// `reverseProxyEndpoint`: requests go to this host (and port, when it has one) after signing
  /// for the real endpoint.
  pub reverse_proxy_endpoint: Option<String>,
  /// `allowInsecureConnection`: allow `http://` targets (key credentials only).
  pub allow_insecure_connection: bool,
  /// `retryOptions`.
  pub retry: RetryOptions,
  /// `userAgentOptions.userAgentPrefix`, placed before `web-pubsub-native/<version>`.
  pub user_agent_prefix: Option<String>,
  /// `proxyOptions` as a URL (`http://user:password@host:port`); `None` reads `HTTPS_PROXY`,
  /// `ALL_PROXY`, `HTTP_PROXY` (and lower-case forms). `NO_PROXY` applies either way.
  pub proxy: Option<String>,
  /// Extra trusted CA certificates in PEM (e.g. the contents of `NODE_EXTRA_CA_CERTS`).
  pub extra_ca_pem: Option<Vec<u8>>,
  /// Check server certificates (default). `false` accepts any, as Node does with
  /// `NODE_TLS_REJECT_UNAUTHORIZED=0`.
  pub verify_certificates: bool,
  /// Told about each attempt of the calls that set [`crate::CallOptions::observe`] (logging).
  pub observer: Option<Observer>,
}

impl ClientConfig {
  /// Settings with SDK defaults for everything but endpoint, hub and credential.
  pub fn new(endpoint: impl Into<String>, hub: impl Into<String>, credential: Credential) -> Self {
    Self {
      endpoint: endpoint.into(),
      hub: hub.into(),
      credential,
      api_version: API_VERSION.to_owned(),
      reverse_proxy_endpoint: None,
      allow_insecure_connection: false,
      retry: RetryOptions::default(),
      user_agent_prefix: None,
      proxy: None,
      extra_ca_pem: None,
      verify_certificates: true,
      observer: None,
    }
  }

  /// Settings from a connection string (endpoint normalised as the SDK does, key credential).
  pub fn from_connection_string(
    connection_string: &str,
    hub: impl Into<String>,
  ) -> Result<Self, ConnectionStringError> {
    let parsed = connection_string::parse(connection_string)?;
    let credential = Credential::Key(Arc::new(KeyCredential::new(&parsed.access_key)));
    Ok(Self::new(parsed.endpoint, hub, credential))
  }
}
