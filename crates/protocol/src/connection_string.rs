//! Connection strings (`Endpoint=…;AccessKey=…;Port=…;Version=1.0;`), parsed exactly as
//! `@azure/web-pubsub` 1.2.0 parses them.
//!
//! Rules (checked against the official SDK's `endpoint` getter):
//! - split on `;`; a segment without `=` is ignored; the key is the text before the first `=`,
//!   lower-cased; the value is the rest, untrimmed; a later duplicate key wins;
//! - `endpoint` and `accesskey` are required and must be non-empty;
//! - an endpoint that does not start with `http` (case-sensitive) gets `https://` in front;
//! - `port`, when present, goes through the WHATWG URL `port` setter as Node 20 implements it;
//! - the endpoint is the WHATWG serialisation of the URL (`http://h:1` becomes `http://h:1/`);
//! - every other key (`Version`, …) is ignored.

use std::collections::HashMap;
use url::Url;

/// A parsed connection string.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
  /// The endpoint, serialised as a WHATWG URL (`https://host/`).
  pub endpoint: String,
  /// The access key, as written (its UTF-8 bytes are the HMAC key).
  pub access_key: String,
}

impl std::fmt::Debug for ConnectionString {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("ConnectionString")
      .field("endpoint", &self.endpoint)
      .field("access_key", &"<redacted>")
      .finish()
  }
}

/// Why a connection string was refused. Each Display text equals the message of the error the
/// official SDK throws; all three are thrown there as a JS `TypeError`
/// (`InvalidUrl` is Node's own `TypeError` with `code: "ERR_INVALID_URL"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionStringError {
  /// No `Endpoint` key, or an empty value.
  #[error("connection string missing endpoint")]
  MissingEndpoint,
  /// No `AccessKey` key, or an empty value.
  #[error("connection string missing access key")]
  MissingAccessKey,
  /// The endpoint is not a valid URL (Node: `TypeError`, code `ERR_INVALID_URL`).
  #[error("Invalid URL")]
  InvalidUrl,
}

/// Parses a connection string as the official SDK does.
pub fn parse(s: &str) -> Result<ConnectionString, ConnectionStringError> {
  let mut parts: HashMap<String, &str> = HashMap::new();
  for segment in s.split(';') {
    if let Some((key, value)) = segment.split_once('=') {
      parts.insert(key.to_lowercase(), value);
    }
  }
  let endpoint = match parts.get("endpoint") {
    Some(value) if !value.is_empty() => *value,
    _ => return Err(ConnectionStringError::MissingEndpoint),
  };
  let endpoint = if endpoint.starts_with("http") {
    endpoint.to_owned()
  } else {
    format!("https://{endpoint}")
  };
  let access_key = match parts.get("accesskey") {
    Some(value) if !value.is_empty() => (*value).to_owned(),
    _ => return Err(ConnectionStringError::MissingAccessKey),
  };
  let mut url = Url::parse(&endpoint).map_err(|_| ConnectionStringError::InvalidUrl)?;
  if let Some(port) = parts.get("port") {
    apply_port(&mut url, port);
  }
  Ok(ConnectionString {
    endpoint: url.into(),
    access_key,
  })
}

/// What Node 20's `url.port = value` does (its URL implementation differs from the WHATWG
/// spec text on a few inputs; the outcomes below are the ones Node produces).
fn apply_port(url: &mut Url, value: &str) {
  let value: String = value
    .chars()
    .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
    .collect();
  // `set_port` only fails for URLs that cannot carry a port, where Node leaves them as they are.
  if value.is_empty() {
    let _ = url.set_port(None);
    return;
  }
  let first = value.as_bytes()[0];
  if first <= b' ' || first == b'-' || !value.bytes().any(|b| b.is_ascii_digit()) {
    return;
  }
  let digits = value.bytes().take_while(u8::is_ascii_digit).count();
  if digits == 0 {
    let _ = url.set_port(None);
    return;
  }
  // `set_port` drops a port equal to the scheme's default, as the WHATWG serialisation does.
  if let Ok(port) = value[..digits].parse::<u16>() {
    let _ = url.set_port(Some(port));
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn endpoint(s: &str) -> String {
    parse(s).unwrap().endpoint
  }

  #[test]
  fn basic_forms_match_the_sdk() {
    assert_eq!(endpoint("Endpoint=http://h:1;AccessKey=k"), "http://h:1/");
    let cs = parse("endpoint=https://h;accesskey=k=v==;Version=1.0;").unwrap();
    assert_eq!(cs.endpoint, "https://h/");
    assert_eq!(cs.access_key, "k=v==");
    assert_eq!(
      endpoint("Endpoint=h.example.com;AccessKey=k"),
      "https://h.example.com/"
    );
    assert_eq!(endpoint("Endpoint=https://h:443;AccessKey=k"), "https://h/");
    assert_eq!(
      endpoint("Endpoint=http://a;Endpoint=http://b;AccessKey=k"),
      "http://b/"
    );
    assert_eq!(
      endpoint("Endpoint=http://h/base/path;AccessKey=k"),
      "http://h/base/path"
    );
    assert_eq!(
      endpoint("Endpoint=http://h/base path?q=1 2#frag;AccessKey=k"),
      "http://h/base%20path?q=1%202#frag"
    );
  }

  #[test]
  fn odd_endpoints_follow_whatwg_like_node() {
    // "HTTP://" does not start with "http", so the SDK prefixes https:// and the URL parser
    // reads "HTTP" as the host.
    assert_eq!(
      endpoint("Endpoint=HTTP://H.Example.COM:80/;AccessKey=k"),
      "https://http//H.Example.COM:80/"
    );
    assert_eq!(endpoint("Endpoint=ftp://h;AccessKey=k"), "https://ftp//h");
    assert_eq!(
      endpoint("Endpoint=http://ÜNICODE.com;AccessKey=k"),
      "http://xn--nicode-2ya.com/"
    );
    assert_eq!(
      endpoint("Endpoint=http://[::1]:8080;AccessKey=k"),
      "http://[::1]:8080/"
    );
    assert_eq!(
      endpoint("Endpoint=http://user:pw@h;AccessKey=k"),
      "http://user:pw@h/"
    );
    assert_eq!(endpoint("Endpoint=http://h\\x;AccessKey=k"), "http://h/x");
    assert_eq!(
      endpoint("Endpoint=http://0x7f.1;AccessKey=k"),
      "http://127.0.0.1/"
    );
    assert_eq!(endpoint("Endpoint=http:h;AccessKey=k"), "http://h/");
  }

  #[test]
  fn port_key_behaves_like_the_node_port_setter() {
    let cases = [
      ("Endpoint=http://h;AccessKey=k;Port=8080", "http://h:8080/"),
      ("Endpoint=https://h;AccessKey=k;Port=443", "https://h/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=abc", "http://h:9/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=", "http://h/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=99999", "http://h:9/"),
      ("Endpoint=http://h:9;AccessKey=k;Port= 12", "http://h:9/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=12abc", "http://h:12/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=-1", "http://h:9/"),
      (
        "Endpoint=http://h:9;AccessKey=k;Port=65535",
        "http://h:65535/",
      ),
      ("Endpoint=http://h:9;AccessKey=k;Port=65536", "http://h:9/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=0", "http://h:0/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=+5", "http://h/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=007", "http://h:7/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=1.5", "http://h:1/"),
      ("Endpoint=http://h:9;AccessKey=k;Port=８０", "http://h:9/"),
      ("Endpoint=http://h;AccessKey=k;Port=80", "http://h/"),
      ("Endpoint=http://h:80;AccessKey=k;Port=443", "http://h:443/"),
      ("Endpoint=https://h;AccessKey=k;Port=80", "https://h:80/"),
      ("Endpoint=http://h:1;AccessKey=k;Port=9\t", "http://h:9/"),
      ("Endpoint=http://h:1;AccessKey=k;PORT=\n12", "http://h:12/"),
      ("Endpoint=http://h:1;AccessKey=k;Port=a5", "http://h/"),
      ("Endpoint=http://h:1;AccessKey=k;Port=0x10", "http://h:0/"),
      ("Endpoint=http://h:1;AccessKey=k;Port=00080", "http://h/"),
    ];
    for (input, expected) in cases {
      assert_eq!(endpoint(input), expected, "{input:?}");
    }
  }

  #[test]
  fn errors_carry_the_sdk_messages() {
    let err = |s: &str| parse(s).unwrap_err();
    assert_eq!(
      err(" Endpoint=http://h;AccessKey=k").to_string(),
      "connection string missing endpoint"
    );
    assert_eq!(
      err("Endpoint=;AccessKey=k"),
      ConnectionStringError::MissingEndpoint
    );
    assert_eq!(err(""), ConnectionStringError::MissingEndpoint);
    assert_eq!(
      err("Endpoint=http://h").to_string(),
      "connection string missing access key"
    );
    assert_eq!(
      err("Endpoint=http://h;AccessKey="),
      ConnectionStringError::MissingAccessKey
    );
    assert_eq!(
      err("Endpoint= http://h;AccessKey=k").to_string(),
      "Invalid URL"
    );
    assert_eq!(
      err("Endpoint=httpfoo.com;AccessKey=k"),
      ConnectionStringError::InvalidUrl
    );
    assert_eq!(
      err("Endpoint=https://h:bad;AccessKey=k"),
      ConnectionStringError::InvalidUrl
    );
    assert_eq!(
      err("Endpoint=http://;AccessKey=k"),
      ConnectionStringError::InvalidUrl
    );
  }

  #[test]
  fn debug_output_hides_the_key() {
    let cs = parse("Endpoint=http://h;AccessKey=secret-value").unwrap();
    assert!(!format!("{cs:?}").contains("secret-value"));
  }
}
