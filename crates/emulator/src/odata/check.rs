//! Static type checking: turns the parsed filter into the typed tree of [`super::eval`], or rejects
//! it before any connection is looked at.
//!
//! The checks and their messages follow the service's evaluator, which type-checks by evaluating the
//! filter once against an anonymous connection in no group. Where that trial run would miss an
//! error that a real connection could hit (for example `startswith(userId, 5)`, which passes for a
//! null user), this checker rejects the filter as well, so a checked filter never fails mid fan-out.
//!
//! An error names the innermost enclosing binary operator, `in` or function call (the whole filter
//! when there is none), as the service does; a non-bool operand of `not` names the `not`.

use super::error::{FilterError, FilterErrorDetail, ValueType};
use super::eval::{AnyExpr, BoolExpr, Field, IntExpr, OrderOp, StrExpr, StrMap, TextTest};
use super::syntax::{Chain, CompareOp, Expr, InSet, Literal, Logic};

/// Checks a parsed filter; the result must be a bool.
pub(super) fn check(text: &str, expr: &Expr) -> Result<BoolExpr, FilterError> {
  let checker = Checker { text };
  let typed = checker.check(expr, Context::Whole)?;
  checker.boolean(typed, Context::Node(expr))
}

/// Whether a value that the expression may produce is null, and how the service would name its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nulls {
  Never,
  /// A null `userId`/`protocol`: the service still types it `string`.
  AsString,
  /// A function of a null (`length(userId)`): the service types it `null`.
  AsNull,
}

impl Nulls {
  /// For `concat`, which is null only when both operands are.
  fn either(self, other: Nulls) -> Nulls {
    if self == Nulls::Never || other == Nulls::Never {
      Nulls::Never
    } else {
      Nulls::AsNull
    }
  }

  /// A function of a value with these nulls returns null for null.
  fn propagated(self) -> Nulls {
    match self {
      Nulls::Never => Nulls::Never,
      Nulls::AsString | Nulls::AsNull => Nulls::AsNull,
    }
  }
}

enum Typed {
  /// Always null (the `null` literal, or a function of it).
  Null,
  Bool(BoolExpr),
  Int(IntExpr, Nulls),
  Str(StrExpr, Nulls),
  Groups,
}

impl Typed {
  /// The type named in messages. Where null is not accepted, a value that may be a function's null
  /// is named `null`, as the service's trial run with an anonymous connection would see it.
  fn name(&self, null_accepted: bool) -> ValueType {
    match self {
      Typed::Null => ValueType::Null,
      Typed::Int(_, Nulls::AsNull) | Typed::Str(_, Nulls::AsNull) if !null_accepted => {
        ValueType::Null
      }
      Typed::Bool(_) => ValueType::Bool,
      Typed::Int(..) => ValueType::Int,
      Typed::Str(..) => ValueType::String,
      Typed::Groups => ValueType::Collection,
    }
  }

  fn into_any(self) -> AnyExpr {
    match self {
      Typed::Null => AnyExpr::Null,
      Typed::Bool(expr) => AnyExpr::Bool(Box::new(expr)),
      Typed::Int(expr, _) => AnyExpr::Int(expr),
      Typed::Str(expr, _) => AnyExpr::Str(expr),
      Typed::Groups => AnyExpr::Groups,
    }
  }
}

/// The piece of the filter an error names.
#[derive(Clone, Copy)]
enum Context<'e> {
  Whole,
  Node(&'e Expr),
  Chain(Logic, &'e [Expr]),
}

struct Checker<'t> {
  text: &'t str,
}

impl Checker<'_> {
  fn error(&self, context: Context<'_>, detail: FilterErrorDetail) -> FilterError {
    let expression = match context {
      Context::Whole => self.text.to_owned(),
      Context::Node(expr) => expr.to_string(),
      Context::Chain(op, items) => Chain(op, items).to_string(),
    };
    FilterError::new(expression, detail)
  }

  fn mismatch(&self, context: Context<'_>, actual: ValueType, expected: ValueType) -> FilterError {
    self.error(
      context,
      FilterErrorDetail::TypeMismatch { actual, expected },
    )
  }

  /// `context` is where errors of this node itself are reported unless it names itself.
  fn check(&self, expr: &Expr, context: Context<'_>) -> Result<Typed, FilterError> {
    let here = Context::Node(expr);
    match expr {
      Expr::Identifier(name) => self.identifier(name, context),
      Expr::Literal(literal) => self.literal(literal, context),
      Expr::Not(operand) => {
        let operand = self.check(operand, context)?;
        Ok(Typed::Bool(BoolExpr::Not(Box::new(
          self.boolean(operand, here)?,
        ))))
      }
      Expr::And(items) => Ok(Typed::Bool(BoolExpr::And(self.logic(Logic::And, items)?))),
      Expr::Or(items) => Ok(Typed::Bool(BoolExpr::Or(self.logic(Logic::Or, items)?))),
      Expr::Compare { op, left, right } => {
        let left = self.check(left, here)?;
        let right = self.check(right, here)?;
        self.compare(*op, left, right, here)
      }
      Expr::In { item, set } => {
        let item = self.check(item, here)?;
        self.membership(item, set, here)
      }
      Expr::Call { name, args } => self.call(expr, name, args),
    }
  }

  fn identifier(&self, name: &str, context: Context<'_>) -> Result<Typed, FilterError> {
    Ok(match name.to_ascii_lowercase().as_str() {
      "userid" => Typed::Str(StrExpr::Field(Field::UserId), Nulls::AsString),
      "connectionid" => Typed::Str(StrExpr::Field(Field::ConnectionId), Nulls::Never),
      "protocol" => Typed::Str(StrExpr::Field(Field::Protocol), Nulls::AsString),
      "groups" => Typed::Groups,
      _ => return Err(self.error(context, FilterErrorDetail::NotSupported(name.to_owned()))),
    })
  }

  fn literal(&self, literal: &Literal, context: Context<'_>) -> Result<Typed, FilterError> {
    Ok(match literal {
      Literal::Null => Typed::Null,
      Literal::Bool(value) => Typed::Bool(BoolExpr::Const(*value)),
      Literal::Text(value) => Typed::Str(StrExpr::Const(value.clone()), Nulls::Never),
      Literal::Number(text) => match text.parse::<i32>() {
        Ok(value) => Typed::Int(IntExpr::Const(value.into()), Nulls::Never),
        Err(_) => {
          return Err(self.error(
            context,
            FilterErrorDetail::NotSupported(literal.to_string()),
          ));
        }
      },
    })
  }

  fn boolean(&self, typed: Typed, context: Context<'_>) -> Result<BoolExpr, FilterError> {
    match typed {
      Typed::Bool(expr) => Ok(expr),
      other => Err(self.mismatch(context, other.name(false), ValueType::Bool)),
    }
  }

  /// A string operand of a function; null is accepted and handled by the caller.
  fn string(
    &self,
    typed: Typed,
    context: Context<'_>,
  ) -> Result<Option<(StrExpr, Nulls)>, FilterError> {
    match typed {
      Typed::Null => Ok(None),
      Typed::Str(expr, nulls) => Ok(Some((expr, nulls))),
      other => Err(self.mismatch(context, other.name(true), ValueType::String)),
    }
  }

  /// A `substring` position: an int that is never null.
  fn position(&self, typed: Typed, context: Context<'_>) -> Result<IntExpr, FilterError> {
    match typed {
      Typed::Int(expr, Nulls::Never) => Ok(expr),
      other => Err(self.mismatch(context, other.name(false), ValueType::Int)),
    }
  }

  /// The operands of an `and`/`or` chain. Every operand is checked, left to right, each error
  /// naming the binary operator that holds the operand.
  fn logic(&self, op: Logic, items: &[Expr]) -> Result<Vec<BoolExpr>, FilterError> {
    let mut checked = Vec::with_capacity(items.len());
    let mut first = None;
    for (index, item) in items.iter().enumerate() {
      let context = Context::Chain(op, &items[..(index + 1).max(2)]);
      let typed = self.check(item, context)?;
      match index {
        0 => first = Some(typed),
        _ => {
          if let Some(first) = first.take() {
            checked.push(self.boolean(first, context)?);
          }
          checked.push(self.boolean(typed, context)?);
        }
      }
    }
    Ok(checked)
  }

  fn compare(
    &self,
    op: CompareOp,
    left: Typed,
    right: Typed,
    here: Context<'_>,
  ) -> Result<Typed, FilterError> {
    let order = match op {
      CompareOp::Eq | CompareOp::Ne => {
        let (left, right) = (left.into_any(), right.into_any());
        return Ok(Typed::Bool(BoolExpr::Equal {
          left,
          right,
          negate: op == CompareOp::Ne,
        }));
      }
      CompareOp::Gt => OrderOp::Gt,
      CompareOp::Ge => OrderOp::Ge,
      CompareOp::Lt => OrderOp::Lt,
      CompareOp::Le => OrderOp::Le,
    };
    if matches!(left, Typed::Null) || matches!(right, Typed::Null) {
      return Ok(Typed::Bool(BoolExpr::Const(false)));
    }
    let int = |typed: Typed| match typed {
      Typed::Int(expr, _) => Ok(expr),
      other => Err(self.mismatch(here, other.name(true), ValueType::Int)),
    };
    let (left, right) = (int(left)?, int(right)?);
    Ok(Typed::Bool(BoolExpr::Order {
      op: order,
      left,
      right,
    }))
  }

  fn membership(&self, item: Typed, set: &InSet, here: Context<'_>) -> Result<Typed, FilterError> {
    let list = match set {
      InSet::List { items, .. } => items
        .iter()
        .map(|expr| self.check(expr, here))
        .collect::<Result<Vec<_>, _>>()?,
      InSet::Expr(expr) => match self.check(expr, here)? {
        Typed::Groups => vec![Typed::Groups],
        other => return Err(self.mismatch(here, other.name(false), ValueType::Collection)),
      },
    };
    // `x in groups` and `x in (groups)` test membership; any other list compares its values.
    if let [Typed::Groups] = list.as_slice() {
      return Ok(Typed::Bool(match item {
        Typed::Str(item, _) => BoolExpr::InGroups(item),
        _ => BoolExpr::Const(false),
      }));
    }
    let list = list.into_iter().map(Typed::into_any).collect();
    Ok(Typed::Bool(BoolExpr::InList {
      item: item.into_any(),
      list,
    }))
  }

  fn call(&self, call: &Expr, name: &str, args: &[Expr]) -> Result<Typed, FilterError> {
    let here = Context::Node(call);
    Ok(match (name, args) {
      ("length", [text]) => match self.check(text, here)? {
        Typed::Null => Typed::Null,
        Typed::Str(text, nulls) => Typed::Int(IntExpr::Length(Box::new(text)), nulls.propagated()),
        Typed::Groups => Typed::Int(IntExpr::GroupCount, Nulls::Never),
        Typed::Bool(_) | Typed::Int(..) => {
          return Err(self.error(here, FilterErrorDetail::InvalidToken(call.to_string())));
        }
      },
      ("tolower", [text]) => self.map(StrMap::ToLower, text, here)?,
      ("toupper", [text]) => self.map(StrMap::ToUpper, text, here)?,
      ("trim", [text]) => self.map(StrMap::Trim, text, here)?,
      ("startswith", [text, pattern]) => {
        self.text_test(TextTest::StartsWith, text, pattern, here)?
      }
      ("endswith", [text, pattern]) => self.text_test(TextTest::EndsWith, text, pattern, here)?,
      ("contains", [text, pattern]) => self.text_test(TextTest::Contains, text, pattern, here)?,
      ("indexof", [text, pattern]) => match self.text_pair(text, pattern, here)? {
        Some((text, pattern)) => Typed::Int(
          IntExpr::IndexOf(Box::new(text), Box::new(pattern)),
          Nulls::Never,
        ),
        None => Typed::Int(IntExpr::Const(-1), Nulls::Never),
      },
      ("concat", [left, right]) => {
        let left = self.check(left, here)?;
        let right = self.check(right, here)?;
        match (self.string(left, here)?, self.string(right, here)?) {
          (None, None) => Typed::Null,
          (Some((text, nulls)), None) | (None, Some((text, nulls))) => Typed::Str(text, nulls),
          (Some((left, left_nulls)), Some((right, right_nulls))) => Typed::Str(
            StrExpr::Concat(Box::new(left), Box::new(right)),
            left_nulls.either(right_nulls),
          ),
        }
      }
      ("substring", [text, start]) => self.substring(text, start, None, here)?,
      ("substring", [text, start, length]) => self.substring(text, start, Some(length), here)?,
      (
        "length" | "tolower" | "toupper" | "trim" | "startswith" | "endswith" | "contains"
        | "indexof" | "concat" | "substring",
        _,
      ) => return Err(self.error(here, FilterErrorDetail::InvalidToken(call.to_string()))),
      _ => return Err(self.error(here, FilterErrorDetail::NotSupported(call.to_string()))),
    })
  }

  fn map(&self, map: StrMap, text: &Expr, here: Context<'_>) -> Result<Typed, FilterError> {
    let text = self.check(text, here)?;
    Ok(match self.string(text, here)? {
      None => Typed::Null,
      Some((text, nulls)) => Typed::Str(StrExpr::Map(map, Box::new(text)), nulls.propagated()),
    })
  }

  fn text_test(
    &self,
    test: TextTest,
    text: &Expr,
    pattern: &Expr,
    here: Context<'_>,
  ) -> Result<Typed, FilterError> {
    Ok(Typed::Bool(match self.text_pair(text, pattern, here)? {
      Some((value, pattern)) => BoolExpr::Text {
        test,
        value,
        pattern,
      },
      None => BoolExpr::Const(false),
    }))
  }

  /// `substring(text, start[, length])`: positions are checked first and may not be null; the
  /// result is null for a null text or a range outside it.
  fn substring(
    &self,
    text: &Expr,
    start: &Expr,
    length: Option<&Expr>,
    here: Context<'_>,
  ) -> Result<Typed, FilterError> {
    let text = self.check(text, here)?;
    let start = self.check(start, here)?;
    let start = self.position(start, here)?;
    let length = match length {
      Some(length) => {
        let length = self.check(length, here)?;
        Some(self.position(length, here)?)
      }
      None => None,
    };
    Ok(match self.string(text, here)? {
      None => Typed::Null,
      Some((text, _)) => Typed::Str(
        StrExpr::Substring {
          value: Box::new(text),
          start,
          length,
        },
        Nulls::AsNull,
      ),
    })
  }

  /// The two operands of `startswith`-like functions and `indexof`; `None` when either is always
  /// null, which the service answers without looking at the other operand.
  fn text_pair(
    &self,
    left: &Expr,
    right: &Expr,
    here: Context<'_>,
  ) -> Result<Option<(StrExpr, StrExpr)>, FilterError> {
    let left = self.check(left, here)?;
    let right = self.check(right, here)?;
    if matches!(left, Typed::Null) || matches!(right, Typed::Null) {
      return Ok(None);
    }
    let left = self.string(left, here)?;
    let right = self.string(right, here)?;
    Ok(left.zip(right).map(|((left, _), (right, _))| (left, right)))
  }
}
