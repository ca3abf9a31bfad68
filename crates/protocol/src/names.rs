//! Hub, group, user and connection names as the service accepts them in REST paths.
//!
//! `@azure/web-pubsub` 1.2.0 does NOT check any of these before sending: run against a
//! recording server it sends hub `1bad`, group `""` (`…/groups//:send`), group `"  "`, a
//! 1,025-character group, user `""` and connection `""` as they are (its generated parameter
//! specs list the constraints but the serializer never applies them). So the JS layer must not
//! throw for them; the service answers 400/404. These checks are for the emulator, and the
//! Display texts are the service's messages (ASP.NET model validation for hub, user and
//! connection; the service's own message for groups).

/// Most UTF-16 code units in a group name (lengths are counted as .NET and JS count them).
pub const MAX_GROUP_LEN: usize = 1024;

/// Most characters in a hub name.
pub const MAX_HUB_LEN: usize = 128;

/// A name the service refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
  /// The hub does not match `` ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$ ``.
  #[error(
    "The field hub must match the regular expression '^[A-Za-z][A-Za-z0-9_`,.[\\]]{{0,127}}$'."
  )]
  InvalidHub,
  /// The group is empty, longer than 1,024 UTF-16 code units, or only whitespace.
  #[error("Invalid group name. Valid group name should be in between 1 and 1024 characters long.")]
  InvalidGroup,
  /// The user ID is empty.
  #[error("The field userId must be a string or array type with a minimum length of '1'.")]
  EmptyUserId,
  /// The connection ID is empty.
  #[error("The field connectionId must be a string or array type with a minimum length of '1'.")]
  EmptyConnectionId,
}

/// `` ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$ ``.
pub fn validate_hub(hub: &str) -> Result<(), NameError> {
  let bytes = hub.as_bytes();
  let valid = matches!(bytes.first(), Some(b) if b.is_ascii_alphabetic())
    && bytes.len() <= MAX_HUB_LEN
    && bytes
      .iter()
      .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'`' | b',' | b'.' | b'[' | b']'));
  if valid {
    Ok(())
  } else {
    Err(NameError::InvalidHub)
  }
}

/// 1 to 1,024 UTF-16 code units and not whitespace only (Unicode `White_Space`, the set .NET's
/// `char.IsWhiteSpace` uses).
pub fn validate_group(group: &str) -> Result<(), NameError> {
  let len = group.encode_utf16().count();
  if (1..=MAX_GROUP_LEN).contains(&len) && !group.chars().all(char::is_whitespace) {
    Ok(())
  } else {
    Err(NameError::InvalidGroup)
  }
}

/// Any non-empty string.
pub fn validate_user_id(user_id: &str) -> Result<(), NameError> {
  if user_id.is_empty() {
    Err(NameError::EmptyUserId)
  } else {
    Ok(())
  }
}

/// Any non-empty string.
pub fn validate_connection_id(connection_id: &str) -> Result<(), NameError> {
  if connection_id.is_empty() {
    Err(NameError::EmptyConnectionId)
  } else {
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn hub_rule() {
    for ok in ["a", "Hub_1", "h[u]b`,.x", &format!("a{}", "b".repeat(127))] {
      assert_eq!(validate_hub(ok), Ok(()), "{ok}");
    }
    for bad in ["", "1bad", "_x", "a-b", "a b", "ü", "a/b", &"a".repeat(129)] {
      assert_eq!(validate_hub(bad), Err(NameError::InvalidHub), "{bad}");
    }
    assert_eq!(
      NameError::InvalidHub.to_string(),
      "The field hub must match the regular expression '^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$'."
    );
  }

  #[test]
  fn group_rule_counts_utf16_units_and_refuses_whitespace_only() {
    assert_eq!(validate_group("g"), Ok(()));
    assert_eq!(validate_group(" g "), Ok(()));
    assert_eq!(validate_group(&"a".repeat(1024)), Ok(()));
    assert_eq!(validate_group(&"😀".repeat(512)), Ok(()));
    for bad in [
      String::new(),
      "  ".into(),
      "\t\n".into(),
      "\u{a0}\u{3000}".into(),
      "a".repeat(1025),
      "😀".repeat(513),
    ] {
      assert_eq!(
        validate_group(&bad),
        Err(NameError::InvalidGroup),
        "{bad:?}"
      );
    }
    assert_eq!(
      NameError::InvalidGroup.to_string(),
      "Invalid group name. Valid group name should be in between 1 and 1024 characters long."
    );
  }

  #[test]
  fn user_and_connection_must_be_non_empty() {
    assert_eq!(validate_user_id(" "), Ok(()));
    assert_eq!(validate_user_id(""), Err(NameError::EmptyUserId));
    assert_eq!(validate_connection_id("c"), Ok(()));
    assert_eq!(
      validate_connection_id(""),
      Err(NameError::EmptyConnectionId)
    );
  }
}
