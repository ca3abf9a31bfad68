//! The HTTP transport, shared by every [`crate::ServiceClient`] with equal transport options, and
//! the mapping of transport failures to the Node error codes the SDK reports.
//!
//! TLS is [`webpubsub_protocol::tls::client_config`]: rustls with the `ring` provider and Mozilla's
//! CA list from `webpki-roots` (the list Node trusts by default) plus the PEM certificates of
//! `extra_ca_pem`, which is where `NODE_EXTRA_CA_CERTS` goes. HTTP/1.1 only, like Node's `https` module.
//!
//! A transport (its connection pool, TLS configuration and root store) lives while any client using
//! it does, so many short-lived clients cost one pool, not one each. Its connections are driven by
//! the Tokio runtime that opened them: clients that share a transport should be used from one
//! runtime, as the Node binding does.

use crate::proxy::ProxyRule;
use crate::Error;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Requests one transport has in flight at most, and so the connections it opens; further calls
/// wait for a turn. Node's agent opens a socket per concurrent request without a bound; a burst of
/// calls must not exhaust the process's file descriptors.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 256;

/// The options that decide whether two clients can share a transport; looked up borrowed, kept
/// owned.
#[derive(PartialEq)]
struct TransportOptions<'a> {
  proxy: Option<ProxyRule>,
  extra_ca_pem: Option<Cow<'a, [u8]>>,
  verify_certificates: bool,
}

/// An HTTP client and the bound on its requests in flight.
pub(crate) struct Transport {
  pub(crate) http: reqwest::Client,
  in_flight: Semaphore,
}

impl Transport {
  /// A turn to send a request; held until its answer is read.
  pub(crate) async fn turn(&self) -> SemaphorePermit<'_> {
    self
      .in_flight
      .acquire()
      .await
      .expect("the semaphore is never closed")
  }
}

/// Transports in use, by their options. Entries whose transport is gone are pruned when the next
/// one is looked up.
static TRANSPORTS: Mutex<Vec<(TransportOptions<'static>, Weak<Transport>)>> =
  Mutex::new(Vec::new());

/// The transport for these options: the one in use by other clients, or a new one.
pub(crate) fn shared_transport(
  proxy: Option<ProxyRule>,
  extra_ca_pem: Option<&[u8]>,
  verify_certificates: bool,
) -> Result<Arc<Transport>, Error> {
  let options = TransportOptions {
    proxy,
    extra_ca_pem: extra_ca_pem.map(Cow::Borrowed),
    verify_certificates,
  };
  let mut transports = TRANSPORTS.lock().unwrap_or_else(PoisonError::into_inner);
  transports.retain(|(_, transport)| transport.strong_count() > 0);
  let in_use = transports
    .iter()
    .filter(|(existing, _)| *existing == options)
    .find_map(|(_, transport)| transport.upgrade());
  if let Some(transport) = in_use {
    return Ok(transport);
  }
  let transport = Arc::new(Transport {
    http: build_http_client(&options)?,
    in_flight: Semaphore::new(MAX_REQUESTS_IN_FLIGHT),
  });
  let options = TransportOptions {
    extra_ca_pem: options.extra_ca_pem.map(|pem| Cow::Owned(pem.into_owned())),
    ..options
  };
  transports.push((options, Arc::downgrade(&transport)));
  Ok(transport)
}

fn build_http_client(options: &TransportOptions<'_>) -> Result<reqwest::Client, Error> {
  let tls = if options.verify_certificates {
    webpubsub_protocol::tls::client_config(options.extra_ca_pem.as_deref())
  } else {
    webpubsub_protocol::tls::unverified_client_config()
  }
  .map_err(|e| Error::InvalidArgument(e.to_string()))?;
  let builder = reqwest::Client::builder()
    .tls_backend_preconfigured(tls)
    .http1_only()
    .redirect(reqwest::redirect::Policy::none())
    .no_proxy();
  let builder = match options.proxy.clone() {
    Some(rule) => builder.proxy(reqwest::Proxy::custom(move |url| rule.proxy_for(url))),
    None => builder,
  };
  builder
    .build()
    .map_err(|e| Error::InvalidArgument(format!("HTTP client setup failed: {e}")))
}

/// The Node error code and message the SDK would report for a reqwest failure; `host` and
/// `port` are the request target's.
pub(crate) fn transport_failure(error: &reqwest::Error, host: &str, port: u16) -> (String, String) {
  let mut source: Option<&(dyn StdError + 'static)> = Some(error);
  let mut dns = false;
  while let Some(current) = source {
    if current.to_string().starts_with("dns error") {
      dns = true;
    }
    if let Some(tls) = current.downcast_ref::<rustls::Error>() {
      return (tls_code(tls).to_owned(), tls.to_string());
    }
    if let Some(io) = current.downcast_ref::<std::io::Error>() {
      if dns {
        return node_error("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}"));
      }
      use std::io::ErrorKind::*;
      match io.kind() {
        ConnectionRefused => {
          return node_error(
            "ECONNREFUSED",
            format!("connect ECONNREFUSED {host}:{port}"),
          )
        }
        TimedOut => return node_error("ETIMEDOUT", format!("connect ETIMEDOUT {host}:{port}")),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
          return node_error("ECONNRESET", "read ECONNRESET".to_owned())
        }
        _ => {}
      }
      // An io::Error's `source()` skips the error it wraps (rustls errors sit there, sometimes
      // inside another io::Error), so descend into it directly.
      if let Some(inner) = io.get_ref() {
        source = Some(inner as &(dyn StdError + 'static));
        continue;
      }
    }
    if let Some(hyper_error) = current.downcast_ref::<hyper::Error>() {
      if hyper_error.is_parse() {
        let (code, message) = parser_failure(hyper_error);
        return node_error(code, message.to_owned());
      }
      if hyper_error.is_incomplete_message() || hyper_error.is_canceled() {
        return node_error("ECONNRESET", "socket hang up".to_owned());
      }
    }
    source = current.source();
  }
  if dns {
    return node_error("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}"));
  }
  node_error("REQUEST_SEND_ERROR", error_chain(error))
}

/// Node's HTTP parser (llhttp) code and message for an answer head hyper could not parse.
/// hyper names the bad part only in its description for most kinds of parse error.
fn parser_failure(error: &hyper::Error) -> (&'static str, &'static str) {
  if error.is_parse_status() {
    return ("HPE_INVALID_STATUS", "Parse Error: Invalid status code");
  }
  let description = error.to_string();
  if description.starts_with("message head is too large") {
    ("HPE_HEADER_OVERFLOW", "Parse Error: Header overflow")
  } else if description.starts_with("invalid content-length") {
    (
      "HPE_INVALID_CONTENT_LENGTH",
      "Parse Error: Invalid character in Content-Length",
    )
  } else if description.starts_with("invalid HTTP header") {
    (
      "HPE_INVALID_HEADER_TOKEN",
      "Parse Error: Invalid header token",
    )
  } else {
    (
      "HPE_INVALID_CONSTANT",
      "Parse Error: Expected HTTP/, RTSP/ or ICE/",
    )
  }
}

fn node_error(code: &str, message: String) -> (String, String) {
  (code.to_owned(), message)
}

fn error_chain(error: &reqwest::Error) -> String {
  let mut message = error.to_string();
  let mut source = error.source();
  while let Some(current) = source {
    message.push_str(": ");
    message.push_str(&current.to_string());
    source = current.source();
  }
  message
}

/// Node's (OpenSSL's) code for a certificate problem.
fn tls_code(error: &rustls::Error) -> &'static str {
  use rustls::CertificateError::*;
  match error {
    rustls::Error::InvalidCertificate(cert) => match cert {
      UnknownIssuer => "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      Expired | ExpiredContext { .. } => "CERT_HAS_EXPIRED",
      NotValidYet | NotValidYetContext { .. } => "CERT_NOT_YET_VALID",
      NotValidForName | NotValidForNameContext { .. } => "ERR_TLS_CERT_ALTNAME_INVALID",
      Revoked => "CERT_REVOKED",
      _ => "ERR_TLS_CERT_INVALID",
    },
    // Node reports a TLS record or handshake failure as EPROTO.
    _ => "EPROTO",
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn proxy(url: &str) -> Option<ProxyRule> {
    ProxyRule::resolve(Some(url), |_| None).unwrap()
  }

  #[test]
  fn clients_with_equal_options_share_a_transport_while_one_lives() {
    let first = shared_transport(proxy("http://share.invalid:1"), None, true).unwrap();
    let second = shared_transport(proxy("http://share.invalid:1"), None, true).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    let other_proxy = shared_transport(proxy("http://share.invalid:2"), None, true).unwrap();
    assert!(!Arc::ptr_eq(&first, &other_proxy));
    let unverified = shared_transport(proxy("http://share.invalid:1"), None, false).unwrap();
    assert!(!Arc::ptr_eq(&first, &unverified));
    let gone = Arc::downgrade(&first);
    drop((first, second));
    assert!(
      gone.upgrade().is_none(),
      "the transport goes with its last client"
    );
    let again = shared_transport(proxy("http://share.invalid:1"), None, true).unwrap();
    assert_eq!(again.in_flight.available_permits(), MAX_REQUESTS_IN_FLIGHT);
  }
}
