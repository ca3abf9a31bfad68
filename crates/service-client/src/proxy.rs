//! Outbound HTTP proxy selection as core-rest-pipeline's proxy policy does it:
//! one proxy URL for every request (the configured one, else the first set of `HTTPS_PROXY`,
//! `ALL_PROXY`, `HTTP_PROXY`, each also read in lower case), skipped for hosts on the
//! `NO_PROXY` list (comma-separated; `.example.com` matches the domain and its subdomains,
//! anything else matches the host name exactly).

use url::Url;

/// A proxy and its bypass list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyRule {
  pub(crate) proxy: Url,
  no_proxy: Vec<String>,
}

impl ProxyRule {
  /// The rule in force for a client: `configured` (the SDK's `proxyOptions` as a URL) or the
  /// environment; `None` when no proxy applies. `env` reads one environment variable.
  pub(crate) fn resolve(
    configured: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
  ) -> Result<Option<Self>, url::ParseError> {
    let read = |name: &str| {
      env(name)
        .filter(|v| !v.is_empty())
        .or_else(|| env(&name.to_lowercase()).filter(|v| !v.is_empty()))
    };
    let proxy = match configured {
      Some(url) => Some(url.to_owned()),
      None => read("HTTPS_PROXY")
        .or_else(|| read("ALL_PROXY"))
        .or_else(|| read("HTTP_PROXY")),
    };
    let Some(proxy) = proxy else {
      return Ok(None);
    };
    let no_proxy = read("NO_PROXY")
      .map(|list| {
        list
          .split(',')
          .map(str::trim)
          .filter(|item| !item.is_empty())
          .map(str::to_owned)
          .collect()
      })
      .unwrap_or_default();
    Ok(Some(Self {
      proxy: Url::parse(&proxy)?,
      no_proxy,
    }))
  }

  /// The proxy to use for `target`, or `None` when its host is bypassed.
  pub(crate) fn proxy_for(&self, target: &Url) -> Option<Url> {
    let host = target.host_str().unwrap_or_default();
    let bypassed = self
      .no_proxy
      .iter()
      .any(|pattern| match pattern.strip_prefix('.') {
        Some(domain) => host.ends_with(pattern.as_str()) || host == domain,
        None => host == pattern,
      });
    (!bypassed).then(|| self.proxy.clone())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::HashMap;

  fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
      .iter()
      .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
      .collect();
    move |name| map.get(name).cloned()
  }

  fn target(url: &str) -> Url {
    Url::parse(url).unwrap()
  }

  #[test]
  fn environment_order_and_lower_case_names() {
    let rule = ProxyRule::resolve(
      None,
      env(&[("http_proxy", "http://p1:1"), ("ALL_PROXY", "http://p2:2")]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(rule.proxy.as_str(), "http://p2:2/");
    let rule = ProxyRule::resolve(None, env(&[("https_proxy", "http://p3:3")]))
      .unwrap()
      .unwrap();
    assert_eq!(rule.proxy.as_str(), "http://p3:3/");
    assert_eq!(ProxyRule::resolve(None, env(&[])).unwrap(), None);
  }

  #[test]
  fn configured_proxy_wins_and_no_proxy_applies() {
    let rule = ProxyRule::resolve(
      Some("http://user:pw@proxy:8080"),
      env(&[
        ("HTTPS_PROXY", "http://ignored:1"),
        ("NO_PROXY", " localhost , .internal.example,10.0.0.1"),
      ]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
      rule.proxy_for(&target("https://h.webpubsub.azure.com/api")),
      Some(Url::parse("http://user:pw@proxy:8080").unwrap())
    );
    assert_eq!(rule.proxy_for(&target("http://localhost:8080/")), None);
    assert_eq!(rule.proxy_for(&target("http://a.internal.example/")), None);
    assert_eq!(rule.proxy_for(&target("http://internal.example/")), None);
    assert_eq!(rule.proxy_for(&target("http://10.0.0.1/")), None);
    assert!(rule
      .proxy_for(&target("http://xinternal.example/"))
      .is_some());
  }
}
