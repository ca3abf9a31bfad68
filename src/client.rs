//! `NativeClient`: one service client per JS `WebPubSubServiceClient`, built by explicit factories.

use std::sync::Arc;

use napi::bindgen_prelude::{Either, Object, PromiseRaw, Uint8Array};
use napi::Env;
use napi_derive::napi;
use webpubsub_protocol::client_protocol::client_urls;
use webpubsub_service_client::{
  ClientAccessToken, ClientConfig, Credential, Error, KeyCredential, Observer, ServiceClient,
  Tracer,
};

use crate::attempt_log::{AttemptFn, JsAttemptLog};
use crate::attempt_trace::{AttemptTraceFn, JsAttemptTrace};
use crate::cancel::CancelHandle;
use crate::completion;
use crate::convert::{self, NativeClientOptions, NativeClientTokenOptions, NativeResponse};
use crate::credential::{GetTokenFn, JsTokenProvider};
use crate::error::invalid_arg;
use crate::io_thread;

/// `{ token, baseUrl, url }`, the value `getClientAccessToken` resolves to.
#[napi(object)]
pub struct NativeClientAccessToken {
  pub token: String,
  pub base_url: String,
  pub url: String,
}

impl From<ClientAccessToken> for NativeClientAccessToken {
  fn from(token: ClientAccessToken) -> Self {
    Self {
      token: token.token,
      base_url: token.base_url,
      url: token.url,
    }
  }
}

/// A Web PubSub hub client: a shared connection pool, a credential and the hub name.
#[napi]
pub struct NativeClient {
  client: ServiceClient,
  /// The access key, kept to rotate it; `None` with a token provider.
  key: Option<Arc<KeyCredential>>,
}

impl NativeClient {
  fn build(mut config: ClientConfig, options: Option<NativeClientOptions>) -> napi::Result<Self> {
    convert::configure(&mut config, options.unwrap_or_default());
    let key = match &config.credential {
      Credential::Key(key) => Some(Arc::clone(key)),
      Credential::Token(_) => None,
    };
    let client = ServiceClient::new(config).map_err(invalid_arg)?;
    Ok(Self { client, key })
  }
}

#[napi]
impl NativeClient {
  /// A client from `Endpoint=...;AccessKey=...;[Port=...;]` (parsed as the official SDK parses it).
  #[napi(factory)]
  pub fn from_connection_string(
    connection_string: String,
    hub: String,
    options: Option<NativeClientOptions>,
  ) -> napi::Result<Self> {
    let config =
      ClientConfig::from_connection_string(&connection_string, hub).map_err(invalid_arg)?;
    Self::build(config, options)
  }

  /// A client signing each request with an access key (`AzureKeyCredential`).
  #[napi(factory)]
  pub fn with_key(
    endpoint: String,
    key: String,
    hub: String,
    options: Option<NativeClientOptions>,
  ) -> napi::Result<Self> {
    let credential = Credential::Key(Arc::new(KeyCredential::new(&key)));
    Self::build(ClientConfig::new(endpoint, hub, credential), options)
  }

  /// A client authenticating with bearer tokens from a JS
  /// `(scopes) => Promise<{ token, expiresOnMs, refreshAfterMs? }>`.
  #[napi(
    factory,
    ts_args_type = "endpoint: string, hub: string, getToken: (scopes: string[]) => Promise<NativeAccessToken>, options?: NativeClientOptions | undefined | null"
  )]
  pub fn with_token_provider(
    endpoint: String,
    hub: String,
    get_token: GetTokenFn,
    options: Option<NativeClientOptions>,
  ) -> napi::Result<Self> {
    let credential = Credential::Token(Arc::new(JsTokenProvider::new(get_token)));
    Self::build(ClientConfig::new(endpoint, hub, credential), options)
  }

  /// The endpoint as the official SDK reports it.
  #[napi(getter)]
  pub fn endpoint(&self) -> String {
    self.client.endpoint().to_owned()
  }

  /// Replaces the access key used for the next requests (`AzureKeyCredential.update`).
  #[napi]
  pub fn set_key(&self, key: String) {
    if let Some(credential) = &self.key {
      credential.update(&key);
    }
  }

  /// From now on, `callback` receives each attempt's request and response of the calls made with
  /// `log: true`. Called when logging is first on for this client (a thread-safe function per
  /// client costs memory and a handle; clients that never log make none). The first callback stays.
  #[napi(ts_args_type = "callback: (event: NativeAttemptEvent) => void")]
  pub fn observe_attempts(&self, callback: AttemptFn) {
    self
      .client
      .set_observer(Observer::new(JsAttemptLog::new(callback)));
  }

  /// Runs one operation. Resolves with the HTTP answer (any status) or a failure record; rejects
  /// only for an operation record it cannot use. `trace`, when given, is told about each attempt
  /// (`start` returns the headers that carry its span; `retrying` ends it).
  #[napi(
    ts_args_type = "op: { kind: string } & Record<string, unknown>, body: string | Uint8Array | undefined | null, cancel: CancelHandle | undefined | null, wantHeaders: boolean, trace?: ((event: NativeAttemptTrace) => string[] | undefined) | undefined | null",
    ts_return_type = "Promise<NativeResponse>"
  )]
  pub fn invoke<'env>(
    &self,
    env: &'env Env,
    op: Object,
    body: Option<Either<String, Uint8Array>>,
    cancel: Option<&CancelHandle>,
    want_headers: bool,
    trace: Option<AttemptTraceFn>,
  ) -> napi::Result<PromiseRaw<'env, NativeResponse>> {
    let mut op = convert::operation_record(&op)?;
    let tracer = trace.map(|callback| Tracer::new(JsAttemptTrace::new(callback)));
    let call = convert::call_options(&mut op, cancel.map(CancelHandle::token), tracer);
    let operation = convert::operation(op, convert::body_bytes(body))?;
    let client = self.client.clone();
    let (promise, pending) = completion::begin(env)?;
    io_thread::spawn(async move {
      // Boxed: the request future is large, and this keeps the task small to move.
      let outcome = Box::pin(client.execute(operation, &call)).await;
      pending.finish(match outcome {
        Ok(response) => convert::response_record(response, true, want_headers),
        Err(Error::UnexpectedStatus(response)) => {
          convert::response_record(*response, false, want_headers)
        }
        Err(error) => convert::error_record(error),
      });
    })?;
    Ok(promise)
  }

  /// A client access token signed locally with the access key (no request is made).
  #[napi]
  pub fn client_access_token(
    &self,
    options: NativeClientTokenOptions,
  ) -> napi::Result<NativeClientAccessToken> {
    let options = convert::client_token_options(options)?;
    self
      .client
      .client_access_token(&options)
      .map(Into::into)
      .map_err(invalid_arg)
  }

  /// `{ token, baseUrl, url }` for a token the service issued (`:generateToken`).
  #[napi]
  pub fn client_access_urls(
    &self,
    token: String,
    client_protocol: Option<String>,
  ) -> napi::Result<NativeClientAccessToken> {
    let protocol = convert::client_protocol(client_protocol.as_deref())?.unwrap_or_default();
    let urls = client_urls(self.client.endpoint(), self.client.hub(), protocol);
    let url = format!("{}?access_token={token}", urls.base_url);
    Ok(NativeClientAccessToken {
      token,
      base_url: urls.base_url,
      url,
    })
  }
}
