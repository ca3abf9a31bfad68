//! A tiny HTTP/1.1 server on 127.0.0.1:0 that records every request and answers from a script.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
  pub method: String,
  /// Path and query exactly as sent.
  pub target: String,
  /// Header names lower-cased, in arrival order.
  pub headers: Vec<(String, String)>,
  pub body: Vec<u8>,
}

impl Recorded {
  pub fn header(&self, name: &str) -> Option<&str> {
    self
      .headers
      .iter()
      .find(|(n, _)| n == name)
      .map(|(_, v)| v.as_str())
  }

  /// The token of the `Authorization: Bearer` header; panics without one.
  pub fn bearer(&self) -> &str {
    self
      .header("authorization")
      .and_then(|h| h.strip_prefix("Bearer "))
      .expect("a Bearer authorization header")
  }
}

/// How to answer one request.
pub enum Reply {
  Status(u16, Vec<(&'static str, String)>, Vec<u8>),
  /// Never answer (the connection stays open).
  Hang,
}

pub fn status(code: u16) -> Reply {
  Reply::Status(code, Vec::new(), Vec::new())
}

type Script = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

pub struct Recorder {
  pub port: u16,
  requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
  /// Starts the server; `script(request, index)` decides each answer.
  pub async fn start(script: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
    Self::start_with(script, None).await
  }

  /// Starts an HTTPS server with the test certificate for `localhost` / `127.0.0.1`
  /// (issued by `fixtures/test-ca.cert.pem`).
  pub async fn start_tls(
    script: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
  ) -> Self {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(include_bytes!("../fixtures/localhost.cert.pem"))
      .collect::<Result<Vec<_>, _>>()
      .unwrap();
    let key =
      PrivateKeyDer::from_pem_slice(include_bytes!("../fixtures/localhost.key.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
      rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    Self::start_with(
      script,
      Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
    )
    .await
  }

  async fn start_with(
    script: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    tls: Option<tokio_rustls::TlsAcceptor>,
  ) -> Self {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let shared = requests.clone();
    tokio::spawn(async move {
      while let Ok((stream, _)) = listener.accept().await {
        let (requests, script) = (shared.clone(), script.clone());
        match &tls {
          Some(acceptor) => {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
              if let Ok(stream) = acceptor.accept(stream).await {
                serve(stream, requests, script).await;
              }
            });
          }
          None => {
            tokio::spawn(serve(stream, requests, script));
          }
        }
      }
    });
    Self { port, requests }
  }

  pub fn endpoint(&self) -> String {
    format!("http://127.0.0.1:{}", self.port)
  }

  pub fn requests(&self) -> Vec<Recorded> {
    self.requests.lock().unwrap().clone()
  }
}

async fn serve<S>(stream: S, requests: Arc<Mutex<Vec<Recorded>>>, script: Arc<Script>)
where
  S: AsyncRead + AsyncWrite + Send + 'static,
{
  let (read, mut write) = tokio::io::split(stream);
  let mut reader = BufReader::new(read);
  loop {
    let mut line = String::new();
    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
      return;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
      let mut header = String::new();
      if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
        return;
      }
      let header = header.trim_end();
      if header.is_empty() {
        break;
      }
      let (name, value) = header.split_once(':').unwrap();
      headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
      .iter()
      .find(|(n, _)| n == "content-length")
      .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    let recorded = Recorded {
      method,
      target,
      headers,
      body,
    };
    let index = {
      let mut all = requests.lock().unwrap();
      all.push(recorded.clone());
      all.len() - 1
    };
    match script(&recorded, index) {
      Reply::Hang => {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
      }
      Reply::Status(code, extra, body) => {
        let mut head = format!("HTTP/1.1 {code} Scripted\r\n");
        for (name, value) in extra {
          head.push_str(&format!("{name}: {value}\r\n"));
        }
        if code != 204 {
          head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if recorded.method != "HEAD" {
          bytes.extend_from_slice(&body);
        }
        if write.write_all(&bytes).await.is_err() {
          return;
        }
      }
    }
  }
}
