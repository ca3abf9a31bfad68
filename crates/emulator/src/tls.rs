//! HTTPS and WSS: the emulator's certificate (generated self-signed for `localhost`, or read from
//! PEM) and its TLS acceptor (the accept loop is [`crate::accept`]'s).
//!
//! A server SDK using a TokenCredential refuses plain `http`, so testing that path end to end needs
//! TLS. Clients trust the generated certificate through [`TlsIdentity::certificate_pem`] (for Node,
//! e.g. a file named by `NODE_EXTRA_CA_CERTS`).

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why a TLS identity could not be made or used. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
  #[error("cannot generate the self-signed certificate: {0}")]
  Generate(#[from] rcgen::Error),
  #[error("invalid certificate PEM: {0}")]
  Certificate(String),
  #[error("invalid private key PEM: {0}")]
  PrivateKey(String),
  #[error("the certificate and key cannot serve TLS: {0}")]
  Setup(#[from] rustls::Error),
}

/// A certificate chain (PEM) and the server configuration built from it and its private key.
#[derive(Clone)]
pub struct TlsIdentity {
  certificate_pem: String,
  server_config: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for TlsIdentity {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("TlsIdentity")
      .field("certificate_pem", &self.certificate_pem)
      .finish_non_exhaustive()
  }
}

impl TlsIdentity {
  /// A new self-signed certificate for `localhost`, `127.0.0.1` and `::1` (plus `extra_names`).
  pub fn self_signed(extra_names: &[String]) -> Result<Self, TlsError> {
    let mut names = vec![
      "localhost".to_owned(),
      "127.0.0.1".to_owned(),
      "::1".to_owned(),
    ];
    for name in extra_names {
      if !names.contains(name) {
        names.push(name.clone());
      }
    }
    let certified = rcgen::generate_simple_self_signed(names)?;
    Self::from_pem(certified.cert.pem(), &certified.signing_key.serialize_pem())
  }

  /// A given certificate chain and key; fails when either PEM holds nothing usable.
  pub fn from_pem(certificate_pem: String, key_pem: &str) -> Result<Self, TlsError> {
    let server_config = Arc::new(server_config(&certificate_pem, key_pem)?);
    Ok(Self {
      certificate_pem,
      server_config,
    })
  }

  /// The certificate chain (PEM) clients must trust.
  pub fn certificate_pem(&self) -> &str {
    &self.certificate_pem
  }

  /// The acceptor every TLS listener of one emulator shares.
  pub(crate) fn acceptor(&self) -> TlsAcceptor {
    TlsAcceptor::from(Arc::clone(&self.server_config))
  }
}

fn server_config(certificate_pem: &str, key_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
  let chain = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| TlsError::Certificate(e.to_string()))?;
  if chain.is_empty() {
    return Err(TlsError::Certificate("no certificate found".to_owned()));
  }
  let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
    .map_err(|e| TlsError::PrivateKey(e.to_string()))?;
  let provider = Arc::new(rustls::crypto::ring::default_provider());
  let mut config = rustls::ServerConfig::builder_with_provider(provider)
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
  config.alpn_protocols = vec![b"http/1.1".to_vec()];
  Ok(config)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn self_signed_identity_serves_and_round_trips_through_pem() {
    let certified = rcgen::generate_simple_self_signed(vec!["emulator.test".to_owned()]).unwrap();
    let key_pem = certified.signing_key.serialize_pem();
    let identity = TlsIdentity::from_pem(certified.cert.pem(), &key_pem).unwrap();
    assert!(identity
      .certificate_pem()
      .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!format!("{identity:?}").contains(&key_pem));
    let generated = TlsIdentity::self_signed(&["emulator.test".to_owned()]).unwrap();
    assert_ne!(generated.certificate_pem(), identity.certificate_pem());
  }

  #[test]
  fn rejects_unusable_pem() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key_pem = certified.signing_key.serialize_pem();
    assert!(matches!(
      TlsIdentity::from_pem("not a certificate".to_owned(), &key_pem),
      Err(TlsError::Certificate(_))
    ));
    assert!(matches!(
      TlsIdentity::from_pem(certified.cert.pem(), "no key"),
      Err(TlsError::PrivateKey(_))
    ));
  }
}
