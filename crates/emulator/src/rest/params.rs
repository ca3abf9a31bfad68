//! Request inputs shared by every REST route: decoded path parameters with the service's name
//! checks, a multi-valued query, and the `api-version` check.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::Uri;
use webpubsub_protocol::{api, names};

use crate::error::{ProblemMediaType, RestError};
use crate::origin::RequestOrigin;
use crate::state::{Hub, SharedState};

/// The query string as ordered `(name, value)` pairs, `+` and `%XX` decoded.
#[derive(Debug, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
  pub fn parse(query: Option<&str>) -> Self {
    QueryParams(
      url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect(),
    )
  }

  /// Every value of a (case-insensitive) parameter name.
  pub fn all(&self, name: &str) -> Vec<String> {
    self
      .0
      .iter()
      .filter(|(key, _)| key.eq_ignore_ascii_case(name))
      .map(|(_, value)| value.clone())
      .collect()
  }

  /// The single value of a parameter; a repeated parameter is a validation error.
  pub fn one(&self, name: &str) -> Result<Option<String>, RestError> {
    let mut values = self.all(name);
    match values.len() {
      0 => Ok(None),
      1 => Ok(values.pop()),
      _ => Err(RestError::validation(
        name,
        format!("The parameter {name} must be given at most once."),
      )),
    }
  }

  /// An integer parameter within `min..=max`, with ASP.NET's binding and range messages.
  pub fn int_in_range(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, RestError> {
    let Some(text) = self.one(name)? else {
      return Ok(None);
    };
    let value: i64 = text
      .trim()
      .parse()
      .map_err(|_| RestError::validation(name, format!("The value '{text}' is not valid.")))?;
    if !(min..=max).contains(&value) {
      return Err(RestError::validation(
        name,
        format!("The field {name} must be between {min} and {max}."),
      ));
    }
    Ok(Some(value))
  }
}

/// A supported `api-version`, as requested (latest when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(&'static str);

impl ApiVersion {
  pub const LATEST: ApiVersion = ApiVersion(api::API_VERSION);

  pub fn as_str(self) -> &'static str {
    self.0
  }

  fn from_query(query: &QueryParams) -> Result<Self, RestError> {
    let unsupported =
      || RestError::bad_request("The specified API version is not supported.", "api-version");
    let mut values = query.all("api-version");
    match values.len() {
      0 => Ok(ApiVersion::LATEST),
      1 => {
        let value = values.pop().unwrap_or_default();
        api::SUPPORTED_API_VERSIONS
          .iter()
          .find(|known| **known == value)
          .map(|known| ApiVersion(known))
          .ok_or_else(unsupported)
      }
      _ => Err(unsupported()),
    }
  }

  /// Fails like the service when an operation is newer than the requested version.
  pub fn require(self, introduced: &'static str, uri: &Uri) -> Result<(), RestError> {
    if self.0 >= introduced {
      return Ok(());
    }
    Err(RestError::bad_request(
      format!(
        "The HTTP resource that matches the request URI '{uri}' does not support the API version '{}'.",
        self.0
      ),
      "api-version",
    ))
  }
}

/// Everything a REST handler needs: state, validated names, query, version and the request URI.
pub struct RestCall {
  pub state: SharedState,
  pub hub_name: String,
  pub query: QueryParams,
  pub version: ApiVersion,
  pub uri: Uri,
  /// Where the caller addressed the request, for absolute URLs in responses.
  pub origin: RequestOrigin,
  params: Vec<(String, String)>,
}

impl RestCall {
  /// The hub if it exists (a client ever connected to it).
  pub fn hub(&self) -> Option<Arc<Hub>> {
    self.state.hubs.find(&self.hub_name)
  }

  /// A decoded path parameter that the router guarantees.
  pub fn param(&self, name: &str) -> &str {
    self
      .params
      .iter()
      .find(|(key, _)| key == name)
      .map(|(_, value)| value.as_str())
      .unwrap_or_default()
  }

  /// `http(s)://<host>`, the origin this request was addressed to.
  pub fn origin(&self) -> String {
    self.origin.to_string()
  }
}

fn check_name(name: &str, value: &str) -> Result<(), RestError> {
  match name {
    "hub" => names::validate_hub(value).map_err(|e| RestError::validation("hub", e.to_string())),
    "group" => {
      names::validate_group(value).map_err(|e| RestError::validation("group", e.to_string()))
    }
    "userId" => names::validate_user_id(value).map_err(|_| {
      RestError::validation(
        "userId",
        "The field userId must be a string with a minimum length of 1.",
      )
    }),
    "connectionId" => names::validate_connection_id(value).map_err(|_| {
      RestError::validation(
        "connectionId",
        "The field connectionId must be a string with a minimum length of 1.",
      )
    }),
    _ => Ok(()),
  }
}

impl FromRequestParts<SharedState> for RestCall {
  type Rejection = RestError;

  async fn from_request_parts(
    parts: &mut Parts,
    state: &SharedState,
  ) -> Result<Self, Self::Rejection> {
    let raw = RawPathParams::from_request_parts(parts, state)
      .await
      .map_err(|_| RestError::validation("Request", "The request path is not valid UTF-8."))?;
    let params: Vec<(String, String)> = raw
      .iter()
      .map(|(k, v)| (k.to_owned(), v.to_owned()))
      .collect();
    let query = QueryParams::parse(parts.uri.query());
    let version = ApiVersion::from_query(&query)?;
    for (name, value) in &params {
      check_name(name, value)?;
    }
    let State(state) = State::<SharedState>::from_request_parts(parts, state)
      .await
      .map_err(|never| match never {})?;
    let hub_name = params
      .iter()
      .find(|(key, _)| key == "hub")
      .map(|(_, value)| value.clone())
      .unwrap_or_default();
    let origin = RequestOrigin::of(&state, &parts.headers);
    Ok(RestCall {
      state,
      hub_name,
      query,
      version,
      uri: parts.uri.clone(),
      origin,
      params,
    })
  }
}

/// An enum query value that is not one of the allowed names (ASP.NET binding message).
pub fn invalid_enum_value(name: &str, value: &str) -> RestError {
  RestError::Validation {
    target: name.to_owned(),
    message: format!("The value '{value}' is not valid."),
    media_type: ProblemMediaType::Json,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn query_keeps_repeats_and_decodes() {
    let query = QueryParams::parse(Some(
      "excluded=a&excluded=b%20c&filter=userId%20eq%20%27x%27",
    ));
    assert_eq!(query.all("excluded"), vec!["a", "b c"]);
    assert_eq!(
      query.one("Filter").unwrap().as_deref(),
      Some("userId eq 'x'")
    );
    assert!(query.one("excluded").is_err());
  }

  #[test]
  fn int_range_messages() {
    let query = QueryParams::parse(Some("messageTtlSeconds=301&top=x"));
    let err = query.int_in_range("messageTtlSeconds", 0, 300).unwrap_err();
    assert_eq!(
      err.to_string(),
      "messageTtlSeconds: The field messageTtlSeconds must be between 0 and 300."
    );
    let err = query.int_in_range("top", 1, i32::MAX as i64).unwrap_err();
    assert_eq!(err.to_string(), "top: The value 'x' is not valid.");
  }

  #[test]
  fn api_version_rules() {
    assert_eq!(
      ApiVersion::from_query(&QueryParams::parse(None)).unwrap(),
      ApiVersion::LATEST
    );
    let old = ApiVersion::from_query(&QueryParams::parse(Some("api-version=2021-10-01"))).unwrap();
    assert_eq!(old.as_str(), "2021-10-01");
    assert!(ApiVersion::from_query(&QueryParams::parse(Some("api-version=2020-01-01"))).is_err());
    assert!(ApiVersion::from_query(&QueryParams::parse(Some(
      "api-version=2024-12-01&api-version=2024-12-01"
    )))
    .is_err());
    let uri: Uri = "/api/hubs/h/connections/c/groups?api-version=2021-10-01"
      .parse()
      .unwrap();
    assert!(old.require("2022-11-01", &uri).is_err());
    assert!(ApiVersion::LATEST.require("2022-11-01", &uri).is_ok());
  }
}
