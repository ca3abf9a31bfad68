//! Filters against sample connections, and rejected filters with the exact service messages.

use super::{Filter, FilterErrorDetail, FilterSubject, MAX_FILTER_BYTES};

struct Conn {
  id: &'static str,
  user: Option<&'static str>,
  groups: &'static [&'static str],
  protocol: Option<&'static str>,
}

impl FilterSubject for Conn {
  fn connection_id(&self) -> &str {
    self.id
  }
  fn user_id(&self) -> Option<&str> {
    self.user
  }
  fn protocol(&self) -> Option<&str> {
    self.protocol
  }
  fn in_group(&self, group: &str) -> bool {
    self.groups.contains(&group)
  }
  fn group_count(&self) -> usize {
    self.groups.len()
  }
}

const ALICE: Conn = Conn {
  id: "conn-a",
  user: Some("alice"),
  groups: &["chat", "room.1"],
  protocol: Some("json.webpubsub.azure.v1"),
};
const ANONYMOUS: Conn = Conn {
  id: "conn-b",
  user: None,
  groups: &[],
  protocol: None,
};
const BOB: Conn = Conn {
  id: "conn-c",
  user: Some("Bob O'Neil"),
  groups: &["chat", "vip", "x"],
  protocol: Some("json.reliable.webpubsub.azure.v1"),
};

fn results(filter: &str) -> [bool; 3] {
  let filter =
    Filter::parse(filter).unwrap_or_else(|error| panic!("{filter:?} was rejected: {error}"));
  [ALICE, ANONYMOUS, BOB].map(|conn| filter.matches(&conn))
}

fn error(filter: &str) -> String {
  match Filter::parse(filter) {
    Ok(_) => panic!("{filter:?} was accepted"),
    Err(error) => error.to_string(),
  }
}

const T: bool = true;
const F: bool = false;

#[test]
fn valid_filters_select_the_expected_connections() {
  let cases: &[(&str, [bool; 3])] = &[
    ("userId eq 'alice'", [T, F, F]),
    ("userId ne 'alice'", [F, T, T]),
    ("userid eq 'alice'", [T, F, F]),
    ("USERID eq 'alice'", [T, F, F]),
    ("userId eq 'Alice'", [F, F, F]),
    ("userId eq null", [F, T, F]),
    ("userId ne null", [T, F, T]),
    ("null eq userId", [F, T, F]),
    ("protocol eq null", [F, T, F]),
    ("Protocol eq 'json.webpubsub.azure.v1'", [T, F, F]),
    ("connectionId eq 'conn-b'", [F, T, F]),
    ("ConnectionID ne 'conn-b'", [T, F, T]),
    ("'chat' in groups", [T, F, T]),
    ("'vip' in GROUPS", [F, F, T]),
    ("'CHAT' in groups", [F, F, F]),
    ("'room.1' in groups", [T, F, F]),
    ("'chat' in (groups)", [T, F, T]),
    ("userId in groups", [F, F, F]),
    ("5 in groups", [F, F, F]),
    ("not 'chat' in groups", [F, T, F]),
    ("not ('chat' in groups)", [F, T, F]),
    ("userId in ('alice', 'Bob O''Neil')", [T, F, T]),
    ("userId in ('alice', null)", [T, T, F]),
    ("userId in ()", [F, F, F]),
    ("5 in (1, 5)", [T, T, T]),
    ("true in (userId eq 'alice')", [T, F, F]),
    ("length(groups) gt 0", [T, F, T]),
    ("length(groups) eq 3", [F, F, T]),
    ("length(userId) gt 4", [T, F, T]),
    ("length(userId) le 5", [T, F, F]),
    ("length(userId) eq null", [F, T, F]),
    ("not (length(userId) gt 5)", [T, T, F]),
    ("length(null) eq null", [T, T, T]),
    ("tolower(userId) eq 'bob o''neil'", [F, F, T]),
    ("toupper(userId) eq 'ALICE'", [T, F, F]),
    ("tolower(userId) eq null", [F, T, F]),
    ("trim('  x  ') eq 'x'", [T, T, T]),
    ("substring(userId, 1) eq 'lice'", [T, F, F]),
    ("substring(userId, 1, 2) eq 'li'", [T, F, F]),
    ("substring(userId, 5) eq ''", [T, F, F]),
    ("substring(userId, 6) eq null", [T, T, F]),
    ("substring(userId, 0, 20) eq null", [T, T, T]),
    ("substring(userId, 0, 0) eq ''", [T, F, T]),
    ("substring(null, 1) eq null", [T, T, T]),
    ("concat(userId, '!') eq 'alice!'", [T, F, F]),
    ("concat(userId, null) eq 'alice'", [T, F, F]),
    ("concat(null, userId) eq null", [F, T, F]),
    ("concat(userId, protocol) eq null", [F, T, F]),
    (
      "concat(concat(connectionId, '/'), userId) eq 'conn-a/alice'",
      [T, F, F],
    ),
    ("startswith(userId, 'al')", [T, F, F]),
    ("endswith(userId, 'Neil')", [F, F, T]),
    ("contains(userId, 'O''N')", [F, F, T]),
    ("contains(protocol, 'reliable')", [F, F, T]),
    ("startswith(userId, null)", [F, F, F]),
    ("startswith(null, 5)", [F, F, F]),
    ("not startswith(userId, 'al')", [F, T, T]),
    ("indexof(userId, 'ice') eq 2", [T, F, F]),
    ("indexof(userId, 'zzz') eq -1", [T, T, T]),
    ("indexof(userId, null) eq -1", [T, T, T]),
    ("indexof(userId, '') eq 0", [T, F, T]),
    ("null gt 5", [F, F, F]),
    ("null lt 'a'", [F, F, F]),
    ("true", [T, T, T]),
    ("false", [F, F, F]),
    ("(true)", [T, T, T]),
    ("-5 lt 3", [T, T, T]),
    ("+5 eq 5", [T, T, T]),
    ("2147483647 gt -2147483648", [T, T, T]),
    ("groups eq groups", [T, T, T]),
    ("groups eq 'chat'", [F, F, F]),
    ("userId eq 5", [F, F, F]),
    ("1 eq 1 eq true", [T, T, T]),
    ("userId eq 'alice' or userId eq null", [T, T, F]),
    (
      "userId eq 'alice' and 'chat' in groups or connectionId eq 'conn-b'",
      [T, T, F],
    ),
    ("  userId   eq\t'alice'  ", [T, F, F]),
    ("(userId eq 'alice')or(userId eq null)", [T, T, F]),
  ];
  for (filter, expected) in cases {
    assert_eq!(results(filter), *expected, "{filter}");
  }
}

#[test]
fn not_binds_tighter_than_comparisons_and_and_tighter_than_or() {
  assert_eq!(results("true or false and false"), [T, T, T]);
  assert_eq!(results("false and false or true"), [T, T, T]);
  assert_eq!(results("not false and false"), [F, F, F]);
  assert_eq!(results("not (false and false)"), [T, T, T]);
  assert_eq!(results("not false eq false"), [F, F, F]);
  assert_eq!(
    error("not length(userId) gt 5"),
    "Invalid syntax for 'not length(userId)': Type 'null', expect 'bool'."
  );
}

#[test]
fn rejected_filters_carry_the_service_messages() {
  let cases: &[(&str, &str)] = &[
    ("invalid filter", "Invalid syntax for 'invalid filter': Syntax error at position 14 in 'invalid filter'."),
    ("userId", "Invalid syntax for 'userId': Type 'string', expect 'bool'."),
    ("length(groups)", "Invalid syntax for 'length(groups)': Type 'int', expect 'bool'."),
    ("not userId", "Invalid syntax for 'not userId': Type 'string', expect 'bool'."),
    ("not null", "Invalid syntax for 'not null': Type 'null', expect 'bool'."),
    ("userId eq 'a' and 5", "Invalid syntax for '(userId eq 'a') and 5': Type 'int', expect 'bool'."),
    ("true and true and 'x'", "Invalid syntax for '(true and true) and 'x'': Type 'string', expect 'bool'."),
    ("true or 1 or true", "Invalid syntax for 'true or 1': Type 'int', expect 'bool'."),
    ("tolower(userId) or true", "Invalid syntax for 'tolower(userId) or true': Type 'null', expect 'bool'."),
    ("foo eq 1", "Invalid syntax for 'foo eq 1': Token 'foo' is not supported."),
    ("foo", "Invalid syntax for 'foo': Token 'foo' is not supported."),
    ("not foo", "Invalid syntax for 'not foo': Token 'foo' is not supported."),
    ("userId eq 'a' or (bar)", "Invalid syntax for '(userId eq 'a') or bar': Token 'bar' is not supported."),
    ("userId in ('a', foo)", "Invalid syntax for 'userId in ('a', foo)': Token 'foo' is not supported."),
    ("foo(userId) eq 1", "Invalid syntax for 'foo(userId)': Token 'foo(userId)' is not supported."),
    ("ToLower(userId) eq 'a'", "Invalid syntax for 'ToLower(userId)': Token 'ToLower(userId)' is not supported."),
    ("groups/any(g: g eq 'a')", "Invalid syntax for 'groups/any(g: g eq 'a')': Syntax error: character '/' is not valid at position 6 in 'groups/any(g: g eq 'a')'."),
    ("any(userId)", "Invalid syntax for 'any(userId)': Token 'any(userId)' is not supported."),
    ("length(userId, 1) eq 1", "Invalid syntax for 'length(userId,1)': Invalid token 'length(userId,1)'."),
    ("substring(userId) eq 'a'", "Invalid syntax for 'substring(userId)': Invalid token 'substring(userId)'."),
    ("concat('a') eq 'a'", "Invalid syntax for 'concat('a')': Invalid token 'concat('a')'."),
    ("length(5) eq 1", "Invalid syntax for 'length(5)': Invalid token 'length(5)'."),
    ("userId gt 5", "Invalid syntax for 'userId gt 5': Type 'string', expect 'int'."),
    ("length(userId) gt 'a'", "Invalid syntax for 'length(userId) gt 'a'': Type 'string', expect 'int'."),
    ("tolower(userId) gt 1", "Invalid syntax for 'tolower(userId) gt 1': Type 'string', expect 'int'."),
    ("groups lt 1", "Invalid syntax for 'groups lt 1': Type 'collection', expect 'int'."),
    ("tolower(5) eq 'a'", "Invalid syntax for 'tolower(5)': Type 'int', expect 'string'."),
    ("startswith(userId, 5)", "Invalid syntax for 'startswith(userId,5)': Type 'int', expect 'string'."),
    ("contains(groups, 'a')", "Invalid syntax for 'contains(groups,'a')': Type 'collection', expect 'string'."),
    ("concat(userId, true) eq 'a'", "Invalid syntax for 'concat(userId,true)': Type 'bool', expect 'string'."),
    ("substring('abc', null) eq 'a'", "Invalid syntax for 'substring('abc',null)': Type 'null', expect 'int'."),
    ("substring('abc', length(userId)) eq 'a'", "Invalid syntax for 'substring('abc',length(userId))': Type 'null', expect 'int'."),
    ("substring('abc', '1') eq 'a'", "Invalid syntax for 'substring('abc','1')': Type 'string', expect 'int'."),
    ("substring(5, 1) eq 'a'", "Invalid syntax for 'substring(5,1)': Type 'int', expect 'string'."),
    ("'a' in userId", "Invalid syntax for ''a' in userId': Type 'string', expect 'collection'."),
    ("3000000000 gt 1", "Invalid syntax for '3000000000 gt 1': Token '3000000000' is not supported."),
    ("userId eq", "Invalid syntax for 'userId eq': Expression expected at position 9 in 'userId eq'."),
    ("and", "Invalid syntax for 'and': Token 'and' is not supported."),
    ("userId eq 'a' and", "Invalid syntax for 'userId eq 'a' and': Expression expected at position 17 in 'userId eq 'a' and'."),
    ("(userId eq 'a'", "Invalid syntax for '(userId eq 'a'': ')' or operator expected at position 14 in '(userId eq 'a''."),
    ("tolower(userId", "Invalid syntax for 'tolower(userId': ')' or ',' expected at position 14 in 'tolower(userId'."),
    ("userId in ('a' 'b')", "Invalid syntax for 'userId in ('a' 'b')': ')' or ',' expected at position 15 in 'userId in ('a' 'b')'."),
    ("userId eq 'abc", "Invalid syntax for 'userId eq 'abc': There is an unterminated string literal at position 14 in 'userId eq 'abc'."),
    ("userId eq $x", "Invalid syntax for 'userId eq $x': Syntax error: character '$' is not valid at position 10 in 'userId eq $x'."),
    ("userId EQ 'a'", "Invalid syntax for 'userId EQ 'a'': Syntax error at position 9 in 'userId EQ 'a''."),
    ("userId eq 'a')", "Invalid syntax for 'userId eq 'a')': Syntax error at position 14 in 'userId eq 'a')'."),
    ("1.5 eq 1", "Invalid syntax for '1.5 eq 1': Syntax error: character '.' is not valid at position 1 in '1.5 eq 1'."),
    ("-userId eq 1", "Invalid syntax for '-userId eq 1': Syntax error: character '-' is not valid at position 0 in '-userId eq 1'."),
    ("   ", "Invalid syntax for '   ': Expression expected at position 3 in '   '."),
    ("userId eq '😀' $", "Invalid syntax for 'userId eq '😀' $': Syntax error: character '$' is not valid at position 15 in 'userId eq '😀' $'."),
  ];
  for (filter, message) in cases {
    assert_eq!(error(filter), *message, "{filter}");
  }
}

#[test]
fn quotes_are_doubled_in_literals_and_in_messages() {
  assert_eq!(results("userId eq 'Bob O''Neil'"), [F, F, T]);
  assert_eq!(results("'''' eq concat('''', '')"), [T, T, T]);
  assert_eq!(results("length('''') eq 1"), [T, T, T]);
  assert_eq!(
    error("'it''s' gt 1"),
    "Invalid syntax for ''it''s' gt 1': Type 'string', expect 'int'."
  );
}

#[test]
fn the_empty_filter_selects_every_connection() {
  assert_eq!(results(""), [T, T, T]);
}

#[test]
fn string_functions_count_utf16_code_units() {
  const ZOE: Conn = Conn {
    id: "c",
    user: Some("zoë😀!"),
    groups: &["grüße"],
    protocol: None,
  };
  let matches = |text: &str| Filter::parse(text).unwrap().matches(&ZOE);
  assert!(matches("userId eq 'zoë😀!'"));
  assert!(matches("length(userId) eq 6"));
  assert!(matches("indexof(userId, '😀') eq 3"));
  assert!(matches("indexof(userId, '!') eq 5"));
  assert!(matches("substring(userId, 3, 2) eq '😀'"));
  assert!(matches("substring(userId, 5) eq '!'"));
  assert!(matches("toupper(userId) eq 'ZOË😀!'"));
  assert!(matches("'grüße' in groups"));
  assert!(matches("startswith(userId, 'zoë')"));
  assert!(!matches("userId eq 'zoe😀!'"));
}

#[test]
fn nesting_is_limited_without_exhausting_the_stack() {
  let nested = |depth: usize| format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
  assert_eq!(results(&nested(99)), [T, T, T]);
  let too_deep = nested(100);
  assert_eq!(
    error(&too_deep),
    format!("Invalid syntax for '{too_deep}': Recursion depth exceeded allowed limit.")
  );
  assert!(matches!(
    Filter::parse(&"(".repeat(30_000)).unwrap_err().detail(),
    FilterErrorDetail::TooDeep
  ));

  assert_eq!(results(&format!("{}true", "not ".repeat(99))), [F, F, F]);
  assert_eq!(results(&format!("{}true", "not ".repeat(98))), [T, T, T]);
  let nots = format!("{}true", "not ".repeat(10_000));
  assert_eq!(
    Filter::parse(&nots).unwrap_err().detail(),
    &FilterErrorDetail::TooDeep
  );

  let chain = |length: usize| format!("true{}", " eq true".repeat(length));
  assert_eq!(results(&chain(99)), [T, T, T]);
  assert_eq!(
    Filter::parse(&chain(100)).unwrap_err().detail(),
    &FilterErrorDetail::TooDeep
  );
  let calls = format!("{}userId{} eq 'alice'", "trim(".repeat(99), ")".repeat(99));
  assert_eq!(results(&calls), [T, F, F]);
  let calls = format!(
    "{}userId{} eq 'alice'",
    "trim(".repeat(5_000),
    ")".repeat(5_000)
  );
  assert_eq!(
    Filter::parse(&calls).unwrap_err().detail(),
    &FilterErrorDetail::TooDeep
  );
}

#[test]
fn long_or_chains_are_flat() {
  let clauses: Vec<String> = (0..2_000).map(|n| format!("userId eq 'u{n}'")).collect();
  let filter = Filter::parse(&clauses.join(" or ")).unwrap();
  let last = Conn {
    id: "c",
    user: Some("u1999"),
    groups: &[],
    protocol: None,
  };
  assert!(filter.matches(&last));
  assert!(!filter.matches(&ALICE));
}

#[test]
fn oversized_filters_are_rejected() {
  let huge = format!("userId eq '{}'", "x".repeat(MAX_FILTER_BYTES));
  let error = Filter::parse(&huge).unwrap_err();
  assert_eq!(error.detail(), &FilterErrorDetail::TooLong(huge.len()));
  assert!(error
    .to_string()
    .ends_with(&format!("; the limit is {MAX_FILTER_BYTES} bytes.")));
}
