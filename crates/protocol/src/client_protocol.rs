//! WebSocket client kinds and the client URLs built for client access tokens.

use std::str::FromStr;

/// The client protocol a token is minted for (the SDK's `clientProtocol` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientProtocol {
  /// Web PubSub clients: `client/hubs/{hub}`.
  #[default]
  Default,
  /// MQTT clients: `clients/mqtt/hubs/{hub}`.
  Mqtt,
  /// Web PubSub for Socket.IO: `clients/socketio/hubs/{hub}`.
  SocketIo,
}

/// The URLs of a client access token (see [`client_urls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUrls {
  /// The token audience: the endpoint (with a trailing `/`) followed by the client path.
  pub audience: String,
  /// The same URL with `http`→`ws` / `https`→`wss`: the SDK's `baseUrl`.
  pub base_url: String,
}

impl ClientProtocol {
  /// The SDK option value, which is also the `clientType` query value `:generateToken` gets
  /// when the caller passed the option (`default`, `mqtt`, `socketio`).
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Default => "default",
      Self::Mqtt => "mqtt",
      Self::SocketIo => "socketio",
    }
  }

  /// The client path; the hub is inserted as given (not escaped, not lower-cased).
  pub fn client_path(self, hub: &str) -> String {
    let prefix = match self {
      Self::Default => "client/hubs/",
      Self::Mqtt => "clients/mqtt/hubs/",
      Self::SocketIo => "clients/socketio/hubs/",
    };
    let mut path = String::with_capacity(prefix.len() + hub.len());
    path.push_str(prefix);
    path.push_str(hub);
    path
  }
}

/// An option value other than `default`, `mqtt`, `socketio` (exact, lower case, like the SDK's
/// `switch`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown client protocol '{0}'")]
pub struct UnknownClientProtocol(pub String);

impl FromStr for ClientProtocol {
  type Err = UnknownClientProtocol;

  fn from_str(s: &str) -> Result<Self, Self::Err> {
    match s {
      "default" => Ok(Self::Default),
      "mqtt" => Ok(Self::Mqtt),
      "socketio" => Ok(Self::SocketIo),
      other => Err(UnknownClientProtocol(other.to_owned())),
    }
  }
}

/// The audience and `baseUrl` the SDK derives from the client's endpoint string: a `/` is
/// appended when missing, and every `http://`/`https://` (matched case-insensitively, anywhere)
/// becomes `ws://`/`wss://` in the base URL, keeping the case of the `s`.
pub fn client_urls(endpoint: &str, hub: &str, protocol: ClientProtocol) -> ClientUrls {
  let path = protocol.client_path(hub);
  let mut audience = String::with_capacity(endpoint.len() + 1 + path.len());
  audience.push_str(endpoint);
  if !endpoint.ends_with('/') {
    audience.push('/');
  }
  let ws_endpoint = http_to_ws(&audience);
  audience.push_str(&path);
  ClientUrls {
    base_url: ws_endpoint + &path,
    audience,
  }
}

fn http_to_ws(s: &str) -> String {
  let mut out = String::with_capacity(s.len());
  let mut rest = s;
  while let Some(pos) = find_ignore_ascii_case(rest, "http") {
    let after = &rest[pos + 4..];
    let secure = after
      .as_bytes()
      .first()
      .is_some_and(|b| *b == b's' || *b == b'S');
    let tail = if secure { &after[1..] } else { after };
    out.push_str(&rest[..pos]);
    if let Some(remainder) = tail.strip_prefix("://") {
      out.push_str("ws");
      if secure {
        out.push_str(&after[..1]);
      }
      out.push_str("://");
      rest = remainder;
    } else {
      out.push_str(&rest[pos..pos + 4]);
      rest = after;
    }
  }
  out.push_str(rest);
  out
}

fn find_ignore_ascii_case(haystack: &str, needle: &str) -> Option<usize> {
  haystack
    .as_bytes()
    .windows(needle.len())
    .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn paths() {
    assert_eq!(
      ClientProtocol::Default.client_path("Hub_1"),
      "client/hubs/Hub_1"
    );
    assert_eq!(ClientProtocol::Mqtt.client_path("h"), "clients/mqtt/hubs/h");
    assert_eq!(
      ClientProtocol::SocketIo.client_path("h"),
      "clients/socketio/hubs/h"
    );
    assert_eq!("mqtt".parse(), Ok(ClientProtocol::Mqtt));
    assert_eq!("socketio".parse(), Ok(ClientProtocol::SocketIo));
    assert_eq!("default".parse(), Ok(ClientProtocol::Default));
    assert!("MQTT".parse::<ClientProtocol>().is_err());
    assert_eq!(ClientProtocol::SocketIo.as_str(), "socketio");
  }

  #[test]
  fn urls_match_the_sdk() {
    let urls = client_urls("http://127.0.0.1:41415/", "Hub_1", ClientProtocol::Default);
    assert_eq!(urls.audience, "http://127.0.0.1:41415/client/hubs/Hub_1");
    assert_eq!(urls.base_url, "ws://127.0.0.1:41415/client/hubs/Hub_1");
    let urls = client_urls("https://h.example/base", "h", ClientProtocol::Mqtt);
    assert_eq!(urls.audience, "https://h.example/base/clients/mqtt/hubs/h");
    assert_eq!(urls.base_url, "wss://h.example/base/clients/mqtt/hubs/h");
    // The SDK's replace is a global, case-insensitive regex over the whole endpoint.
    let urls = client_urls("HTTPS://h/x/http://y/httpz", "h", ClientProtocol::Default);
    assert_eq!(urls.base_url, "wsS://h/x/ws://y/httpz/client/hubs/h");
    assert_eq!(urls.audience, "HTTPS://h/x/http://y/httpz/client/hubs/h");
  }
}
