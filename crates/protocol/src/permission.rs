//! Permissions granted to connections (`/permissions/{permission}/connections/{id}`).

use std::str::FromStr;

/// A permission of the permission operations; the path carries [`Permission::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
  /// `sendToGroup`
  SendToGroup,
  /// `joinLeaveGroup`
  JoinLeaveGroup,
}

impl Permission {
  /// The wire name.
  pub fn as_str(self) -> &'static str {
    match self {
      Self::SendToGroup => "sendToGroup",
      Self::JoinLeaveGroup => "joinLeaveGroup",
    }
  }
}

/// A permission name other than `sendToGroup` / `joinLeaveGroup` (exact, case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission '{0}'")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
  type Err = UnknownPermission;

  fn from_str(s: &str) -> Result<Self, Self::Err> {
    match s {
      "sendToGroup" => Ok(Self::SendToGroup),
      "joinLeaveGroup" => Ok(Self::JoinLeaveGroup),
      other => Err(UnknownPermission(other.to_owned())),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trip() {
    for p in [Permission::SendToGroup, Permission::JoinLeaveGroup] {
      assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
    }
    assert_eq!(
      "SendToGroup".parse::<Permission>(),
      Err(UnknownPermission("SendToGroup".into()))
    );
  }
}
