//! The rustls client configuration every outgoing HTTPS connection of this project uses: the `ring`
//! provider, safe default protocol versions, and Mozilla's CA list from `webpki-roots` (the list Node
//! bundles and trusts by default) plus any extra PEM certificates (where `NODE_EXTRA_CA_CERTS` goes).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

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

/// A client configuration that accepts any server certificate, as Node does with
/// `NODE_TLS_REJECT_UNAUTHORIZED=0`; the handshake's signatures are still checked.
pub fn unverified_client_config() -> Result<rustls::ClientConfig, TlsConfigError> {
  let provider = Arc::new(rustls::crypto::ring::default_provider());
  Ok(
    rustls::ClientConfig::builder_with_provider(provider.clone())
      .with_safe_default_protocol_versions()
      .map_err(TlsConfigError::Setup)?
      .dangerous()
      .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
      .with_no_client_auth(),
  )
}

/// Accepts every certificate chain and name; verifies handshake signatures with the provider's
/// algorithms.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
  fn verify_server_cert(
    &self,
    _end_entity: &CertificateDer<'_>,
    _intermediates: &[CertificateDer<'_>],
    _server_name: &ServerName<'_>,
    _ocsp_response: &[u8],
    _now: UnixTime,
  ) -> Result<ServerCertVerified, rustls::Error> {
    Ok(ServerCertVerified::assertion())
  }

  fn verify_tls12_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
      message,
      cert,
      dss,
      &self.0.signature_verification_algorithms,
    )
  }

  fn verify_tls13_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
      message,
      cert,
      dss,
      &self.0.signature_verification_algorithms,
    )
  }

  fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
    self.0.signature_verification_algorithms.supported_schemes()
  }
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
