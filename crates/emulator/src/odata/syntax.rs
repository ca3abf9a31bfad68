//! The parsed, not yet type-checked filter, and how a piece of it is printed in error messages.
//!
//! Printing follows the service: binary operators print their operands with parentheses around
//! nested operators, function arguments are joined by `,`, an `in` list prints as written.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
  /// `a or b or …`, kept flat so long chains do not nest.
  Or(Vec<Expr>),
  /// `a and b and …`, kept flat.
  And(Vec<Expr>),
  Compare {
    op: CompareOp,
    left: Box<Expr>,
    right: Box<Expr>,
  },
  Not(Box<Expr>),
  In {
    item: Box<Expr>,
    set: InSet,
  },
  Call {
    name: String,
    args: Vec<Expr>,
  },
  Identifier(String),
  Literal(Literal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum InSet {
  /// `(v1, v2, …)`, with its source text for messages.
  List { items: Vec<Expr>, source: String },
  /// `groups` or another expression.
  Expr(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Literal {
  Null,
  Bool(bool),
  /// An integer as written; range-checked by the type checker.
  Number(String),
  Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CompareOp {
  Eq,
  Ne,
  Gt,
  Ge,
  Lt,
  Le,
}

impl CompareOp {
  pub fn from_word(word: &str) -> Option<Self> {
    Some(match word {
      "eq" => CompareOp::Eq,
      "ne" => CompareOp::Ne,
      "gt" => CompareOp::Gt,
      "ge" => CompareOp::Ge,
      "lt" => CompareOp::Lt,
      "le" => CompareOp::Le,
      _ => return None,
    })
  }

  fn word(self) -> &'static str {
    match self {
      CompareOp::Eq => "eq",
      CompareOp::Ne => "ne",
      CompareOp::Gt => "gt",
      CompareOp::Ge => "ge",
      CompareOp::Lt => "lt",
      CompareOp::Le => "le",
    }
  }
}

/// The two chained logical operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Logic {
  And,
  Or,
}

/// Prints `items` joined by `op` as the left-nested binary tree the service builds:
/// `((a or b) or c) or d`. `items` has at least two elements.
pub(super) struct Chain<'e>(pub Logic, pub &'e [Expr]);

impl fmt::Display for Chain<'_> {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Chain(op, items) = *self;
    let word = match op {
      Logic::And => "and",
      Logic::Or => "or",
    };
    for _ in 2..items.len() {
      f.write_str("(")?;
    }
    for (index, item) in items.iter().enumerate() {
      match index {
        0 => {}
        1 => write!(f, " {word} ")?,
        _ => write!(f, ") {word} ")?,
      }
      write_operand(f, item)?;
    }
    Ok(())
  }
}

fn write_operand(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
  match expr {
    Expr::Or(_) | Expr::And(_) | Expr::Compare { .. } | Expr::Not(_) | Expr::In { .. } => {
      write!(f, "({expr})")
    }
    _ => write!(f, "{expr}"),
  }
}

impl fmt::Display for Expr {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Expr::Or(items) => Chain(Logic::Or, items).fmt(f),
      Expr::And(items) => Chain(Logic::And, items).fmt(f),
      Expr::Compare { op, left, right } => {
        write_operand(f, left)?;
        write!(f, " {} ", op.word())?;
        write_operand(f, right)
      }
      Expr::Not(operand) => {
        f.write_str("not ")?;
        write_operand(f, operand)
      }
      Expr::In {
        item,
        set: InSet::List { source, .. },
      } => write!(f, "{item} in {source}"),
      Expr::In {
        item,
        set: InSet::Expr(set),
      } => write!(f, "{item} in {set}"),
      Expr::Call { name, args } => {
        write!(f, "{name}(")?;
        for (index, arg) in args.iter().enumerate() {
          if index > 0 {
            f.write_str(",")?;
          }
          write!(f, "{arg}")?;
        }
        f.write_str(")")
      }
      Expr::Identifier(name) => f.write_str(name),
      Expr::Literal(literal) => literal.fmt(f),
    }
  }
}

impl fmt::Display for Literal {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Literal::Null => f.write_str("null"),
      Literal::Bool(value) => write!(f, "{value}"),
      Literal::Number(text) => match text.parse::<i64>() {
        Ok(value) => write!(f, "{value}"),
        Err(_) => f.write_str(text),
      },
      Literal::Text(value) => write!(f, "'{}'", value.replace('\'', "''")),
    }
  }
}
