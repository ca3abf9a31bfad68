//! The type-checked filter and its evaluation against one connection.
//!
//! The tree is split by result type (bool, int, string, any), so a checked filter cannot meet a
//! type error while it runs. Ints and strings may be null at run time (`length(userId)` of an
//! anonymous connection, `substring` out of range); evaluation returns `None` for those and the
//! null rules of the service apply: ordering comparisons with null are false, string predicates with
//! a null argument are false, `indexof` is -1, `concat` returns the other operand.
//!
//! Lengths and positions count UTF-16 code units, as the service (.NET) and JavaScript do.

use std::borrow::Cow;

use super::FilterSubject;

#[derive(Debug, Clone)]
pub(super) enum BoolExpr {
  Const(bool),
  Not(Box<BoolExpr>),
  And(Vec<BoolExpr>),
  Or(Vec<BoolExpr>),
  Equal {
    left: AnyExpr,
    right: AnyExpr,
    negate: bool,
  },
  Order {
    op: OrderOp,
    left: IntExpr,
    right: IntExpr,
  },
  /// `item in (v1, v2, …)`
  InList {
    item: AnyExpr,
    list: Vec<AnyExpr>,
  },
  /// `item in groups`
  InGroups(StrExpr),
  Text {
    test: TextTest,
    value: StrExpr,
    pattern: StrExpr,
  },
}

#[derive(Debug, Clone, Copy)]
pub(super) enum OrderOp {
  Gt,
  Ge,
  Lt,
  Le,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum TextTest {
  StartsWith,
  EndsWith,
  Contains,
}

#[derive(Debug, Clone)]
pub(super) enum IntExpr {
  Const(i64),
  Length(Box<StrExpr>),
  GroupCount,
  IndexOf(Box<StrExpr>, Box<StrExpr>),
}

#[derive(Debug, Clone)]
pub(super) enum StrExpr {
  Const(String),
  Field(Field),
  Map(StrMap, Box<StrExpr>),
  Substring {
    value: Box<StrExpr>,
    start: IntExpr,
    length: Option<IntExpr>,
  },
  Concat(Box<StrExpr>, Box<StrExpr>),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Field {
  ConnectionId,
  UserId,
  Protocol,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum StrMap {
  ToLower,
  ToUpper,
  Trim,
}

/// An operand of `eq`, `ne` and `in` lists, which accept every type.
#[derive(Debug, Clone)]
pub(super) enum AnyExpr {
  Null,
  Bool(Box<BoolExpr>),
  Int(IntExpr),
  Str(StrExpr),
  Groups,
}

/// A run-time value, for equality.
#[derive(Debug, PartialEq)]
enum Value<'a> {
  Null,
  Bool(bool),
  Int(i64),
  Str(Cow<'a, str>),
  /// The connection's groups; a filter has only this one collection, so two are always equal.
  Groups,
}

impl BoolExpr {
  pub fn eval(&self, subject: &dyn FilterSubject) -> bool {
    match self {
      BoolExpr::Const(value) => *value,
      BoolExpr::Not(operand) => !operand.eval(subject),
      BoolExpr::And(items) => items.iter().all(|item| item.eval(subject)),
      BoolExpr::Or(items) => items.iter().any(|item| item.eval(subject)),
      BoolExpr::Equal {
        left,
        right,
        negate,
      } => (left.eval(subject) == right.eval(subject)) != *negate,
      BoolExpr::Order { op, left, right } => match (left.eval(subject), right.eval(subject)) {
        (Some(left), Some(right)) => match op {
          OrderOp::Gt => left > right,
          OrderOp::Ge => left >= right,
          OrderOp::Lt => left < right,
          OrderOp::Le => left <= right,
        },
        _ => false,
      },
      BoolExpr::InList { item, list } => {
        let item = item.eval(subject);
        list.iter().any(|candidate| candidate.eval(subject) == item)
      }
      BoolExpr::InGroups(item) => item
        .eval(subject)
        .is_some_and(|group| subject.in_group(&group)),
      BoolExpr::Text {
        test,
        value,
        pattern,
      } => match (value.eval(subject), pattern.eval(subject)) {
        (Some(value), Some(pattern)) => match test {
          TextTest::StartsWith => value.starts_with(&*pattern),
          TextTest::EndsWith => value.ends_with(&*pattern),
          TextTest::Contains => value.contains(&*pattern),
        },
        _ => false,
      },
    }
  }
}

impl IntExpr {
  fn eval(&self, subject: &dyn FilterSubject) -> Option<i64> {
    match self {
      IntExpr::Const(value) => Some(*value),
      IntExpr::Length(text) => text.eval(subject).map(|text| utf16_len(&text) as i64),
      IntExpr::GroupCount => Some(subject.group_count() as i64),
      IntExpr::IndexOf(text, pattern) => Some(match (text.eval(subject), pattern.eval(subject)) {
        (Some(text), Some(pattern)) => text
          .find(&*pattern)
          .map_or(-1, |offset| utf16_len(&text[..offset]) as i64),
        _ => -1,
      }),
    }
  }
}

impl StrExpr {
  fn eval<'a>(&'a self, subject: &'a dyn FilterSubject) -> Option<Cow<'a, str>> {
    match self {
      StrExpr::Const(value) => Some(Cow::Borrowed(value)),
      StrExpr::Field(Field::ConnectionId) => Some(Cow::Borrowed(subject.connection_id())),
      StrExpr::Field(Field::UserId) => subject.user_id().map(Cow::Borrowed),
      StrExpr::Field(Field::Protocol) => subject.protocol().map(Cow::Borrowed),
      StrExpr::Map(map, operand) => {
        let text = operand.eval(subject)?;
        Some(match map {
          StrMap::ToLower => Cow::Owned(text.to_lowercase()),
          StrMap::ToUpper => Cow::Owned(text.to_uppercase()),
          StrMap::Trim => match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
            Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
          },
        })
      }
      StrExpr::Substring {
        value,
        start,
        length,
      } => {
        let text = value.eval(subject)?;
        let start = start.eval(subject)?;
        let length = match length {
          Some(length) => Some(length.eval(subject)?),
          None => None,
        };
        substring(&text, start, length).map(Cow::Owned)
      }
      StrExpr::Concat(left, right) => match (left.eval(subject), right.eval(subject)) {
        (Some(left), Some(right)) => Some(Cow::Owned(left.into_owned() + &right)),
        (left, right) => left.or(right),
      },
    }
  }
}

impl AnyExpr {
  fn eval<'a>(&'a self, subject: &'a dyn FilterSubject) -> Value<'a> {
    match self {
      AnyExpr::Null => Value::Null,
      AnyExpr::Bool(expr) => Value::Bool(expr.eval(subject)),
      AnyExpr::Int(expr) => expr.eval(subject).map_or(Value::Null, Value::Int),
      AnyExpr::Str(expr) => expr.eval(subject).map_or(Value::Null, Value::Str),
      AnyExpr::Groups => Value::Groups,
    }
  }
}

fn utf16_len(text: &str) -> usize {
  if text.is_ascii() {
    text.len()
  } else {
    text.encode_utf16().count()
  }
}

/// `substring` in UTF-16 units; `None` (null) when the range does not fit the text.
fn substring(text: &str, start: i64, length: Option<i64>) -> Option<String> {
  let total = utf16_len(text) as i64;
  if start < 0 || start > total {
    return None;
  }
  let length = length.unwrap_or(total - start);
  if length < 0 || length > total - start {
    return None;
  }
  let (start, end) = (start as usize, (start + length) as usize);
  if text.is_ascii() {
    return Some(text[start..end].to_owned());
  }
  let units: Vec<u16> = text.encode_utf16().collect();
  Some(String::from_utf16_lossy(&units[start..end]))
}
