//! HS256 JSON Web Tokens signed with a Web PubSub access key.
//!
//! Tokens are byte-identical to the ones `@azure/web-pubsub` 1.2.0 makes with the `jsonwebtoken`
//! npm package for the same `iat`: header `{"alg":"HS256","typ":"JWT"}`, compact JSON claims in
//! the SDK's key order, unpadded base64url. The HMAC key is the access key's UTF-8 bytes.
//!
//! The `jsonwebtoken` crate (with `ring`, which TLS links anyway) signs and checks signatures. The
//! segments around them are written and read here: the crate's own encoder writes the header's
//! fields in another order (tokens would differ from the SDK's), and its decoder cannot tell the
//! refusals apart as the emulator reports them (an unknown `alg` from a malformed header, a float
//! `exp`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{crypto, Algorithm, DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

/// `base64url('{"alg":"HS256","typ":"JWT"}')`, the header the npm `jsonwebtoken` package writes.
const HEADER_SEGMENT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Lifetime of a REST token: the SDK signs with `expiresIn: "1h"`.
const REST_TOKEN_LIFETIME_SECS: u64 = 3600;

/// Clock skew tolerated by [`SigningKey::verify`] (the service and emulator allow 5 minutes).
const CLOCK_SKEW_SECS: u64 = 300;

/// An access key ready to sign and verify tokens.
#[derive(Clone)]
pub struct SigningKey {
  encoding: EncodingKey,
  decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("SigningKey(<redacted>)")
  }
}

/// What goes into a client (WebSocket) access token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTokenClaims {
  /// The `aud` claim: `<endpoint with trailing slash><client path>`, e.g.
  /// `https://host/client/hubs/chat`.
  pub audience: String,
  /// `sub`; omitted when `None` or empty, as the SDK omits a falsy `userId`.
  pub user_id: Option<String>,
  /// `role` as a JSON array; omitted when `None`. `Some(vec![])` writes `"role":[]`, as the
  /// SDK does for `roles: []`.
  pub roles: Option<Vec<String>>,
  /// `webpubsub.group` as a JSON array; omitted when `None`, `[]` kept like `roles`.
  pub groups: Option<Vec<String>>,
  /// `exp = iat + lifetime_minutes * 60`; the SDK default is 60.
  pub lifetime_minutes: u64,
}

/// The claims of a token that passed [`SigningKey::verify`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
  /// Every claim, as decoded.
  pub claims: Map<String, Value>,
  /// `aud` when it is a string or a one-element array of a string; otherwise `None` (look in
  /// `claims`).
  pub audience: Option<String>,
  /// `sub` when it is a string.
  pub subject: Option<String>,
  /// `role`, given either as one string or as an array of strings.
  pub roles: Vec<String>,
  /// `webpubsub.group`, given either as one string or as an array of strings.
  pub groups: Vec<String>,
  /// `exp`, in seconds since the Unix epoch.
  pub expires_at: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
  /// Not three base64url segments of JSON, or a claims segment that is not a JSON object.
  #[error("the token is malformed")]
  Malformed,
  /// The header names an algorithm other than HS256.
  #[error("the token algorithm is not HS256")]
  UnsupportedAlgorithm,
  /// The signature does not match the access key.
  #[error("the token signature is invalid")]
  BadSignature,
  /// No numeric `exp` claim.
  #[error("the token has no expiry")]
  MissingExpiry,
  /// `exp` is more than the allowed clock skew in the past.
  #[error("the token has expired")]
  Expired,
  /// `nbf` is more than the allowed clock skew in the future.
  #[error("the token is not valid yet")]
  NotYetValid,
  /// A `role` or `webpubsub.group` claim that is neither a string nor an array of strings.
  #[error("the token claim '{0}' is not a string or an array of strings")]
  InvalidClaim(&'static str),
}

#[derive(Serialize)]
struct RestClaims<'a> {
  iat: u64,
  exp: u64,
  aud: &'a str,
}

/// Field order is the SDK's: its payload object holds `role` and `webpubsub.group`, then
/// `jsonwebtoken` appends `iat`, `exp`, `aud` and `sub`.
#[derive(Serialize)]
struct ClientClaims<'a> {
  #[serde(skip_serializing_if = "Option::is_none")]
  role: Option<&'a [String]>,
  #[serde(rename = "webpubsub.group", skip_serializing_if = "Option::is_none")]
  group: Option<&'a [String]>,
  iat: u64,
  exp: u64,
  aud: &'a str,
  #[serde(skip_serializing_if = "Option::is_none")]
  sub: Option<&'a str>,
}

impl SigningKey {
  /// Prepares `access_key` (its UTF-8 bytes are the HMAC secret).
  pub fn new(access_key: &str) -> Self {
    Self {
      encoding: EncodingKey::from_secret(access_key.as_bytes()),
      decoding: DecodingKey::from_secret(access_key.as_bytes()),
    }
  }

  /// The token the SDK puts in `Authorization: Bearer …` for a REST call: claims
  /// `{"iat","exp","aud"}` with `exp = iat + 3600` and `aud` the full request URL.
  pub fn sign_rest_token(&self, audience: &str, now_secs: u64) -> String {
    self.sign_serializable(&RestClaims {
      iat: now_secs,
      exp: now_secs + REST_TOKEN_LIFETIME_SECS,
      aud: audience,
    })
  }

  /// A client access token, with the same claims, order and presence as the SDK's
  /// `getClientAccessToken` (see [`ClientTokenClaims`]).
  pub fn sign_client_token(&self, claims: &ClientTokenClaims, now_secs: u64) -> String {
    self.sign_serializable(&ClientClaims {
      role: claims.roles.as_deref(),
      group: claims.groups.as_deref(),
      iat: now_secs,
      exp: now_secs + claims.lifetime_minutes * 60,
      aud: &claims.audience,
      sub: claims.user_id.as_deref().filter(|id| !id.is_empty()),
    })
  }

  /// Signs arbitrary claims with HS256 (keys in the map's iteration order).
  pub fn sign_claims(&self, claims: &Map<String, Value>) -> String {
    self.sign_serializable(claims)
  }

  fn sign_serializable<T: Serialize>(&self, claims: &T) -> String {
    let json = serde_json::to_vec(claims).expect("token claims always serialise to JSON");
    let mut token = String::with_capacity(HEADER_SEGMENT.len() + 2 + json.len() * 4 / 3 + 4 + 43);
    token.push_str(HEADER_SEGMENT);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&json, &mut token);
    let signature = crypto::sign(token.as_bytes(), &self.encoding, Algorithm::HS256)
      .expect("HS256 signs with a secret of any length");
    token.push('.');
    token.push_str(&signature);
    token
  }

  /// Checks an HS256 token: signature, a numeric `exp` no more than 5 minutes in the past, and
  /// `nbf` (when present) no more than 5 minutes in the future. The audience is NOT checked:
  /// callers compare [`VerifiedClaims::audience`] with what they expect.
  pub fn verify(&self, token: &str, now_secs: u64) -> Result<VerifiedClaims, JwtError> {
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
      segments.next(),
      segments.next(),
      segments.next(),
      segments.next(),
    ) else {
      return Err(JwtError::Malformed);
    };
    let header: Map<String, Value> = decode_segment(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
      return Err(JwtError::UnsupportedAlgorithm);
    }
    let signed = &token[..token.len() - signature.len() - 1];
    // The crate compares encoded signatures; one that is not unpadded base64url at all is malformed
    // rather than wrong.
    URL_SAFE_NO_PAD
      .decode(signature)
      .map_err(|_| JwtError::Malformed)?;
    let valid = crypto::verify(
      signature,
      signed.as_bytes(),
      &self.decoding,
      Algorithm::HS256,
    )
    .map_err(|_| JwtError::BadSignature)?;
    if !valid {
      return Err(JwtError::BadSignature);
    }
    let claims: Map<String, Value> = decode_segment(payload)?;
    let expires_at = claims
      .get("exp")
      .and_then(numeric_date)
      .ok_or(JwtError::MissingExpiry)?;
    if expires_at.saturating_add(CLOCK_SKEW_SECS) < now_secs {
      return Err(JwtError::Expired);
    }
    if let Some(not_before) = claims.get("nbf").and_then(numeric_date) {
      if not_before > now_secs.saturating_add(CLOCK_SKEW_SECS) {
        return Err(JwtError::NotYetValid);
      }
    }
    Ok(VerifiedClaims {
      audience: match claims.get("aud") {
        Some(Value::String(aud)) => Some(aud.clone()),
        Some(Value::Array(list)) if list.len() == 1 => list[0].as_str().map(str::to_owned),
        _ => None,
      },
      subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
      roles: string_or_list(&claims, "role")?,
      groups: string_or_list(&claims, "webpubsub.group")?,
      expires_at,
      claims,
    })
  }
}

fn decode_segment(segment: &str) -> Result<Map<String, Value>, JwtError> {
  let bytes = URL_SAFE_NO_PAD
    .decode(segment.trim_end_matches('='))
    .map_err(|_| JwtError::Malformed)?;
  serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// A JWT NumericDate: a non-negative number of seconds (fractions are dropped).
fn numeric_date(value: &Value) -> Option<u64> {
  value
    .as_u64()
    .or_else(|| value.as_f64().filter(|v| *v >= 0.0).map(|v| v as u64))
}

fn string_or_list(
  claims: &Map<String, Value>,
  name: &'static str,
) -> Result<Vec<String>, JwtError> {
  match claims.get(name) {
    None | Some(Value::Null) => Ok(Vec::new()),
    Some(Value::String(one)) => Ok(vec![one.clone()]),
    Some(Value::Array(items)) => items
      .iter()
      .map(|item| {
        item
          .as_str()
          .map(str::to_owned)
          .ok_or(JwtError::InvalidClaim(name))
      })
      .collect(),
    Some(_) => Err(JwtError::InvalidClaim(name)),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  const IAT: u64 = 1_795_846_742;

  // Tokens below were produced by @azure/web-pubsub 1.2.0 (and the npm `jsonwebtoken` it uses).

  #[test]
  fn rest_token_is_byte_identical_to_the_sdk() {
    let key = SigningKey::new(KEY);
    let token = key.sign_rest_token(
      "http://127.0.0.1:41415/api/hubs/Hub_1/:send?api-version=2024-12-01",
      IAT,
    );
    assert_eq!(
      token,
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3OTU4NDY3NDIsImV4cCI6MTc5NTg1MDM0MiwiYXVkIjoiaHR0cDovLzEyNy4wLjAuMTo0MTQxNS9hcGkvaHVicy9IdWJfMS86c2VuZD9hcGktdmVyc2lvbj0yMDI0LTEyLTAxIn0.VVPoTOlgoSvuzMzTKU7T8Gsuj_tUSIFx1WkFUhsrpcg"
    );
  }

  #[test]
  fn client_token_with_everything_matches_the_sdk() {
    let key = SigningKey::new(KEY);
    let claims = ClientTokenClaims {
      audience: "http://127.0.0.1:41415/client/hubs/Hub_1".into(),
      user_id: Some("u1".into()),
      roles: Some(vec!["r1".into(), "r2".into()]),
      groups: Some(vec!["g1".into()]),
      lifetime_minutes: 7,
    };
    assert_eq!(
      key.sign_client_token(&claims, IAT),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjpbInIxIiwicjIiXSwid2VicHVic3ViLmdyb3VwIjpbImcxIl0sImlhdCI6MTc5NTg0Njc0MiwiZXhwIjoxNzk1ODQ3MTYyLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjQxNDE1L2NsaWVudC9odWJzL0h1Yl8xIiwic3ViIjoidTEifQ.4Woib_PoOJGvDb4oFBRBmBheYLbVxS22kEN9yGw_SL8"
    );
  }

  #[test]
  fn client_token_keeps_empty_lists_and_drops_empty_user() {
    let key = SigningKey::new(KEY);
    let claims = ClientTokenClaims {
      audience: "http://127.0.0.1:41415/client/hubs/Hub_1".into(),
      user_id: Some(String::new()),
      roles: Some(vec![]),
      groups: Some(vec![]),
      lifetime_minutes: 60,
    };
    assert_eq!(
      key.sign_client_token(&claims, IAT),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjpbXSwid2VicHVic3ViLmdyb3VwIjpbXSwiaWF0IjoxNzk1ODQ2NzQyLCJleHAiOjE3OTU4NTAzNDIsImF1ZCI6Imh0dHA6Ly8xMjcuMC4wLjE6NDE0MTUvY2xpZW50L2h1YnMvSHViXzEifQ.DX6Kyy7G2zssr2pYioatE-OiUs-wNKougVeLa3p40Vg"
    );
  }

  #[test]
  fn client_token_without_options_has_only_time_and_audience() {
    let key = SigningKey::new(KEY);
    let claims = ClientTokenClaims {
      audience: "http://127.0.0.1:41415/clients/mqtt/hubs/Hub_1".into(),
      lifetime_minutes: 60,
      ..Default::default()
    };
    assert_eq!(
      key.sign_client_token(&claims, IAT),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3OTU4NDY3NDIsImV4cCI6MTc5NTg1MDM0MiwiYXVkIjoiaHR0cDovLzEyNy4wLjAuMTo0MTQxNS9jbGllbnRzL21xdHQvaHVicy9IdWJfMSJ9.VEgD1laM1OUS-ohjFT48aPF8eOIDBee7_aYunYi28ZU"
    );
  }

  #[test]
  fn json_escaping_and_non_ascii_keys_match_npm_jsonwebtoken() {
    let key = SigningKey::new("kéy-ünicode");
    let claims = ClientTokenClaims {
      audience: "http://h/client/hubs/x".into(),
      user_id: Some("s\\t".into()),
      roles: Some(vec!["a\"b".into(), "ü😀".into()]),
      groups: Some(vec!["\u{1}\n\u{2028}\u{7f}</".into()]),
      lifetime_minutes: 5,
    };
    assert_eq!(
      key.sign_client_token(&claims, 1_795_846_950),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjpbImFcImIiLCLDvPCfmIAiXSwid2VicHVic3ViLmdyb3VwIjpbIlx1MDAwMVxu4oCofzwvIl0sImlhdCI6MTc5NTg0Njk1MCwiZXhwIjoxNzk1ODQ3MjUwLCJhdWQiOiJodHRwOi8vaC9jbGllbnQvaHVicy94Iiwic3ViIjoic1xcdCJ9.8KqpXZ3sWLtsG4J_XCewNN1YXaQpJuhDPct38L-tciU"
    );
  }

  #[test]
  fn verify_round_trips_client_claims() {
    let key = SigningKey::new(KEY);
    let claims = ClientTokenClaims {
      audience: "https://h/client/hubs/chat".into(),
      user_id: Some("alice".into()),
      roles: Some(vec!["webpubsub.joinLeaveGroup".into()]),
      groups: Some(vec!["g1".into(), "g2".into()]),
      lifetime_minutes: 10,
    };
    let verified = key
      .verify(&key.sign_client_token(&claims, IAT), IAT + 1)
      .unwrap();
    assert_eq!(
      verified.audience.as_deref(),
      Some("https://h/client/hubs/chat")
    );
    assert_eq!(verified.subject.as_deref(), Some("alice"));
    assert_eq!(verified.roles, vec!["webpubsub.joinLeaveGroup"]);
    assert_eq!(verified.groups, vec!["g1", "g2"]);
    assert_eq!(verified.expires_at, IAT + 600);
    assert_eq!(verified.claims["iat"], serde_json::json!(IAT));
  }

  #[test]
  fn verify_accepts_single_string_role_and_group() {
    let key = SigningKey::new(KEY);
    let serde_json::Value::Object(claims) = serde_json::json!({
      "role": "webpubsub.sendToGroup", "webpubsub.group": "g", "exp": IAT + 10, "aud": ["a"]
    }) else {
      unreachable!()
    };
    let verified = key.verify(&key.sign_claims(&claims), IAT).unwrap();
    assert_eq!(verified.roles, vec!["webpubsub.sendToGroup"]);
    assert_eq!(verified.groups, vec!["g"]);
    assert_eq!(verified.audience.as_deref(), Some("a"));
    assert_eq!(verified.subject, None);
  }

  #[test]
  fn verify_applies_five_minutes_of_skew() {
    let key = SigningKey::new(KEY);
    let token = key.sign_rest_token("aud", IAT);
    let exp = IAT + 3600;
    assert!(key.verify(&token, exp + 300).is_ok());
    assert_eq!(key.verify(&token, exp + 301), Err(JwtError::Expired));
    let serde_json::Value::Object(early) = serde_json::json!({"nbf": IAT + 301, "exp": IAT + 1000})
    else {
      unreachable!()
    };
    assert_eq!(
      key.verify(&key.sign_claims(&early), IAT),
      Err(JwtError::NotYetValid)
    );
  }

  #[test]
  fn verify_refuses_bad_tokens() {
    let key = SigningKey::new(KEY);
    let other = SigningKey::new("another key entirely, 32 bytes+");
    let token = other.sign_rest_token("aud", IAT);
    assert_eq!(key.verify(&token, IAT), Err(JwtError::BadSignature));
    assert_eq!(key.verify("a.b", IAT), Err(JwtError::Malformed));
    assert_eq!(key.verify("a.b.c.d", IAT), Err(JwtError::Malformed));
    assert_eq!(key.verify("!!.!!.!!", IAT), Err(JwtError::Malformed));
    let serde_json::Value::Object(no_exp) = serde_json::json!({"aud": "x"}) else {
      unreachable!()
    };
    assert_eq!(
      key.verify(&key.sign_claims(&no_exp), IAT),
      Err(JwtError::MissingExpiry)
    );
    let serde_json::Value::Object(bad_role) = serde_json::json!({"exp": IAT, "role": 5}) else {
      unreachable!()
    };
    assert_eq!(
      key.verify(&key.sign_claims(&bad_role), IAT),
      Err(JwtError::InvalidClaim("role"))
    );
    // HS384 header with a valid-looking body is refused before the signature is checked.
    let hs384 = format!(
      "{}.{}",
      URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384","typ":"JWT"}"#),
      token.split_once('.').unwrap().1
    );
    assert_eq!(key.verify(&hs384, IAT), Err(JwtError::UnsupportedAlgorithm));
  }

  #[test]
  fn verify_tells_an_undecodable_signature_from_a_wrong_one() {
    let key = SigningKey::new(KEY);
    let token = key.sign_rest_token("aud", IAT);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(
      key.verify(&format!("{signed}.{signature}="), IAT),
      Err(JwtError::Malformed)
    );
    assert_eq!(
      key.verify(&format!("{signed}.*{}", &signature[1..]), IAT),
      Err(JwtError::Malformed)
    );
    assert_eq!(
      key.verify(&format!("{signed}.{}", &signature[..40]), IAT),
      Err(JwtError::BadSignature)
    );
    assert_eq!(
      key.verify(&format!("{signed}."), IAT),
      Err(JwtError::BadSignature)
    );
  }

  #[test]
  fn debug_output_hides_the_key() {
    assert_eq!(
      format!("{:?}", SigningKey::new(KEY)),
      "SigningKey(<redacted>)"
    );
  }
}
