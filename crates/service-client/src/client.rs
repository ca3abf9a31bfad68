//! [`ServiceClient`]: sends operations with the SDK's headers, authorisation and retries.

use crate::config::ClientConfig;
use crate::credential::Credential;
use crate::credential::KeyCredential;
use crate::error::{Error, Response, SentRequest};
use crate::log::{AttemptEvent, Observer};
use crate::operation::{Method, Operation, UrlBase};
use crate::proxy::ProxyRule;
use crate::retry::{retry_delay, Outcome, RetryOptions};
use crate::token_cache::TokenCache;
use crate::trace::{AttemptEnd, AttemptStart, Tracer};
use crate::transport::{shared_transport, transport_failure, Transport};
use bytes::Bytes;
use reqwest::header::{
  HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE,
  USER_AGENT,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use url::Url;
use webpubsub_protocol::client_protocol::{client_urls, ClientProtocol};
use webpubsub_protocol::jwt::ClientTokenClaims;

const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// Per-call options (the SDK's `OperationOptions`).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
  /// `requestOptions.customHeaders`: added to every attempt, replacing a standard header of the
  /// same name (`Authorization` excepted, which is always the client's).
  pub custom_headers: Vec<(String, String)>,
  /// `requestOptions.timeout`: limit for each attempt; exceeding it ends the call with
  /// [`Error::TimedOut`] (not retried).
  pub timeout: Option<Duration>,
  /// `abortSignal`: cancelling drops the request in flight (or the back-off) and ends the call
  /// with [`Error::Cancelled`].
  pub cancel: Option<CancellationToken>,
  /// Tell the client's [`crate::ClientConfig::observer`] about each attempt (logging is on).
  pub observe: bool,
  /// Open a span for each attempt and send the headers that carry it (tracing is on).
  pub tracer: Option<Tracer>,
}

/// Options of a client access token (`GetClientAccessTokenOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTokenOptions {
  /// `userId` (the token's `sub`).
  pub user_id: Option<String>,
  /// `roles`; `Some(vec![])` is kept as an empty `role` claim, as the SDK does.
  pub roles: Option<Vec<String>>,
  /// `groups` to join on connect.
  pub groups: Option<Vec<String>>,
  /// `expirationTimeInMinutes` (default 60). Negative values count as 0 when signing locally
  /// and are sent as they are to `:generateToken`.
  pub expiration_minutes: Option<i64>,
  /// `clientProtocol`; `None` is the default protocol (and no `clientType` parameter).
  pub client_protocol: Option<ClientProtocol>,
}

/// A client access token and the URLs built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccessToken {
  /// The JWT.
  pub token: String,
  /// `ws(s)://<host>/client/hubs/<hub>` (or the MQTT / Socket.IO path).
  pub base_url: String,
  /// `base_url` + `?access_token=` + token.
  pub url: String,
}

const DEFAULT_TOKEN_MINUTES: i64 = 60;

enum Auth {
  Key(Arc<KeyCredential>),
  Token(Arc<TokenCache>),
}

struct Inner {
  endpoint: String,
  hub: String,
  api_version: String,
  base: UrlBase,
  reverse_proxy: Option<Url>,
  allow_insecure_connection: bool,
  retry: RetryOptions,
  auth: Auth,
  transport: Arc<Transport>,
  user_agent: HeaderValue,
  observer: std::sync::OnceLock<Observer>,
}

/// The Web PubSub data-plane client. Cloning is cheap; clients with equal transport options
/// (proxy, extra CA certificates) share one connection pool while any of them lives.
/// Calls need a Tokio runtime.
#[derive(Clone)]
pub struct ServiceClient {
  inner: Arc<Inner>,
}

impl std::fmt::Debug for ServiceClient {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("ServiceClient")
      .field("endpoint", &self.inner.endpoint)
      .field("hub", &self.inner.hub)
      .finish_non_exhaustive()
  }
}

/// What one attempt produced. It lives for one attempt only; boxing the answer would cost an
/// allocation per request.
#[allow(clippy::large_enum_variant)]
enum Attempt {
  Answer(Response),
  Failed {
    code: String,
    message: String,
    request: Option<Box<SentRequest>>,
  },
}

impl ServiceClient {
  /// Builds a client. Fails with [`Error::InvalidArgument`] when the endpoint, reverse proxy or
  /// proxy is not a URL, or an extra CA certificate cannot be read.
  pub fn new(config: ClientConfig) -> Result<Self, Error> {
    let endpoint_url = Url::parse(&config.endpoint)
      .map_err(|e| Error::InvalidArgument(format!("Invalid URL '{}': {e}", config.endpoint)))?;
    let reverse_proxy = config
      .reverse_proxy_endpoint
      .as_deref()
      .map(|proxy| {
        Url::parse(proxy).map_err(|e| Error::InvalidArgument(format!("Invalid URL '{proxy}': {e}")))
      })
      .transpose()?;
    let proxy = ProxyRule::resolve(config.proxy.as_deref(), |name| std::env::var(name).ok())
      .map_err(|e| Error::InvalidArgument(format!("invalid proxy URL: {e}")))?;
    let transport = shared_transport(
      proxy,
      config.extra_ca_pem.as_deref(),
      config.verify_certificates,
    )?;
    let user_agent = user_agent(config.user_agent_prefix.as_deref())?;
    let auth = match config.credential {
      Credential::Key(key) => Auth::Key(key),
      Credential::Token(provider) => Auth::Token(TokenCache::new(provider)),
    };
    Ok(Self {
      inner: Arc::new(Inner {
        base: UrlBase::new(&endpoint_url, &config.hub, &config.api_version),
        endpoint: config.endpoint,
        hub: config.hub,
        api_version: config.api_version,
        reverse_proxy,
        allow_insecure_connection: config.allow_insecure_connection,
        retry: config.retry,
        auth,
        transport,
        user_agent,
        observer: config.observer.map(Into::into).unwrap_or_default(),
      }),
    })
  }

  /// Gives a client built without a [`ClientConfig::observer`] one, so a caller that turns
  /// logging on later pays for an observer only then. Returns `false`, keeping the first, when the
  /// client has one already.
  pub fn set_observer(&self, observer: Observer) -> bool {
    self.inner.observer.set(observer).is_ok()
  }

  /// The endpoint as configured.
  pub fn endpoint(&self) -> &str {
    &self.inner.endpoint
  }

  /// The hub as configured.
  pub fn hub(&self) -> &str {
    &self.inner.hub
  }

  /// The `api-version` sent with every operation.
  pub fn api_version(&self) -> &str {
    &self.inner.api_version
  }

  /// Sends `op` and returns the final answer when its status is one of the operation's success
  /// statuses (for the exists checks and `CheckPermission` that includes 404, meaning `false`).
  ///
  /// Every attempt carries a freshly signed token (key credential, `aud` = the request URL for
  /// the real endpoint) or the cached bearer token; `x-ms-client-request-id` stays the same
  /// across the retries of one call, as in the SDK.
  pub async fn execute(&self, op: Operation, call: &CallOptions) -> Result<Response, Error> {
    match &call.cancel {
      Some(cancel) => tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Cancelled),
        result = self.run(op, call) => result,
      },
      None => self.run(op, call).await,
    }
  }

  /// A client access token signed locally with the access key (no request). Fails with
  /// [`Error::Credential`] for token credentials: use [`Self::get_client_access_token`].
  pub fn client_access_token(
    &self,
    options: &ClientTokenOptions,
  ) -> Result<ClientAccessToken, Error> {
    let Auth::Key(key) = &self.inner.auth else {
      return Err(Error::Credential(
        "a locally signed client access token needs an access key credential".to_owned(),
      ));
    };
    let protocol = options.client_protocol.unwrap_or_default();
    let urls = client_urls(&self.inner.endpoint, &self.inner.hub, protocol);
    let minutes = options.expiration_minutes.unwrap_or(DEFAULT_TOKEN_MINUTES);
    let claims = ClientTokenClaims {
      audience: urls.audience,
      user_id: options.user_id.clone(),
      roles: options.roles.clone(),
      groups: options.groups.clone(),
      lifetime_minutes: u64::try_from(minutes).unwrap_or(0),
    };
    let token = key.signing_key().sign_client_token(&claims, now_secs());
    Ok(with_urls(token, urls.base_url))
  }

  /// The SDK's `getClientAccessToken`: signed locally with an access key, or fetched from
  /// `:generateToken` with a token credential.
  pub async fn get_client_access_token(
    &self,
    options: &ClientTokenOptions,
    call: &CallOptions,
  ) -> Result<ClientAccessToken, Error> {
    if let Auth::Key(_) = self.inner.auth {
      return self.client_access_token(options);
    }
    let op = Operation::GenerateClientToken {
      user_id: options.user_id.clone(),
      roles: options.roles.clone().unwrap_or_default(),
      minutes_to_expire: options.expiration_minutes.unwrap_or(DEFAULT_TOKEN_MINUTES),
      groups: options.groups.clone().unwrap_or_default(),
      client_type: options.client_protocol,
    };
    let response = self.execute(op, call).await?;
    #[derive(serde::Deserialize)]
    struct TokenBody {
      token: String,
    }
    let token = match serde_json::from_slice::<TokenBody>(&response.body) {
      Ok(body) => body.token,
      Err(e) => {
        return Err(Error::InvalidResponse {
          reason: format!("the :generateToken answer has no token: {e}"),
          response: Box::new(response),
        })
      }
    };
    let protocol = options.client_protocol.unwrap_or_default();
    let urls = client_urls(&self.inner.endpoint, &self.inner.hub, protocol);
    Ok(with_urls(token, urls.base_url))
  }

  async fn run(&self, op: Operation, call: &CallOptions) -> Result<Response, Error> {
    let inner = &*self.inner;
    let prepared = op.prepare(&inner.base);
    let mut target = Url::parse(&prepared.url)
      .map_err(|e| Error::InvalidArgument(format!("Invalid URL '{}': {e}", prepared.url)))?;
    // Tokens stay signed for the endpoint's URL when requests go to a reverse proxy.
    let proxied_audience = inner
      .reverse_proxy
      .as_ref()
      .map(|_| target.as_str().to_owned());
    if let Some(proxy) = &inner.reverse_proxy {
      // Like the WHATWG `host` setter: the port changes only when the proxy URL has one.
      target
        .set_host(proxy.host_str())
        .map_err(|e| Error::InvalidArgument(format!("invalid reverse proxy host: {e}")))?;
      if let Some(port) = proxy.port() {
        let _ = target.set_port(Some(port));
      }
    }
    if matches!(inner.auth, Auth::Token(_)) && target.scheme() != "https" {
      return Err(Error::BearerOverHttp);
    }
    let headers = self.base_headers(
      prepared.method,
      prepared.accept,
      prepared.body.as_ref(),
      call,
    )?;
    let body = prepared.body.map(|(_, bytes)| bytes);
    let audience = proxied_audience.as_deref().unwrap_or(target.as_str());

    let observer = inner.observer.get().filter(|_| call.observe);
    let mut attempt = 0;
    loop {
      let mut attempt_headers = headers.clone();
      // The official pipeline gets a bearer token before its retry policy and signs with a key
      // after it; either way before its tracing policy opens the attempt's span, whose headers
      // are then sent. The insecure-connection refusal comes from its HTTP client, inside the span
      // and after the request is logged.
      attempt_headers.insert(AUTHORIZATION, self.authorization(audience).await?);
      if let Some(tracer) = &call.tracer {
        let attempt = AttemptStart {
          method: prepared.method.as_str(),
          url: target.as_str(),
          headers: &headers,
        };
        tracer.start(attempt, &mut attempt_headers).await;
      }
      if let Some(observer) = observer {
        observer.observe(AttemptEvent::Request {
          method: prepared.method.as_str(),
          url: target.as_str(),
          headers: &attempt_headers,
        });
      }
      if target.scheme() != "https" && !inner.allow_insecure_connection {
        return Err(Error::InsecureConnection {
          url: target.to_string(),
        });
      }
      let send = self.send_once(prepared.method, &target, attempt_headers, body.clone());
      let outcome = match call.timeout {
        Some(limit) => tokio::time::timeout(limit, send)
          .await
          .map_err(|_| Error::TimedOut)?,
        None => send.await,
      };
      if let (Some(observer), Attempt::Answer(response)) = (observer, &outcome) {
        observer.observe(AttemptEvent::Response {
          status: response.status,
          headers: &response.headers,
        });
      }
      let retry_outcome = match &outcome {
        Attempt::Answer(response) => Outcome::Answer {
          status: response.status,
          headers: &response.headers,
        },
        Attempt::Failed { code, .. } => Outcome::Transport { code },
      };
      match retry_delay(&inner.retry, attempt, &retry_outcome, SystemTime::now()) {
        Some(delay) => {
          if let Some(tracer) = &call.tracer {
            tracer.retrying(attempt_end(&outcome));
          }
          tokio::time::sleep(delay).await;
          attempt += 1;
        }
        None => {
          return match outcome {
            Attempt::Answer(response) if prepared.success.contains(&response.status) => {
              Ok(response)
            }
            Attempt::Answer(response) => Err(Error::UnexpectedStatus(Box::new(response))),
            Attempt::Failed {
              code,
              message,
              request,
            } => Err(Error::Transport {
              code,
              message,
              request,
            }),
          }
        }
      }
    }
  }

  /// Headers shared by every attempt of one call.
  fn base_headers(
    &self,
    method: Method,
    accept: Option<&'static str>,
    body: Option<&(&'static str, Bytes)>,
    call: &CallOptions,
  ) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::with_capacity(8 + call.custom_headers.len());
    if let Some(accept) = accept {
      headers.insert(ACCEPT, HeaderValue::from_static(accept));
    }
    if let Some((content_type, _)) = body {
      headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    // Node sends `Content-Length: 0` for a POST/PUT without body bytes; hyper would send none.
    let empty = body.is_none_or(|(_, bytes)| bytes.is_empty());
    if empty && matches!(method, Method::Post | Method::Put) {
      headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    headers.insert(USER_AGENT, self.inner.user_agent.clone());
    // A v4 UUID from the thread's random generator: `Uuid::new_v4` asks the OS for each one.
    let request_id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = uuid::Uuid::encode_buffer();
    headers.insert(
      CLIENT_REQUEST_ID,
      HeaderValue::from_str(request_id.hyphenated().encode_lower(&mut text))
        .expect("a UUID is a valid header value"),
    );
    for (name, value) in &call.custom_headers {
      let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::InvalidArgument(format!("invalid header name '{name}'")))?;
      let value = HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidArgument(format!("invalid value for header '{name}'")))?;
      headers.insert(name, value);
    }
    Ok(headers)
  }

  async fn authorization(&self, audience: &str) -> Result<HeaderValue, Error> {
    let token = match &self.inner.auth {
      Auth::Key(key) => key.signing_key().sign_rest_token(audience, now_secs()),
      Auth::Token(cache) => cache.token().await.map_err(Error::Credential)?,
    };
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
      .map_err(|_| Error::Credential("the token is not a valid header value".to_owned()))?;
    value.set_sensitive(true);
    Ok(value)
  }

  async fn send_once(
    &self,
    method: Method,
    target: &Url,
    headers: HeaderMap,
    body: Option<Bytes>,
  ) -> Attempt {
    let mut request = reqwest::Request::new(method.to_reqwest(), target.clone());
    *request.headers_mut() = headers.clone();
    if let Some(body) = body {
      *request.body_mut() = Some(body.into());
    }
    let sent = SentRequest {
      method: method.as_str(),
      url: target.to_string(),
      headers,
    };
    let _turn = self.inner.transport.turn().await;
    let mut answer = match self.inner.transport.http.execute(request).await {
      Ok(answer) => answer,
      Err(e) => {
        let host = target.host_str().unwrap_or_default();
        let port = target.port_or_known_default().unwrap_or_default();
        let (code, message) = transport_failure(&e, host, port);
        return Attempt::Failed {
          code,
          message,
          request: Some(Box::new(sent)),
        };
      }
    };
    let status = answer.status().as_u16();
    let response_headers = std::mem::take(answer.headers_mut());
    match answer.bytes().await {
      Ok(body) => Attempt::Answer(Response {
        status,
        headers: response_headers,
        body,
        request: sent,
      }),
      // The head arrived and the body broke off: the SDK reports its body read failing, which
      // it does not retry (a POST that reached the service is not sent again).
      Err(_) => Attempt::Failed {
        code: "PARSE_ERROR".to_owned(),
        message: "Error reading response as text: aborted".to_owned(),
        request: None,
      },
    }
  }
}

fn attempt_end(outcome: &Attempt) -> AttemptEnd<'_> {
  match outcome {
    Attempt::Answer(response) => AttemptEnd::Answer {
      status: response.status,
      headers: &response.headers,
    },
    Attempt::Failed {
      code,
      message,
      request,
    } => AttemptEnd::Failed {
      code,
      message,
      request: request.as_deref(),
    },
  }
}

fn with_urls(token: String, base_url: String) -> ClientAccessToken {
  let url = format!("{base_url}?access_token={token}");
  ClientAccessToken {
    token,
    base_url,
    url,
  }
}

fn user_agent(prefix: Option<&str>) -> Result<HeaderValue, Error> {
  let own = format!(
    "web-pubsub-native/{} ({}; {})",
    env!("CARGO_PKG_VERSION"),
    std::env::consts::OS,
    std::env::consts::ARCH
  );
  let value = match prefix.filter(|p| !p.is_empty()) {
    Some(prefix) => format!("{prefix} {own}"),
    None => own,
  };
  HeaderValue::from_str(&value)
    .map_err(|_| Error::InvalidArgument("invalid user agent prefix".to_owned()))
}

fn now_secs() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |elapsed| elapsed.as_secs())
}
