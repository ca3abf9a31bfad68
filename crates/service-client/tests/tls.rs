//! HTTPS with extra trusted roots, and token credentials (bearer tokens, `:generateToken`).

mod common;

use common::{Recorder, Reply};
use futures_util::future::{BoxFuture, FutureExt};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use webpubsub_protocol::client_protocol::ClientProtocol;
use webpubsub_service_client::{
  AccessToken, CallOptions, ClientConfig, ClientTokenOptions, Credential, Error, Operation,
  ServiceClient, TokenProvider, WEB_PUBSUB_SCOPE,
};

const TEST_CA: &[u8] = include_bytes!("fixtures/test-ca.cert.pem");

struct CountingProvider(AtomicU32);

impl TokenProvider for CountingProvider {
  fn get_token(&self, scopes: Vec<String>) -> BoxFuture<'static, Result<AccessToken, String>> {
    assert_eq!(scopes, vec![WEB_PUBSUB_SCOPE.to_owned()]);
    let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
    async move {
      Ok(AccessToken {
        token: format!("entra-{n}"),
        expires_on_ms: u64::MAX / 2,
        refresh_after_ms: None,
      })
    }
    .boxed()
  }
}

fn token_config(endpoint: String, provider: Arc<CountingProvider>) -> ClientConfig {
  let mut config = ClientConfig::new(endpoint, "hub", Credential::Token(provider));
  config.extra_ca_pem = Some(TEST_CA.to_vec());
  config
}

#[tokio::test]
async fn token_credential_over_https_generates_client_tokens() {
  let recorder = Recorder::start_tls(|req, _| {
    if req.target.contains(":generateToken") {
      Reply::Status(
        200,
        vec![("content-type", "application/json; charset=utf-8".into())],
        br#"{"token":"minted"}"#.to_vec(),
      )
    } else {
      common::status(200)
    }
  })
  .await;
  let provider = Arc::new(CountingProvider(AtomicU32::new(0)));
  let endpoint = format!("https://localhost:{}", recorder.port);
  let client = ServiceClient::new(token_config(endpoint, provider.clone())).unwrap();
  let options = ClientTokenOptions {
    user_id: Some("u 1'".into()),
    roles: Some(vec!["a".into(), "b".into()]),
    groups: Some(vec!["g1".into()]),
    expiration_minutes: Some(5),
    client_protocol: Some(ClientProtocol::Mqtt),
  };
  let token = client
    .get_client_access_token(&options, &CallOptions::default())
    .await
    .unwrap();
  assert_eq!(token.token, "minted");
  let base = format!("wss://localhost:{}/clients/mqtt/hubs/hub", recorder.port);
  assert_eq!(token.base_url, base);
  assert_eq!(token.url, format!("{base}?access_token=minted"));
  client
    .execute(Operation::GetServiceStatus, &CallOptions::default())
    .await
    .unwrap();
  let requests = recorder.requests();
  assert_eq!(
    requests[0].target,
    "/api/hubs/hub/:generateToken?api-version=2024-12-01&userId=u%201%27&role=a&role=b&minutesToExpire=5&group=g1&clientType=mqtt"
  );
  assert_eq!(
    requests[0].header("accept"),
    Some("application/json, text/json")
  );
  assert_eq!(requests[0].header("content-length"), Some("0"));
  assert_eq!(requests[0].header("authorization"), Some("Bearer entra-1"));
  // The cached token is reused.
  assert_eq!(requests[1].header("authorization"), Some("Bearer entra-1"));
  assert_eq!(provider.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_certificate_authority_is_refused_and_not_retried() {
  let recorder = Recorder::start_tls(|_, _| common::status(200)).await;
  let provider = Arc::new(CountingProvider(AtomicU32::new(0)));
  let mut config = token_config(format!("https://localhost:{}", recorder.port), provider);
  config.extra_ca_pem = None;
  let error = ServiceClient::new(config)
    .unwrap()
    .execute(Operation::GetServiceStatus, &CallOptions::default())
    .await
    .unwrap_err();
  let Error::Transport { code, message, .. } = error else {
    panic!("expected Transport, got {error:?}");
  };
  assert_eq!(code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "{message}");
  assert!(recorder.requests().is_empty());
}
