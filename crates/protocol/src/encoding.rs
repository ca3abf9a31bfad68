//! Percent-encoding byte-exact with what `@azure/web-pubsub` 1.2.0 puts on the wire.
//!
//! Path parameters (hub, group, user, connection, permission) are encoded with
//! `encodeURIComponent`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` becomes `%XX` of its
//! UTF-8 bytes (upper-case hex). Query values use the same set minus `'`, which is sent as
//! `%27`. A space is always `%20`, never `+`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::borrow::Cow;

/// Characters `encodeURIComponent` leaves alone are the complement of this set.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
  .remove(b'-')
  .remove(b'_')
  .remove(b'.')
  .remove(b'!')
  .remove(b'~')
  .remove(b'*')
  .remove(b'\'')
  .remove(b'(')
  .remove(b')');

const QUERY_VALUE: &AsciiSet = &PATH_SEGMENT.add(b'\'');

/// Encodes one path segment (borrowed when nothing needs escaping).
pub fn path_segment(s: &str) -> Cow<'_, str> {
  utf8_percent_encode(s, PATH_SEGMENT).into()
}

/// Encodes one query value (borrowed when nothing needs escaping).
pub fn query_value(s: &str) -> Cow<'_, str> {
  utf8_percent_encode(s, QUERY_VALUE).into()
}

#[cfg(test)]
mod tests {
  use super::*;

  // Expected strings are what the official SDK sent for the same inputs.
  const TRICKY: &str = "a b!'()*~-_./?:@&=+$,;#[]%ü😀\"<>\\^`{|}";

  #[test]
  fn path_segment_is_encode_uri_component() {
    assert_eq!(
      path_segment(TRICKY),
      "a%20b!'()*~-_.%2F%3F%3A%40%26%3D%2B%24%2C%3B%23%5B%5D%25%C3%BC%F0%9F%98%80%22%3C%3E%5C%5E%60%7B%7C%7D"
    );
    assert_eq!(
      path_segment("u 1/ü'()*!~%😀+&=?#"),
      "u%201%2F%C3%BC'()*!~%25%F0%9F%98%80%2B%26%3D%3F%23"
    );
    assert_eq!(path_segment("h[u]b`,.x"), "h%5Bu%5Db%60%2C.x");
    assert_eq!(path_segment("\0\n\t"), "%00%0A%09");
    assert!(matches!(path_segment("plain-id_1.2"), Cow::Borrowed(_)));
  }

  #[test]
  fn query_value_also_encodes_the_apostrophe() {
    assert_eq!(
      query_value(TRICKY),
      "a%20b!%27()*~-_.%2F%3F%3A%40%26%3D%2B%24%2C%3B%23%5B%5D%25%C3%BC%F0%9F%98%80%22%3C%3E%5C%5E%60%7B%7C%7D"
    );
    assert_eq!(
      query_value("userId eq 'o''k' and x ü"),
      "userId%20eq%20%27o%27%27k%27%20and%20x%20%C3%BC"
    );
    assert_eq!(query_value(""), "");
  }
}
