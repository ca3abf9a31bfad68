//! The WebSocket side: handshake (token claims give the user and groups; the JSON subprotocol is
//! echoed when offered), the `connected` message, then a loop that writes queued frames in
//! batches and reads only to notice the close.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rust_ceiling::jwt::unverified_claims;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::hub::Hub;

const JSON_SUBPROTOCOL: &str = "json.webpubsub.azure.v1";
const BUFFER_BYTES: usize = 4096;

#[derive(Default)]
struct Handshake {
  json: bool,
  user: Option<String>,
  groups: Vec<String>,
}

fn read_request(req: &Request, out: &mut Handshake) {
  out.json = req
    .headers()
    .get_all("Sec-WebSocket-Protocol")
    .iter()
    .filter_map(|v| v.to_str().ok())
    .flat_map(|v| v.split(','))
    .any(|p| p.trim() == JSON_SUBPROTOCOL);
  let token = req
    .uri()
    .query()
    .unwrap_or("")
    .split('&')
    .find_map(|kv| kv.strip_prefix("access_token="));
  if let Some(claims) = token.and_then(unverified_claims) {
    out.user = claims["sub"].as_str().map(str::to_owned);
    out.groups = match &claims["webpubsub.group"] {
      serde_json::Value::String(g) => vec![g.clone()],
      serde_json::Value::Array(gs) => gs
        .iter()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect(),
      _ => Vec::new(),
    };
  }
}

// The handshake callback's error type is tungstenite's, not ours to shrink.
#[allow(clippy::result_large_err)]
pub async fn serve(stream: TcpStream, hub: Arc<Hub>) {
  let mut hs = Handshake::default();
  let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
    read_request(req, &mut hs);
    if hs.json {
      resp.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(JSON_SUBPROTOCOL),
      );
    }
    Ok(resp)
  };
  let config = WebSocketConfig::default()
    .read_buffer_size(BUFFER_BYTES)
    .write_buffer_size(BUFFER_BYTES);
  let Ok(mut socket) =
    tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
  else {
    return;
  };
  let (id, mut rx) = hub.join(hs.json, hs.user.clone(), std::mem::take(&mut hs.groups));
  if hs.json {
    let connected = serde_json::json!({ "type": "system", "event": "connected",
      "userId": hs.user, "connectionId": format!("{id:032x}") });
    if socket
      .send(Message::text(connected.to_string()))
      .await
      .is_err()
    {
      hub.leave(id);
      return;
    }
  }
  loop {
    tokio::select! {
      frame = rx.recv() => {
        let Some(frame) = frame else { break };
        if socket.feed(frame).await.is_err() {
          break;
        }
        while let Ok(more) = rx.try_recv() {
          if socket.feed(more).await.is_err() {
            break;
          }
        }
        if socket.flush().await.is_err() {
          break;
        }
      }
      incoming = socket.next() => match incoming {
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
        Some(Ok(_)) => {}
      }
    }
  }
  hub.leave(id);
}
