//! The REST side: a keep-alive HTTP/1.1 loop that understands the three send routes
//! (`/api/hubs/{hub}/:send`, `.../groups/{g}/:send`, `.../users/{u}/:send`) and answers 202.
//! Tokens are not checked and every hub name maps to the one hub.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::hub::{Hub, Target};

const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n";
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
const MAX_BODY: usize = 1 << 20;

pub async fn serve(stream: TcpStream, hub: &Hub) -> io::Result<()> {
  let mut stream = BufReader::new(stream);
  let mut line = String::new();
  loop {
    line.clear();
    if stream.read_line(&mut line).await? == 0 {
      return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut length = 0usize;
    loop {
      line.clear();
      if stream.read_line(&mut line).await? == 0 {
        return Ok(());
      }
      let header = line.trim_end();
      if header.is_empty() {
        break;
      }
      if let Some((name, value)) = header.split_once(':') {
        if name.eq_ignore_ascii_case("content-length") {
          length = value.trim().parse().unwrap_or(0);
        }
      }
    }
    if length > MAX_BODY {
      return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    let text = String::from_utf8_lossy(&body);
    let route = path.split('?').next().unwrap_or("");
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let target = match segments.as_slice() {
      ["api", "hubs", _, ":send"] => Some(Target::All),
      ["api", "hubs", _, "groups", g, ":send"] => Some(Target::Group(g)),
      ["api", "hubs", _, "users", u, ":send"] => Some(Target::User(u)),
      _ => None,
    };
    let answer = match target {
      Some(t) if method == "POST" => {
        hub.send(t, &text);
        ACCEPTED
      }
      _ => NOT_FOUND,
    };
    stream.get_mut().write_all(answer).await?;
  }
}
