//! Splits filter text into tokens, one at a time as the parser asks, so that a syntax error is
//! reported at the first place the parser stumbles.

use super::error::{syntax_error, utf16_position, FilterError, FilterErrorDetail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind<'a> {
  /// An identifier, keyword, operator word or function name.
  Word(&'a str),
  /// A quoted string with `''` unescaped.
  Text(String),
  /// An integer as written, with an optional sign.
  Number(&'a str),
  OpenParen,
  CloseParen,
  Comma,
  End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
  pub kind: TokenKind<'a>,
  /// Byte offsets of the token in the filter text.
  pub start: usize,
  pub end: usize,
}

impl Token<'_> {
  pub fn is_word(&self, word: &str) -> bool {
    self.kind == TokenKind::Word(word)
  }
}

pub(super) struct Lexer<'a> {
  text: &'a str,
  offset: usize,
}

impl<'a> Lexer<'a> {
  pub fn new(text: &'a str) -> Self {
    Lexer { text, offset: 0 }
  }

  pub fn next_token(&mut self) -> Result<Token<'a>, FilterError> {
    let rest = &self.text[self.offset..];
    self.offset += rest.len() - rest.trim_start().len();
    let start = self.offset;
    let rest = &self.text[start..];
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
      return Ok(Token {
        kind: TokenKind::End,
        start,
        end: start,
      });
    };
    let (kind, len) = match first {
      '(' => (TokenKind::OpenParen, 1),
      ')' => (TokenKind::CloseParen, 1),
      ',' => (TokenKind::Comma, 1),
      '\'' => return self.quoted(start),
      '-' | '+' | '0'..='9' => {
        let sign = usize::from(!first.is_ascii_digit());
        let digits = rest[sign..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
          return Err(self.invalid_character(first, start));
        }
        (TokenKind::Number(&rest[..sign + digits]), sign + digits)
      }
      c if c.is_alphabetic() || c == '_' => {
        let len = rest
          .find(|c: char| !(c.is_alphanumeric() || c == '_'))
          .unwrap_or(rest.len());
        (TokenKind::Word(&rest[..len]), len)
      }
      c => return Err(self.invalid_character(c, start)),
    };
    self.offset += len;
    Ok(Token {
      kind,
      start,
      end: self.offset,
    })
  }

  /// A string literal starting at the quote at `start`; `''` inside stands for one quote.
  fn quoted(&mut self, start: usize) -> Result<Token<'a>, FilterError> {
    let mut value = String::new();
    let mut segment_start = start + 1;
    loop {
      let Some(quote) = self.text[segment_start..].find('\'') else {
        return Err(syntax_error(
          self.text,
          self.text.len(),
          FilterErrorDetail::UnterminatedString,
        ));
      };
      let quote = segment_start + quote;
      value.push_str(&self.text[segment_start..quote]);
      if self.text[quote + 1..].starts_with('\'') {
        value.push('\'');
        segment_start = quote + 2;
      } else {
        self.offset = quote + 1;
        return Ok(Token {
          kind: TokenKind::Text(value),
          start,
          end: self.offset,
        });
      }
    }
  }

  fn invalid_character(&self, character: char, offset: usize) -> FilterError {
    let detail = FilterErrorDetail::InvalidCharacter {
      character,
      position: utf16_position(self.text, offset),
      text: self.text.to_owned(),
    };
    FilterError::new(self.text, detail)
  }
}
