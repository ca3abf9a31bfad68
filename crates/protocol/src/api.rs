//! Data-plane REST API versions.

/// The version `@azure/web-pubsub` 1.2.0 sends as the first query parameter of every call.
pub const API_VERSION: &str = "2024-12-01";

/// Every generally available data-plane version, oldest first.
pub const SUPPORTED_API_VERSIONS: &[&str] = &[
  "2021-10-01",
  "2022-11-01",
  "2023-07-01",
  "2024-01-01",
  "2024-12-01",
];

/// Whether `version` is one of [`SUPPORTED_API_VERSIONS`] (exact, case-sensitive match).
pub fn is_supported(version: &str) -> bool {
  SUPPORTED_API_VERSIONS.contains(&version)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn latest_is_supported_and_last() {
    assert!(is_supported(API_VERSION));
    assert_eq!(SUPPORTED_API_VERSIONS.last(), Some(&API_VERSION));
    assert!(!is_supported("2021-08-01-preview"));
  }
}
