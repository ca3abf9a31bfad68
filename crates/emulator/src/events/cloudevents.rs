//! CloudEvents binary content mode: the `ce-*` attribute headers of an upstream event and the
//! `ce-signature` the handler can check against its access key.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::settings::EventKind;

/// `ce-specversion`.
pub const SPEC_VERSION: &str = "1.0";
/// `ce-awpsversion`; `@azure/web-pubsub-express` ignores requests without it.
pub const AWPS_VERSION: &str = "1.0";
/// Header carrying the origin on every request, validation included.
pub const REQUEST_ORIGIN_HEADER: &str = "WebHook-Request-Origin";
/// Response header of a blocking event that sets the connection state.
pub const CONNECTION_STATE_HEADER: &str = "ce-connectionState";
/// Prefix of per-message metadata headers, on requests and handler responses.
pub const METADATA_HEADER_PREFIX: &str = "x-webpubsub-metadata-";

/// `sha256=<hex HMAC-SHA256(key = access key, message = connection id)>`.
pub fn signature(access_key: &str, connection_id: &str) -> String {
  let mut mac =
    Hmac::<Sha256>::new_from_slice(access_key.as_bytes()).expect("HMAC accepts keys of any length");
  mac.update(connection_id.as_bytes());
  format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The attributes of one upstream event.
#[derive(Debug, Clone)]
pub struct CloudEvent<'a> {
  pub kind: &'a EventKind,
  /// Lower-cased hub name.
  pub hub: &'a str,
  pub connection_id: &'a str,
  pub user_id: Option<&'a str>,
  pub subprotocol: Option<&'a str>,
  pub connection_state: Option<&'a str>,
  /// MQTT connections: the transport's id (in `ce-source` too) and, after `connect`, the session's.
  pub physical_connection_id: Option<&'a str>,
  pub session_id: Option<&'a str>,
  /// The host clients used to reach the emulator.
  pub origin: &'a str,
  pub event_id: u64,
  pub signature: &'a str,
  pub time: SystemTime,
}

impl CloudEvent<'_> {
  /// Every attribute header, in a stable order; optional ones only when present.
  pub fn headers(&self) -> Vec<(&'static str, String)> {
    let mut headers = vec![
      ("ce-specversion", SPEC_VERSION.to_owned()),
      ("ce-type", self.kind.ce_type()),
      ("ce-source", self.source()),
      ("ce-id", self.event_id.to_string()),
      ("ce-time", rfc3339(self.time)),
      ("ce-awpsversion", AWPS_VERSION.to_owned()),
      ("ce-hub", self.hub.to_owned()),
      ("ce-connectionId", self.connection_id.to_owned()),
      ("ce-eventName", self.kind.name().to_owned()),
      ("ce-signature", self.signature.to_owned()),
      (REQUEST_ORIGIN_HEADER, self.origin.to_owned()),
    ];
    let optional = [
      ("ce-userId", self.user_id),
      ("ce-subprotocol", self.subprotocol),
      (CONNECTION_STATE_HEADER, self.connection_state),
      ("ce-physicalConnectionId", self.physical_connection_id),
      ("ce-sessionId", self.session_id),
    ];
    headers.extend(
      optional
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v.to_owned()))),
    );
    headers
  }

  fn source(&self) -> String {
    match self.physical_connection_id {
      Some(physical) => format!(
        "/hubs/{}/client/{}/{physical}",
        self.hub, self.connection_id
      ),
      None => format!("/hubs/{}/client/{}", self.hub, self.connection_id),
    }
  }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
fn rfc3339(time: SystemTime) -> String {
  let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
  let (days, rest) = (secs / 86_400, secs % 86_400);
  let (year, month, day) = civil_date(days as i64);
  format!(
    "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
    rest / 3600,
    rest % 3600 / 60,
    rest % 60
  )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's civil-from-days).
fn civil_date(days: i64) -> (i64, u32, u32) {
  let z = days + 719_468;
  let era = z.div_euclid(146_097);
  let doe = z.rem_euclid(146_097);
  let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
  let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  let mp = (5 * doy + 2) / 153;
  let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
  let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
  let year = yoe + era * 400 + i64::from(month <= 2);
  (year, month, day)
}

#[cfg(test)]
mod tests {
  use std::time::Duration;

  use super::super::settings::SystemEvent;
  use super::*;

  #[test]
  fn signature_is_the_hex_hmac_of_the_connection_id() {
    // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog"), a published test vector.
    assert_eq!(
      signature("key", "The quick brown fox jumps over the lazy dog"),
      "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    assert_ne!(signature("key", "a"), signature("other", "a"));
  }

  #[test]
  fn times_are_utc_rfc3339() {
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    let leap_day = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
    assert_eq!(rfc3339(leap_day), "2024-02-29T12:34:56Z");
  }

  #[test]
  fn headers_carry_every_attribute() {
    let kind = EventKind::User("chat".into());
    let event = CloudEvent {
      kind: &kind,
      hub: "hub1",
      connection_id: "c1",
      user_id: Some("u1"),
      subprotocol: None,
      connection_state: Some("e30="),
      physical_connection_id: None,
      session_id: None,
      origin: "localhost:8080",
      event_id: 3,
      signature: "sha256=ab",
      time: UNIX_EPOCH,
    };
    let headers = event.headers();
    let get = |name: &str| {
      headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("ce-type"), Some("azure.webpubsub.user.chat"));
    assert_eq!(get("ce-source"), Some("/hubs/hub1/client/c1"));
    assert_eq!(get("ce-id"), Some("3"));
    assert_eq!(get("ce-awpsversion"), Some("1.0"));
    assert_eq!(get("ce-eventName"), Some("chat"));
    assert_eq!(get("ce-userId"), Some("u1"));
    assert_eq!(get("ce-connectionState"), Some("e30="));
    assert_eq!(get("WebHook-Request-Origin"), Some("localhost:8080"));
    assert_eq!(get("ce-subprotocol"), None);
    let connect = EventKind::System(SystemEvent::Connect);
    assert_eq!(connect.ce_type(), "azure.webpubsub.sys.connect");
  }
}
