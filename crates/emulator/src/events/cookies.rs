//! Cookies a handler sets on a connection (`Set-Cookie` on successful responses), sent back with
//! that connection's later events in one `Cookie` header. Attributes (path, expiry, domain) are
//! ignored: every cookie applies to every handler of the connection until replaced.

use reqwest::header::{HeaderMap, SET_COOKIE};

/// One connection's cookies, in the order they were first set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
  cookies: Vec<(String, String)>,
}

impl CookieJar {
  /// Stores the `name=value` part of every `Set-Cookie` header, replacing cookies of the same name.
  pub fn store(&mut self, headers: &HeaderMap) {
    for value in headers.get_all(SET_COOKIE) {
      let Ok(text) = value.to_str() else { continue };
      let pair = text.split(';').next().unwrap_or_default();
      let Some((name, value)) = pair.split_once('=') else {
        continue;
      };
      let (name, value) = (name.trim(), value.trim());
      if name.is_empty() {
        continue;
      }
      match self.cookies.iter_mut().find(|(n, _)| n == name) {
        Some(entry) => entry.1 = value.to_owned(),
        None => self.cookies.push((name.to_owned(), value.to_owned())),
      }
    }
  }

  /// The `Cookie` header value, when any cookie is set.
  pub fn header(&self) -> Option<String> {
    if self.cookies.is_empty() {
      return None;
    }
    let pairs: Vec<String> = self
      .cookies
      .iter()
      .map(|(name, value)| format!("{name}={value}"))
      .collect();
    Some(pairs.join("; "))
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use reqwest::header::HeaderValue;

  #[test]
  fn keeps_the_latest_value_per_name() {
    let mut jar = CookieJar::default();
    assert_eq!(jar.header(), None);
    let mut headers = HeaderMap::new();
    headers.append(
      SET_COOKIE,
      HeaderValue::from_static("a=1; Path=/; HttpOnly"),
    );
    headers.append(SET_COOKIE, HeaderValue::from_static("b=2"));
    jar.store(&headers);
    let mut again = HeaderMap::new();
    again.append(SET_COOKIE, HeaderValue::from_static("a=3"));
    jar.store(&again);
    assert_eq!(jar.header().as_deref(), Some("a=3; b=2"));
  }
}
