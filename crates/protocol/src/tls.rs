//! The rustls client configuration every outgoing HTTPS connection of this project uses: the `ring`
//! provider, safe default protocol versions, and Mozilla's CA list from `webpki-roots` (the list Node
//! bundles and trusts by default) plus any extra PEM certificates (where `NODE_EXTRA_CA_CERTS` goes).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
  #[error("invalid extra CA certificate: {0}")]
  InvalidCertificate(String),
  #[error("TLS setup failed: {0}")]
  Setup(rustls::Error),
}

/// A client configuration trusting the webpki roots and the certificates of `extra_ca_pem`.
pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, TlsConfigError> {
  let mut roots = rustls::RootCertStore::empty();
  roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
  if let Some(pem) = extra_ca_pem {
    for cert in CertificateDer::pem_slice_iter(pem) {
      let cert = cert.map_err(|e| TlsConfigError::InvalidCertificate(e.to_string()))?;
      roots
        .add(cert)
        .map_err(|e| TlsConfigError::InvalidCertificate(e.to_string()))?;
    }
  }
  Ok(
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
      .with_safe_default_protocol_versions()
      .map_err(TlsConfigError::Setup)?
      .with_root_certificates(roots)
      .with_no_client_auth(),
  )
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn builds_with_the_webpki_roots() {
    assert!(client_config(None).is_ok());
  }

  #[test]
  fn rejects_a_broken_extra_certificate() {
    let pem = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
      client_config(Some(pem)),
      Err(TlsConfigError::InvalidCertificate(_))
    ));
  }
}
