//! What the live trace must never show: tokens (anything shaped like a JWT, wherever it appears), the
//! `Authorization` header, and the event handlers' `ce-signature` (a MAC made with the access key).

/// What stands in for a secret.
pub const REDACTED: &str = "REDACTED";

const SECRET_HEADERS: [&str; 4] = [
  "authorization",
  "ce-signature",
  "cookie",
  "proxy-authorization",
];

/// A header value as records show it.
pub fn header(name: &str, value: &str) -> String {
  if SECRET_HEADERS
    .iter()
    .any(|secret| name.eq_ignore_ascii_case(secret))
  {
    REDACTED.to_owned()
  } else {
    text(value)
  }
}

/// Text with every JWT-shaped run (`eyJ…` with two dots) replaced.
pub fn text(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  let mut rest = text;
  while let Some(start) = rest.find("eyJ") {
    out.push_str(&rest[..start]);
    let candidate = &rest[start..];
    let end = candidate
      .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
      .unwrap_or(candidate.len());
    let run = &candidate[..end];
    if run.matches('.').count() >= 2 {
      out.push_str(REDACTED);
    } else {
      out.push_str(run);
    }
    rest = &candidate[end..];
  }
  out.push_str(rest);
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn tokens_are_replaced_wherever_they_appear() {
    let url = "/client/hubs/h?access_token=eyJhbGciOi.eyJzdWIiOi.c2ln-_x&x=1";
    assert_eq!(text(url), "/client/hubs/h?access_token=REDACTED&x=1");
    assert_eq!(
      text(r#"{"token":"eyJa.eyJb.c"}"#),
      r#"{"token":"REDACTED"}"#
    );
    assert_eq!(
      text("eyJust words. Not a token"),
      "eyJust words. Not a token"
    );
  }

  #[test]
  fn secret_headers_are_hidden_whole() {
    assert_eq!(header("Authorization", "Bearer abc"), REDACTED);
    assert_eq!(header("ce-signature", "sha256=00"), REDACTED);
    assert_eq!(header("content-type", "text/plain"), "text/plain");
  }
}
