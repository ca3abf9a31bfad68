//! The service's OData filter language, used by `filter` on the send operations and by
//! `:addToGroups`/`:removeFromGroups` to select connections.
//!
//! [`Filter::parse`] parses and type-checks once; [`Filter::matches`] then evaluates the filter
//! against each connection without allocating for the common comparisons.
//!
//! Identifiers: `userId`, `connectionId`, `protocol` (strings, any letter case) and `groups`
//! (the connection's groups). Literals: `'text'` (`''` escapes a quote), 32-bit integers,
//! `true`, `false`, `null`. Operators: `eq ne gt ge lt le`, `and`, `or`, `not`, `in (…)`,
//! `in groups`. Functions: `tolower toupper trim substring concat startswith endswith contains
//! indexof length`.

mod check;
mod error;
mod eval;
mod lexer;
mod parser;
mod syntax;
#[cfg(test)]
mod tests;

pub use error::{FilterError, FilterErrorDetail, ValueType, MAX_FILTER_BYTES};
pub use parser::MAX_DEPTH;

/// What a filter can see of a connection.
pub trait FilterSubject {
  fn connection_id(&self) -> &str;
  /// `None` for an anonymous connection.
  fn user_id(&self) -> Option<&str>;
  /// The negotiated subprotocol; `None` for a raw WebSocket client.
  fn protocol(&self) -> Option<&str>;
  /// Whether the connection is in `group` (exact, case-sensitive).
  fn in_group(&self, group: &str) -> bool;
  /// How many groups the connection is in (`length(groups)`).
  fn group_count(&self) -> usize;
}

/// A parsed and type-checked filter.
#[derive(Debug, Clone)]
pub struct Filter {
  root: eval::BoolExpr,
}

impl Filter {
  /// Parses and type-checks `text`. An empty text is no filter and matches every connection, as
  /// the service treats an empty `filter`.
  pub fn parse(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_FILTER_BYTES {
      return Err(FilterError::new(
        text,
        FilterErrorDetail::TooLong(text.len()),
      ));
    }
    if text.is_empty() {
      return Ok(Filter {
        root: eval::BoolExpr::Const(true),
      });
    }
    let syntax = parser::parse(text)?;
    Ok(Filter {
      root: check::check(text, &syntax)?,
    })
  }

  /// Whether the connection is selected: the filter evaluates to `true` for it.
  pub fn matches(&self, subject: &dyn FilterSubject) -> bool {
    self.root.eval(subject)
  }
}
