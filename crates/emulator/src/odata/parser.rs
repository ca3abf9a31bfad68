//! Recursive-descent parser for the filter grammar.
//!
//! Precedence, loosest first: `or`, `and`, comparisons (`eq ne gt ge lt le`, left-associative),
//! `not`, `in`, primaries. So `not length(userId) gt 5` reads as `(not length(userId)) gt 5`, as
//! the service reads it. Nesting (parentheses, `not`, arguments, list items and comparison chains)
//! is limited to [`MAX_DEPTH`] so that neither parsing nor the later tree walks can exhaust the
//! stack.

use super::error::{syntax_error, FilterError, FilterErrorDetail};
use super::lexer::{Lexer, Token, TokenKind};
use super::syntax::{CompareOp, Expr, InSet, Literal};

/// The deepest nesting a filter may have (the service's parser limit).
pub const MAX_DEPTH: usize = 100;

/// Parses a whole filter.
pub(super) fn parse(text: &str) -> Result<Expr, FilterError> {
  let mut lexer = Lexer::new(text);
  let token = lexer.next_token()?;
  let mut parser = Parser {
    text,
    lexer,
    token,
    depth: 0,
  };
  let expr = parser.or()?;
  if parser.token.kind != TokenKind::End {
    return Err(parser.error_at(parser.token.end, FilterErrorDetail::UnexpectedToken));
  }
  Ok(expr)
}

struct Parser<'a> {
  text: &'a str,
  lexer: Lexer<'a>,
  /// The current, not yet consumed token.
  token: Token<'a>,
  depth: usize,
}

impl<'a> Parser<'a> {
  /// Consumes the current token and returns it.
  fn bump(&mut self) -> Result<Token<'a>, FilterError> {
    let next = self.lexer.next_token()?;
    Ok(std::mem::replace(&mut self.token, next))
  }

  fn error_at(&self, offset: usize, detail: fn(usize, String) -> FilterErrorDetail) -> FilterError {
    syntax_error(self.text, offset, detail)
  }

  fn enter(&mut self) -> Result<(), FilterError> {
    self.depth += 1;
    if self.depth > MAX_DEPTH {
      return Err(FilterError::new(self.text, FilterErrorDetail::TooDeep));
    }
    Ok(())
  }

  fn nested<T>(
    &mut self,
    parse: impl FnOnce(&mut Self) -> Result<T, FilterError>,
  ) -> Result<T, FilterError> {
    self.enter()?;
    let result = parse(self);
    self.depth -= 1;
    result
  }

  fn or(&mut self) -> Result<Expr, FilterError> {
    self.nested(|p| p.chain("or", Self::and, Expr::Or))
  }

  fn and(&mut self) -> Result<Expr, FilterError> {
    self.chain("and", Self::comparison, Expr::And)
  }

  fn chain(
    &mut self,
    word: &str,
    operand: fn(&mut Self) -> Result<Expr, FilterError>,
    build: fn(Vec<Expr>) -> Expr,
  ) -> Result<Expr, FilterError> {
    let first = operand(self)?;
    if !self.token.is_word(word) {
      return Ok(first);
    }
    let mut items = vec![first];
    while self.token.is_word(word) {
      self.bump()?;
      items.push(operand(self)?);
    }
    Ok(build(items))
  }

  /// Each further operator of a chain nests the tree one level deeper, so it counts as depth.
  fn comparison(&mut self) -> Result<Expr, FilterError> {
    let depth = self.depth;
    let result = self.comparison_chain();
    self.depth = depth;
    result
  }

  fn comparison_chain(&mut self) -> Result<Expr, FilterError> {
    let mut left = self.unary()?;
    while let TokenKind::Word(word) = self.token.kind {
      let Some(op) = CompareOp::from_word(word) else {
        break;
      };
      self.bump()?;
      self.enter()?;
      let right = self.unary()?;
      left = Expr::Compare {
        op,
        left: Box::new(left),
        right: Box::new(right),
      };
    }
    Ok(left)
  }

  fn unary(&mut self) -> Result<Expr, FilterError> {
    if self.token.is_word("not") {
      self.bump()?;
      let operand = self.nested(Self::unary)?;
      return Ok(Expr::Not(Box::new(operand)));
    }
    self.membership()
  }

  fn membership(&mut self) -> Result<Expr, FilterError> {
    let item = self.primary()?;
    if !self.token.is_word("in") {
      return Ok(item);
    }
    self.bump()?;
    let set = if self.token.kind == TokenKind::OpenParen {
      let start = self.token.start;
      let (items, end) = self.arguments()?;
      InSet::List {
        items,
        source: self.text[start..end].to_owned(),
      }
    } else {
      InSet::Expr(Box::new(self.primary()?))
    };
    Ok(Expr::In {
      item: Box::new(item),
      set,
    })
  }

  fn primary(&mut self) -> Result<Expr, FilterError> {
    match &self.token.kind {
      TokenKind::OpenParen => {
        self.bump()?;
        let inner = self.or()?;
        if self.token.kind != TokenKind::CloseParen {
          return Err(self.error_at(
            self.token.start,
            FilterErrorDetail::CloseParenOrOperatorExpected,
          ));
        }
        self.bump()?;
        Ok(inner)
      }
      TokenKind::Text(value) => {
        let literal = Literal::Text(value.clone());
        self.bump()?;
        Ok(Expr::Literal(literal))
      }
      TokenKind::Number(number) => {
        let literal = Literal::Number(number.trim_start_matches('+').to_owned());
        self.bump()?;
        Ok(Expr::Literal(literal))
      }
      &TokenKind::Word(word) => {
        self.bump()?;
        Ok(match word {
          "null" => Expr::Literal(Literal::Null),
          "true" => Expr::Literal(Literal::Bool(true)),
          "false" => Expr::Literal(Literal::Bool(false)),
          name if self.token.kind == TokenKind::OpenParen => Expr::Call {
            name: name.to_owned(),
            args: self.arguments()?.0,
          },
          name => Expr::Identifier(name.to_owned()),
        })
      }
      TokenKind::CloseParen | TokenKind::Comma | TokenKind::End => {
        Err(self.error_at(self.token.start, FilterErrorDetail::ExpressionExpected))
      }
    }
  }

  /// `( expr, expr, … )` starting at the current `(`; used for function arguments and `in` lists.
  /// Returns the items and the byte offset just after the `)`.
  fn arguments(&mut self) -> Result<(Vec<Expr>, usize), FilterError> {
    self.bump()?;
    let mut items = Vec::new();
    if self.token.kind == TokenKind::CloseParen {
      return Ok((items, self.bump()?.end));
    }
    loop {
      items.push(self.or()?);
      match self.token.kind {
        TokenKind::Comma => {
          self.bump()?;
        }
        TokenKind::CloseParen => return Ok((items, self.bump()?.end)),
        _ => {
          return Err(self.error_at(
            self.token.start,
            FilterErrorDetail::CloseParenOrCommaExpected,
          ))
        }
      }
    }
  }
}
