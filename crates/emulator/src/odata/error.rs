//! Why a filter is rejected, worded the way the service words it.

use std::fmt;

/// The maximum filter size, in bytes of UTF-8.
pub const MAX_FILTER_BYTES: usize = 64 * 1024;

/// A rejected filter. `Display` is the service's message,
/// `Invalid syntax for '<sub-expression>': <detail>`, where the detail ends with a period; the REST
/// layer appends ` (Parameter 'filter')` as the service does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid syntax for '{expression}': {detail}")]
pub struct FilterError {
  expression: String,
  detail: FilterErrorDetail,
}

impl FilterError {
  pub(super) fn new(expression: impl Into<String>, detail: FilterErrorDetail) -> Self {
    FilterError {
      expression: expression.into(),
      detail,
    }
  }

  /// The part of the filter the error is about (the whole filter for syntax errors).
  pub fn expression(&self) -> &str {
    &self.expression
  }

  pub fn detail(&self) -> &FilterErrorDetail {
    &self.detail
  }
}

/// What is wrong. Syntax details carry a position (in UTF-16 code units, as the service counts) and
/// the whole filter text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterErrorDetail {
  #[error("Syntax error at position {0} in '{1}'.")]
  UnexpectedToken(usize, String),
  #[error("Expression expected at position {0} in '{1}'.")]
  ExpressionExpected(usize, String),
  #[error("')' or operator expected at position {0} in '{1}'.")]
  CloseParenOrOperatorExpected(usize, String),
  #[error("')' or ',' expected at position {0} in '{1}'.")]
  CloseParenOrCommaExpected(usize, String),
  #[error("There is an unterminated string literal at position {0} in '{1}'.")]
  UnterminatedString(usize, String),
  #[error(
    "Syntax error: character '{character}' is not valid at position {position} in '{text}'."
  )]
  InvalidCharacter {
    character: char,
    position: usize,
    text: String,
  },
  #[error("Recursion depth exceeded allowed limit.")]
  TooDeep,
  #[error("The filter is {0} bytes long; the limit is {MAX_FILTER_BYTES} bytes.")]
  TooLong(usize),
  #[error("Type '{actual}', expect '{expected}'.")]
  TypeMismatch {
    actual: ValueType,
    expected: ValueType,
  },
  /// A known function called with the wrong number or kind of arguments.
  #[error("Invalid token '{0}'.")]
  InvalidToken(String),
  /// An unknown identifier or function, or a number outside the 32-bit range.
  #[error("Token '{0}' is not supported.")]
  NotSupported(String),
}

/// The types filter values have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
  Null,
  Bool,
  String,
  Int,
  Collection,
}

impl fmt::Display for ValueType {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(match self {
      ValueType::Null => "null",
      ValueType::Bool => "bool",
      ValueType::String => "string",
      ValueType::Int => "int",
      ValueType::Collection => "collection",
    })
  }
}

/// A byte offset of `text` as the service reports positions: in UTF-16 code units.
pub(super) fn utf16_position(text: &str, byte_offset: usize) -> usize {
  text[..byte_offset].encode_utf16().count()
}

/// A syntax error: those always name the whole filter.
pub(super) fn syntax_error(
  text: &str,
  byte_offset: usize,
  detail: fn(usize, String) -> FilterErrorDetail,
) -> FilterError {
  FilterError::new(
    text,
    detail(utf16_position(text, byte_offset), text.to_owned()),
  )
}
