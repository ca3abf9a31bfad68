//! Group permissions of a connection: role strings (from the client token or the `connect` handler),
//! wildcard group patterns, and the runtime grants and revocations of the REST permission API.
//!
//! Roles, for each of the two actions:
//! - `webpubsub.joinLeaveGroup` / `webpubsub.sendToGroup`: every group;
//! - `webpubsub.joinLeaveGroup.<group>` / `webpubsub.sendToGroup.<group>`: that group;
//! - `webpubsub.joinLeaveGroups.<pattern>` / `webpubsub.sendToGroups.<pattern>`: the groups the
//!   [`GroupPattern`] matches.
//!
//! Other role strings are ignored, as the service ignores them. Names and patterns are
//! case-sensitive.

use std::collections::{HashMap, HashSet};

/// At most this many `*` in a pattern (the two of a `**` count as two).
pub const MAX_PATTERN_WILDCARDS: usize = 5;
/// The longest pattern, in characters.
pub const MAX_PATTERN_LENGTH: usize = 1024;
/// At most this many wildcard pattern roles per action.
pub const MAX_PATTERN_ROLES: usize = 10;
/// At most this many group-specific runtime rules (grants and revocations) per action.
pub const MAX_GROUP_GRANTS: usize = 1000;

/// What a connection wants to do with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupAction {
  /// Join or leave (`webpubsub.joinLeaveGroup…`, REST permission `joinLeaveGroup`).
  JoinLeave,
  /// Publish (`webpubsub.sendToGroup…`, REST permission `sendToGroup`).
  Send,
}

impl GroupAction {
  const ALL: [GroupAction; 2] = [GroupAction::JoinLeave, GroupAction::Send];

  /// The role granting the action on every group; `<role>.<group>` grants one group.
  fn role(self) -> &'static str {
    match self {
      GroupAction::JoinLeave => "webpubsub.joinLeaveGroup",
      GroupAction::Send => "webpubsub.sendToGroup",
    }
  }

  /// The prefix of pattern roles.
  fn pattern_role_prefix(self) -> &'static str {
    match self {
      GroupAction::JoinLeave => "webpubsub.joinLeaveGroups.",
      GroupAction::Send => "webpubsub.sendToGroups.",
    }
  }
}

/// Why a role list was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
  #[error("Invalid group name pattern in role '{role}': {reason}")]
  InvalidPattern { role: String, reason: PatternError },
  #[error(
    "Role '{role}' exceeds the limit of {MAX_PATTERN_ROLES} group name patterns per permission."
  )]
  TooManyPatterns { role: String },
}

/// Why a group name pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
  #[error("The pattern is empty.")]
  Empty,
  #[error("The pattern is longer than {MAX_PATTERN_LENGTH} characters.")]
  TooLong,
  #[error("The pattern ends with a single backslash.")]
  TrailingBackslash,
  #[error("Invalid escape character at position {position}: '{character}' can't be escaped.")]
  InvalidEscape { position: usize, character: char },
  #[error("Too many '*' in the pattern; at most {MAX_PATTERN_WILDCARDS} are allowed.")]
  TooManyWildcards,
}

/// A wildcard group name pattern: `?` matches one character except `.`, `*` zero or more
/// characters except `.`, `**` (or more `*` in a row) zero or more characters including `.`,
/// and `\` escapes `\`, `*` and `?`. Everything else matches itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPattern {
  tokens: Vec<PatternToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternToken {
  Char(char),
  /// `?`
  OneInSegment,
  /// `*`
  AnyInSegment,
  /// `**`
  Any,
}

impl GroupPattern {
  pub fn parse(pattern: &str) -> Result<GroupPattern, PatternError> {
    if pattern.is_empty() {
      return Err(PatternError::Empty);
    }
    if pattern.chars().count() > MAX_PATTERN_LENGTH {
      return Err(PatternError::TooLong);
    }
    let mut tokens = Vec::new();
    let mut wildcards = 0;
    let mut chars = pattern.chars().enumerate().peekable();
    while let Some((position, c)) = chars.next() {
      let token = match c {
        '\\' => match chars.next() {
          Some((_, escaped @ ('\\' | '*' | '?'))) => PatternToken::Char(escaped),
          Some((_, character)) => {
            return Err(PatternError::InvalidEscape {
              position,
              character,
            });
          }
          None => return Err(PatternError::TrailingBackslash),
        },
        '?' => PatternToken::OneInSegment,
        '*' => {
          let mut run = 1;
          while chars.next_if(|&(_, c)| c == '*').is_some() {
            run += 1;
          }
          wildcards += run;
          if run == 1 {
            PatternToken::AnyInSegment
          } else {
            PatternToken::Any
          }
        }
        c => PatternToken::Char(c),
      };
      tokens.push(token);
    }
    if wildcards > MAX_PATTERN_WILDCARDS {
      return Err(PatternError::TooManyWildcards);
    }
    Ok(GroupPattern { tokens })
  }

  pub fn matches(&self, group: &str) -> bool {
    // Simulates the pattern as an automaton whose states are positions in `tokens`: linear in
    // the group's length whatever the wildcards.
    let end = self.tokens.len();
    let mut current = vec![false; end + 1];
    let mut next = vec![false; end + 1];
    current[0] = true;
    self.follow_empty_matches(&mut current);
    for c in group.chars() {
      next.fill(false);
      for (state, token) in self.tokens.iter().enumerate() {
        if !current[state] {
          continue;
        }
        match *token {
          PatternToken::Char(expected) if expected == c => next[state + 1] = true,
          PatternToken::OneInSegment if c != '.' => next[state + 1] = true,
          PatternToken::AnyInSegment if c != '.' => next[state] = true,
          PatternToken::Any => next[state] = true,
          _ => {}
        }
      }
      self.follow_empty_matches(&mut next);
      std::mem::swap(&mut current, &mut next);
      if !current.contains(&true) {
        return false;
      }
    }
    current[end]
  }

  /// Stars also match nothing: a state before a star implies the state after it.
  fn follow_empty_matches(&self, states: &mut [bool]) {
    for (state, token) in self.tokens.iter().enumerate() {
      if states[state] && matches!(token, PatternToken::AnyInSegment | PatternToken::Any) {
        states[state + 1] = true;
      }
    }
  }

  /// The one group a pattern without wildcards stands for.
  fn literal(&self) -> Option<String> {
    self
      .tokens
      .iter()
      .map(|token| match token {
        PatternToken::Char(c) => Some(*c),
        _ => None,
      })
      .collect()
  }

  fn matches_everything(&self) -> bool {
    self.tokens == [PatternToken::Any]
  }
}

/// The group permissions granted by a connection's roles.
#[derive(Debug, Clone, Default)]
pub struct Roles {
  join_leave: ActionRoles,
  send: ActionRoles,
  /// The role strings as given, for inspection.
  names: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct ActionRoles {
  all_groups: bool,
  groups: HashSet<String>,
  patterns: Vec<GroupPattern>,
}

impl ActionRoles {
  fn add_pattern(&mut self, role: &str, pattern: &str) -> Result<(), RoleError> {
    let pattern = GroupPattern::parse(pattern).map_err(|reason| RoleError::InvalidPattern {
      role: role.to_owned(),
      reason,
    })?;
    if pattern.matches_everything() {
      self.all_groups = true;
    } else if let Some(group) = pattern.literal() {
      self.groups.insert(group);
    } else if !self.patterns.contains(&pattern) {
      if self.patterns.len() == MAX_PATTERN_ROLES {
        return Err(RoleError::TooManyPatterns {
          role: role.to_owned(),
        });
      }
      self.patterns.push(pattern);
    }
    Ok(())
  }

  fn allows(&self, group: &str) -> bool {
    self.all_groups
      || self.groups.contains(group)
      || self.patterns.iter().any(|pattern| pattern.matches(group))
  }
}

impl Roles {
  /// Reads role strings. Unknown roles are ignored; an invalid pattern, or more than
  /// [`MAX_PATTERN_ROLES`] distinct patterns for one action, is an error.
  pub fn parse(roles: &[String]) -> Result<Roles, RoleError> {
    let mut parsed = Roles {
      names: roles.to_vec(),
      ..Roles::default()
    };
    for role in roles {
      for action in GroupAction::ALL {
        let rules = parsed.for_action_mut(action);
        if role == action.role() {
          rules.all_groups = true;
        } else if let Some(pattern) = role.strip_prefix(action.pattern_role_prefix()) {
          rules.add_pattern(role, pattern)?;
        } else if let Some(group) = role
          .strip_prefix(action.role())
          .and_then(|rest| rest.strip_prefix('.'))
        {
          rules.groups.insert(group.to_owned());
        }
      }
    }
    Ok(parsed)
  }

  /// Whether the roles alone allow `action` on `group`.
  /// The role strings the roles were read from.
  pub fn names(&self) -> &[String] {
    &self.names
  }

  pub fn allows(&self, action: GroupAction, group: &str) -> bool {
    self.for_action(action).allows(group)
  }

  fn for_action(&self, action: GroupAction) -> &ActionRoles {
    match action {
      GroupAction::JoinLeave => &self.join_leave,
      GroupAction::Send => &self.send,
    }
  }

  fn for_action_mut(&mut self, action: GroupAction) -> &mut ActionRoles {
    match action {
      GroupAction::JoinLeave => &mut self.join_leave,
      GroupAction::Send => &mut self.send,
    }
  }
}

/// A grant or revocation for one group was refused: the connection already has
/// [`MAX_GROUP_GRANTS`] group-specific rules for that permission (the REST layer answers 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
  "The connection has reached the limit of {MAX_GROUP_GRANTS} group-specific permission rules."
)]
pub struct TooManyGrants;

/// Runtime permission changes made through the REST API, layered over the connection's [`Roles`].
#[derive(Debug, Clone, Default)]
pub struct PermissionGrants {
  join_leave: ActionGrants,
  send: ActionGrants,
}

#[derive(Debug, Clone, Default)]
struct ActionGrants {
  baseline: Baseline,
  /// Group-specific grants (`true`) and revocations (`false`); they win over the baseline.
  groups: HashMap<String, bool>,
}

/// What decides for groups without a group-specific rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Baseline {
  /// The roles.
  #[default]
  Roles,
  /// Granted for all groups.
  AllGroups,
  /// Revoked for all groups, whatever the roles say.
  NoGroups,
}

impl ActionGrants {
  fn set_all(&mut self, baseline: Baseline) {
    self.baseline = baseline;
    self.groups.clear();
  }

  fn set(&mut self, group: &str, allowed: bool) -> Result<(), TooManyGrants> {
    let implied = match self.baseline {
      Baseline::Roles => None,
      Baseline::AllGroups => Some(true),
      Baseline::NoGroups => Some(false),
    };
    if implied == Some(allowed) {
      self.groups.remove(group);
      return Ok(());
    }
    if let Some(rule) = self.groups.get_mut(group) {
      *rule = allowed;
      return Ok(());
    }
    if self.groups.len() >= MAX_GROUP_GRANTS {
      return Err(TooManyGrants);
    }
    self.groups.insert(group.to_owned(), allowed);
    Ok(())
  }
}

impl PermissionGrants {
  /// Grants `action` on `group`, or on every group when `group` is `None` (which also drops every
  /// group-specific revocation).
  pub fn grant(&mut self, action: GroupAction, group: Option<&str>) -> Result<(), TooManyGrants> {
    let grants = self.for_action_mut(action);
    match group {
      Some(group) => grants.set(group, true),
      None => {
        grants.set_all(Baseline::AllGroups);
        Ok(())
      }
    }
  }

  /// Revokes `action` on `group`, even where a role or pattern allows it. Without a group, revokes
  /// it on every group: roles, patterns and earlier grants no longer count for this action.
  pub fn revoke(&mut self, action: GroupAction, group: Option<&str>) -> Result<(), TooManyGrants> {
    let grants = self.for_action_mut(action);
    match group {
      Some(group) => grants.set(group, false),
      None => {
        grants.set_all(Baseline::NoGroups);
        Ok(())
      }
    }
  }

  fn for_action(&self, action: GroupAction) -> &ActionGrants {
    match action {
      GroupAction::JoinLeave => &self.join_leave,
      GroupAction::Send => &self.send,
    }
  }

  fn for_action_mut(&mut self, action: GroupAction) -> &mut ActionGrants {
    match action {
      GroupAction::JoinLeave => &mut self.join_leave,
      GroupAction::Send => &mut self.send,
    }
  }
}

/// Whether a connection may do `action` on `group`: a group-specific grant or revocation decides
/// first, then an all-groups grant or revocation, then the roles.
pub fn allows(roles: &Roles, grants: &PermissionGrants, action: GroupAction, group: &str) -> bool {
  let runtime = grants.for_action(action);
  if let Some(&allowed) = runtime.groups.get(group) {
    return allowed;
  }
  match runtime.baseline {
    Baseline::Roles => roles.allows(action, group),
    Baseline::AllGroups => true,
    Baseline::NoGroups => false,
  }
}

/// Whether a connection may do `action` on every group (the REST permission check without a
/// `targetName`).
pub fn allows_all_groups(roles: &Roles, grants: &PermissionGrants, action: GroupAction) -> bool {
  let runtime = grants.for_action(action);
  if runtime.groups.values().any(|&allowed| !allowed) {
    return false;
  }
  match runtime.baseline {
    Baseline::Roles => roles.for_action(action).all_groups,
    Baseline::AllGroups => true,
    Baseline::NoGroups => false,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn pattern(text: &str) -> GroupPattern {
    GroupPattern::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
  }

  fn roles(list: &[&str]) -> Roles {
    Roles::parse(&list.iter().map(|role| role.to_string()).collect::<Vec<_>>()).unwrap()
  }

  #[test]
  fn patterns_match_as_documented() {
    let cases: &[(&str, &[&str], &[&str])] = &[
      (
        "chat-*",
        &["chat-1", "chat-room", "chat-"],
        &["chat.1", "xchat-1", "chat-1.a", "Chat-1"],
      ),
      (
        "clientA.*",
        &["clientA.alpha", "clientA.1", "clientA."],
        &["clientA.alpha.room1", "clientB.alpha", "clientA"],
      ),
      (
        "clientA.**",
        &["clientA.alpha", "clientA.alpha.room1", "clientA."],
        &["clientB.anything", "clientA"],
      ),
      (
        "clientA.rooms.?1",
        &["clientA.rooms.a1", "clientA.rooms.11"],
        &["clientA.rooms.1", "clientA.rooms.a.1", "clientA.rooms..1"],
      ),
      (
        "literal\\*star",
        &["literal*star"],
        &["literalXstar", "literal\\*star"],
      ),
      (
        "project\\*123",
        &["project*123"],
        &["project123", "projectX123"],
      ),
      ("a\\?b\\\\c", &["a?b\\c"], &["aXb\\c", "a?bc"]),
      ("**", &["", "a", "a.b.c"], &[]),
      ("a***b", &["ab", "a.x.b"], &["a.x.c"]),
      ("*.*", &["a.b", ".", "x."], &["a.b.c", "ab"]),
      ("?", &["a", "é"], &["", ".", "ab"]),
      ("*-*-*", &["a-b-c", "--"], &["a-b", "a.b-c-d"]),
      ("grüße.*", &["grüße.x"], &["grusse.x"]),
    ];
    for (text, matching, not_matching) in cases {
      let pattern = pattern(text);
      for group in *matching {
        assert!(pattern.matches(group), "{text} should match {group}");
      }
      for group in *not_matching {
        assert!(!pattern.matches(group), "{text} should not match {group}");
      }
    }
  }

  #[test]
  fn invalid_patterns_are_rejected() {
    let cases: &[(&str, PatternError)] = &[
      ("", PatternError::Empty),
      ("abc\\", PatternError::TrailingBackslash),
      (
        "ab\\c",
        PatternError::InvalidEscape {
          position: 2,
          character: 'c',
        },
      ),
      ("******", PatternError::TooManyWildcards),
      ("a*b*c*d*e*f*", PatternError::TooManyWildcards),
      ("**.**.**", PatternError::TooManyWildcards),
    ];
    for (text, expected) in cases {
      assert_eq!(GroupPattern::parse(text).unwrap_err(), *expected, "{text}");
    }
    assert!(GroupPattern::parse("*****").is_ok());
    assert!(GroupPattern::parse("**.**.*\\*").is_ok());
    assert!(GroupPattern::parse("a\\*\\*\\*\\*\\*\\*").is_ok());
    assert!(GroupPattern::parse(&"x".repeat(MAX_PATTERN_LENGTH)).is_ok());
    assert_eq!(
      GroupPattern::parse(&"x".repeat(MAX_PATTERN_LENGTH + 1)),
      Err(PatternError::TooLong)
    );
    assert_eq!(
      PatternError::InvalidEscape {
        position: 2,
        character: 'c'
      }
      .to_string(),
      "Invalid escape character at position 2: 'c' can't be escaped."
    );
  }

  #[test]
  fn matching_a_long_group_is_fast() {
    let pattern = pattern("*a*a*a*a*b");
    let group = "a".repeat(1024);
    assert!(!pattern.matches(&group));
    assert!(pattern.matches(&format!("{group}b")));
  }

  #[test]
  fn roles_grant_groups_literally_by_pattern_or_all() {
    let parsed = roles(&[
      "webpubsub.joinLeaveGroup.lobby",
      "webpubsub.joinLeaveGroups.chat-*",
      "webpubsub.sendToGroups.clientA.**",
      "webpubsub.sendToGroup.news",
      "webpubsub.unknown",
      "webpubsub.joinLeaveGroupX.other",
    ]);
    assert!(parsed.allows(GroupAction::JoinLeave, "lobby"));
    assert!(parsed.allows(GroupAction::JoinLeave, "chat-1"));
    assert!(!parsed.allows(GroupAction::JoinLeave, "chat.1"));
    assert!(!parsed.allows(GroupAction::JoinLeave, "Lobby"));
    assert!(!parsed.allows(GroupAction::JoinLeave, "news"));
    assert!(!parsed.allows(GroupAction::JoinLeave, "other"));
    assert!(!parsed.allows(GroupAction::JoinLeave, "X.other"));
    assert!(parsed.allows(GroupAction::Send, "news"));
    assert!(parsed.allows(GroupAction::Send, "clientA.alpha.room1"));
    assert!(!parsed.allows(GroupAction::Send, "lobby"));
    assert!(!parsed.allows(GroupAction::Send, "chat-1"));

    let all = roles(&["webpubsub.sendToGroup"]);
    assert!(all.allows(GroupAction::Send, "anything.at.all"));
    assert!(!all.allows(GroupAction::JoinLeave, "anything"));
    assert!(roles(&["webpubsub.joinLeaveGroups.**"]).allows(GroupAction::JoinLeave, "a.b"));
    assert!(!roles(&[]).allows(GroupAction::JoinLeave, "a"));
    // A pattern role without wildcards names one group; escapes are resolved.
    let literal = roles(&["webpubsub.joinLeaveGroups.a\\*b"]);
    assert!(literal.allows(GroupAction::JoinLeave, "a*b"));
    assert!(!literal.allows(GroupAction::JoinLeave, "axb"));
  }

  #[test]
  fn invalid_or_too_many_pattern_roles_are_errors() {
    let error = Roles::parse(&["webpubsub.sendToGroups.bad\\".to_string()]).unwrap_err();
    assert_eq!(
      error,
      RoleError::InvalidPattern {
        role: "webpubsub.sendToGroups.bad\\".to_string(),
        reason: PatternError::TrailingBackslash
      }
    );
    assert!(Roles::parse(&["webpubsub.joinLeaveGroups.".to_string()]).is_err());

    let many = |count: usize| {
      (0..count)
        .map(|n| format!("webpubsub.sendToGroups.g{n}-*"))
        .collect::<Vec<_>>()
    };
    assert!(Roles::parse(&many(MAX_PATTERN_ROLES)).is_ok());
    assert_eq!(
      Roles::parse(&many(MAX_PATTERN_ROLES + 1)).unwrap_err(),
      RoleError::TooManyPatterns {
        role: format!("webpubsub.sendToGroups.g{MAX_PATTERN_ROLES}-*")
      }
    );
    let mut repeated = many(MAX_PATTERN_ROLES);
    repeated.extend(many(MAX_PATTERN_ROLES));
    repeated.push("webpubsub.sendToGroups.plain".to_string());
    assert!(
      Roles::parse(&repeated).is_ok(),
      "duplicates and literal patterns do not count"
    );
  }

  #[test]
  fn group_grants_and_revocations_override_roles() {
    let roles = roles(&["webpubsub.joinLeaveGroups.chat-*"]);
    let mut grants = PermissionGrants::default();
    let join =
      |grants: &PermissionGrants, group| allows(&roles, grants, GroupAction::JoinLeave, group);

    grants
      .revoke(GroupAction::JoinLeave, Some("chat-1"))
      .unwrap();
    assert!(
      !join(&grants, "chat-1"),
      "a revocation wins over a matching pattern"
    );
    assert!(join(&grants, "chat-2"));

    grants
      .grant(GroupAction::JoinLeave, Some("chat-1"))
      .unwrap();
    assert!(join(&grants, "chat-1"));
    grants.grant(GroupAction::JoinLeave, Some("lobby")).unwrap();
    assert!(join(&grants, "lobby"));
    assert!(
      !allows(&roles, &grants, GroupAction::Send, "lobby"),
      "grants are per action"
    );
    grants
      .revoke(GroupAction::JoinLeave, Some("lobby"))
      .unwrap();
    assert!(!join(&grants, "lobby"));
  }

  #[test]
  fn grants_without_a_group_cover_every_group() {
    let roles = roles(&[
      "webpubsub.sendToGroup.news",
      "webpubsub.sendToGroups.chat-*",
    ]);
    let mut grants = PermissionGrants::default();
    let send = |grants: &PermissionGrants, group| allows(&roles, grants, GroupAction::Send, group);
    assert!(!allows_all_groups(&roles, &grants, GroupAction::Send));

    grants.revoke(GroupAction::Send, Some("other")).unwrap();
    grants.grant(GroupAction::Send, None).unwrap();
    assert!(
      send(&grants, "other"),
      "an all-groups grant drops earlier revocations"
    );
    assert!(send(&grants, "anything"));
    assert!(allows_all_groups(&roles, &grants, GroupAction::Send));

    grants.revoke(GroupAction::Send, Some("x")).unwrap();
    assert!(!send(&grants, "x"));
    assert!(!allows_all_groups(&roles, &grants, GroupAction::Send));

    grants.grant(GroupAction::Send, Some("kept")).unwrap();
    grants.revoke(GroupAction::Send, None).unwrap();
    for group in ["news", "chat-1", "kept", "anything"] {
      assert!(
        !send(&grants, group),
        "revoking without a group denies {group}"
      );
    }
    grants.grant(GroupAction::Send, Some("news")).unwrap();
    assert!(send(&grants, "news"));
    assert!(!send(&grants, "chat-1"));

    let everything = super::Roles::parse(&["webpubsub.sendToGroup".to_string()]).unwrap();
    assert!(allows_all_groups(
      &everything,
      &PermissionGrants::default(),
      GroupAction::Send
    ));
    assert!(!allows_all_groups(
      &everything,
      &PermissionGrants::default(),
      GroupAction::JoinLeave
    ));
  }

  #[test]
  fn group_specific_rules_are_limited() {
    let mut grants = PermissionGrants::default();
    for n in 0..MAX_GROUP_GRANTS {
      let group = format!("g{n}");
      if n % 2 == 0 {
        grants.grant(GroupAction::JoinLeave, Some(&group)).unwrap();
      } else {
        grants.revoke(GroupAction::JoinLeave, Some(&group)).unwrap();
      }
    }
    assert_eq!(
      grants.grant(GroupAction::JoinLeave, Some("one-more")),
      Err(TooManyGrants)
    );
    assert_eq!(
      grants.revoke(GroupAction::JoinLeave, Some("one-more")),
      Err(TooManyGrants)
    );
    assert!(!allows(
      &Roles::default(),
      &grants,
      GroupAction::JoinLeave,
      "one-more"
    ));
    // Changing an existing rule, the other action, and all-groups changes still work.
    grants.revoke(GroupAction::JoinLeave, Some("g0")).unwrap();
    grants.grant(GroupAction::Send, Some("one-more")).unwrap();
    grants.grant(GroupAction::JoinLeave, None).unwrap();
    grants
      .grant(GroupAction::JoinLeave, Some("one-more"))
      .unwrap();
    grants
      .revoke(GroupAction::JoinLeave, Some("one-more"))
      .unwrap();
    assert!(!allows(
      &Roles::default(),
      &grants,
      GroupAction::JoinLeave,
      "one-more"
    ));
  }
}
