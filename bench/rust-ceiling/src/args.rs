//! `--key value` / `--key=value` command-line parsing with typed lookups, and the loopback rule
//! every binary applies to the addresses it is given.

use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ArgError {
  #[error("unexpected argument {0:?} (arguments are --key value)")]
  Positional(String),
  #[error("missing value for --{0}")]
  MissingValue(String),
  #[error("unknown argument --{0}")]
  Unknown(String),
  #[error("invalid value {value:?} for --{key}")]
  Invalid { key: String, value: String },
  #[error("{0} is not a loopback address; refusing")]
  NotLoopback(String),
}

/// Parsed arguments; every key must be one of the names the binary declares.
pub struct Args {
  values: HashMap<String, String>,
}

impl Args {
  pub fn parse(known: &[&str]) -> Result<Args, ArgError> {
    Self::parse_from(std::env::args().skip(1), known)
  }

  pub fn parse_from(
    raw: impl IntoIterator<Item = String>,
    known: &[&str],
  ) -> Result<Args, ArgError> {
    let mut values = HashMap::new();
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
      let Some(stripped) = arg.strip_prefix("--") else {
        return Err(ArgError::Positional(arg));
      };
      let (key, value) = match stripped.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => {
          let v = it
            .next()
            .ok_or_else(|| ArgError::MissingValue(stripped.to_owned()))?;
          (stripped.to_owned(), v)
        }
      };
      if !known.contains(&key.as_str()) {
        return Err(ArgError::Unknown(key));
      }
      values.insert(key, value);
    }
    Ok(Args { values })
  }

  pub fn get<T: FromStr>(&self, key: &str, default: T) -> Result<T, ArgError> {
    match self.values.get(key) {
      None => Ok(default),
      Some(v) => v.parse().map_err(|_| ArgError::Invalid {
        key: key.to_owned(),
        value: v.clone(),
      }),
    }
  }

  pub fn list<T: FromStr>(&self, key: &str, default: Vec<T>) -> Result<Vec<T>, ArgError> {
    match self.values.get(key) {
      None => Ok(default),
      Some(v) => v
        .split(',')
        .map(|s| {
          s.trim().parse().map_err(|_| ArgError::Invalid {
            key: key.to_owned(),
            value: v.clone(),
          })
        })
        .collect(),
    }
  }
}

/// Accepts `http(s)://` or `ws(s)://` URLs and bare `host:port` whose host is on the loopback
/// interface; the benchmarks never send traffic anywhere else.
pub fn require_loopback(addr: &str) -> Result<(), ArgError> {
  let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
  let authority = rest.split('/').next().unwrap_or("");
  let host = if let Some(v6) = authority.strip_prefix('[') {
    v6.split(']').next().unwrap_or("")
  } else {
    authority.split(':').next().unwrap_or("")
  };
  let loopback = host == "localhost"
    || host == "::1"
    || host
      .parse::<std::net::Ipv4Addr>()
      .is_ok_and(|ip| ip.is_loopback());
  if loopback {
    Ok(())
  } else {
    Err(ArgError::NotLoopback(addr.to_owned()))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn parse(v: &[&str]) -> Result<Args, ArgError> {
    Args::parse_from(v.iter().map(|s| s.to_string()), &["a", "b"])
  }

  #[test]
  fn parses_both_forms_and_types() {
    let a = parse(&["--a", "3", "--b=1,2"]).unwrap();
    assert_eq!(a.get::<u32>("a", 0).unwrap(), 3);
    assert_eq!(a.list::<u32>("b", vec![]).unwrap(), vec![1, 2]);
    assert!(matches!(parse(&["--c", "1"]), Err(ArgError::Unknown(k)) if k == "c"));
    assert!(matches!(parse(&["--a"]), Err(ArgError::MissingValue(_))));
    assert!(matches!(
      parse(&["--a", "x"]).unwrap().get::<u32>("a", 0),
      Err(ArgError::Invalid { .. })
    ));
  }

  #[test]
  fn loopback_only() {
    assert!(require_loopback("http://127.0.0.1:8080/api").is_ok());
    assert!(require_loopback("ws://localhost:1/x").is_ok());
    assert!(require_loopback("[::1]:80").is_ok());
    assert!(require_loopback("http://10.0.0.1:80").is_err());
    assert!(require_loopback("http://127.0.0.1.example.com/").is_err());
  }
}
