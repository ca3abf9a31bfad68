//! The origin a request was addressed to, for the URLs the emulator writes into its answers (client
//! token audiences, `nextLink`, the live-trace token) and for checking the scheme of client token
//! audiences: the scheme the emulator serves, or the one a reverse proxy in front of it reports in
//! `X-Forwarded-Proto`, and the `Host` header, or the proxy's `X-Forwarded-Host`.

use std::fmt;

use axum::http::{header, HeaderMap};

use crate::state::EmulatorState;

/// `https` or `http`: the scheme of REST URLs (`wss` / `ws` for clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
  Http,
  Https,
}

impl Scheme {
  pub fn as_str(self) -> &'static str {
    match self {
      Scheme::Http => "http",
      Scheme::Https => "https",
    }
  }

  /// The WebSocket scheme of the same security.
  pub fn websocket(self) -> &'static str {
    match self {
      Scheme::Http => "ws",
      Scheme::Https => "wss",
    }
  }
}

/// `scheme://host[:port]` of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
  pub scheme: Scheme,
  pub host: String,
}

impl RequestOrigin {
  pub fn of(state: &EmulatorState, headers: &HeaderMap) -> RequestOrigin {
    let forwarded = |name: &str| {
      headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        // A proxy chain lists its hops; the first is the client's.
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|value| !value.is_empty())
    };
    let scheme = match forwarded("x-forwarded-proto") {
      Some(proto) if proto.eq_ignore_ascii_case("https") || proto.eq_ignore_ascii_case("wss") => {
        Scheme::Https
      }
      Some(_) => Scheme::Http,
      None if state.config.tls.is_some() => Scheme::Https,
      None => Scheme::Http,
    };
    let host = forwarded("x-forwarded-host")
      .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
      .map_or_else(
        || format!("{}:{}", state.config.host, state.config.port),
        str::to_owned,
      );
    RequestOrigin { scheme, host }
  }
}

impl fmt::Display for RequestOrigin {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}://{}", self.scheme.as_str(), self.host)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::config::EmulatorConfig;

  fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
      map.insert(*name, value.parse().unwrap());
    }
    map
  }

  #[test]
  fn the_served_scheme_and_host_unless_a_proxy_says_otherwise() {
    let plain = EmulatorState::new(EmulatorConfig::default());
    let origin = RequestOrigin::of(&plain, &headers(&[("host", "localhost:8080")]));
    assert_eq!(origin.to_string(), "http://localhost:8080");
    let proxied = RequestOrigin::of(
      &plain,
      &headers(&[
        ("host", "10.0.0.5:8080"),
        ("x-forwarded-proto", "https, http"),
        ("x-forwarded-host", "pubsub.example.com"),
      ]),
    );
    assert_eq!(proxied.to_string(), "https://pubsub.example.com");
    assert_eq!(proxied.scheme.websocket(), "wss");
    let tls = EmulatorState::new(EmulatorConfig {
      tls: Some(crate::tls::TlsIdentity::self_signed(&[]).unwrap()),
      ..EmulatorConfig::default()
    });
    let origin = RequestOrigin::of(&tls, &headers(&[("host", "127.0.0.1:9")]));
    assert_eq!(origin.to_string(), "https://127.0.0.1:9");
  }
}
