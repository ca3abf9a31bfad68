//! Event-handler settings: per hub, an ordered list of handlers, each with a URL template, the system
//! events it receives, a user-event pattern and the group presence events it receives (as the service
//! configures them: event names `joined` / `left`, optionally only for groups matching patterns). The
//! first handler that matches an event receives it.
//!
//! Two textual forms share one model: the JSON settings shape (`{"hubs": {"chat": {"eventHandlers":
//! [{"urlTemplate", "userEventPattern", "systemEvents", "groupPresenceEvents": {"eventNames",
//! "groupFilters"}}]}}}`, also accepted under the official emulator's `{"WebPubSub": {"Hubs": …}}` with
//! PascalCase keys) and the one-line command-line form
//! `hub=chat;url=http://host/{event};events=connect,connected;user=*;presence=joined,left` (so its URL
//! cannot hold a `;`).

use std::collections::HashMap;
use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::roles::GroupPattern;

/// Characters of `{hub}` and `{event}` values kept as they are in a URL.
const TEMPLATE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
  .remove(b'-')
  .remove(b'.')
  .remove(b'_')
  .remove(b'~');

/// A system event a handler may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemEvent {
  Connect,
  Connected,
  Disconnected,
}

impl SystemEvent {
  pub fn name(self) -> &'static str {
    match self {
      SystemEvent::Connect => "connect",
      SystemEvent::Connected => "connected",
      SystemEvent::Disconnected => "disconnected",
    }
  }

  fn parse(name: &str) -> Result<SystemEvent, SettingsError> {
    let name = name.trim();
    if PresenceEvent::parse(name).is_ok() {
      return Err(SettingsError::PresenceAsSystemEvent(name.to_owned()));
    }
    [
      SystemEvent::Connect,
      SystemEvent::Connected,
      SystemEvent::Disconnected,
    ]
    .into_iter()
    .find(|event| event.name().eq_ignore_ascii_case(name))
    .ok_or_else(|| SettingsError::UnknownSystemEvent(name.to_owned()))
  }
}

/// A group presence event: a connection joined or left a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceEvent {
  Joined,
  Left,
}

impl PresenceEvent {
  pub fn name(self) -> &'static str {
    match self {
      PresenceEvent::Joined => "joined",
      PresenceEvent::Left => "left",
    }
  }

  fn parse(name: &str) -> Result<PresenceEvent, SettingsError> {
    [PresenceEvent::Joined, PresenceEvent::Left]
      .into_iter()
      .find(|event| event.name().eq_ignore_ascii_case(name.trim()))
      .ok_or_else(|| SettingsError::UnknownPresenceEvent(name.trim().to_owned()))
  }
}

/// The group presence events a handler receives: none unless event names are given; from every group
/// unless group patterns (the wildcard syntax of group roles) are given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPresenceFilter {
  pub events: Vec<PresenceEvent>,
  pub groups: Vec<GroupPattern>,
}

impl GroupPresenceFilter {
  fn parse(events: &[String], groups: &[String]) -> Result<Self, SettingsError> {
    Ok(GroupPresenceFilter {
      events: events
        .iter()
        .map(|name| PresenceEvent::parse(name))
        .collect::<Result<_, _>>()?,
      groups: groups
        .iter()
        .map(|pattern| {
          GroupPattern::parse(pattern).map_err(|why| SettingsError::GroupFilter {
            pattern: pattern.clone(),
            why: why.to_string(),
          })
        })
        .collect::<Result<_, _>>()?,
    })
  }

  pub fn matches(&self, event: PresenceEvent, group: &str) -> bool {
    self.events.contains(&event)
      && (self.groups.is_empty() || self.groups.iter().any(|pattern| pattern.matches(group)))
  }
}

/// An event raised by a connection: a system event or a user event with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
  System(SystemEvent),
  User(String),
  GroupPresence { event: PresenceEvent, group: String },
}

impl EventKind {
  /// The event name without prefix (`ce-eventName`, `{event}` in URL templates).
  pub fn name(&self) -> &str {
    match self {
      EventKind::System(event) => event.name(),
      EventKind::User(name) => name,
      EventKind::GroupPresence { event, .. } => event.name(),
    }
  }

  /// The CloudEvents `ce-type`.
  pub fn ce_type(&self) -> String {
    match self {
      EventKind::System(event) => format!("azure.webpubsub.sys.{}", event.name()),
      EventKind::User(name) => format!("azure.webpubsub.user.{name}"),
      EventKind::GroupPresence { event, .. } => format!("azure.webpubsub.gp.{}", event.name()),
    }
  }
}

/// Which user events a handler receives: `*`, or a list of names compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEventPattern {
  All,
  /// Lower-cased names; empty = no user events.
  Names(Vec<String>),
}

impl UserEventPattern {
  /// `*`, one name, or a comma list; blank or absent means none.
  pub fn parse(pattern: &str) -> UserEventPattern {
    let names: Vec<&str> = pattern
      .split(',')
      .map(str::trim)
      .filter(|n| !n.is_empty())
      .collect();
    if names.contains(&"*") {
      return UserEventPattern::All;
    }
    UserEventPattern::Names(names.into_iter().map(str::to_lowercase).collect())
  }

  pub fn matches(&self, event: &str) -> bool {
    match self {
      UserEventPattern::All => true,
      UserEventPattern::Names(names) => names.iter().any(|n| n.eq_ignore_ascii_case(event)),
    }
  }
}

/// A handler URL with optional `{hub}` and `{event}` placeholders (not allowed in the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
  pub fn parse(template: &str) -> Result<UrlTemplate, SettingsError> {
    let template = template.trim();
    let invalid = |why: &'static str| SettingsError::InvalidUrl {
      template: template.to_owned(),
      why,
    };
    // Placeholders stand in for plain letters while the URL shape is checked.
    let probe = url::Url::parse(&template.replace("{hub}", "hub").replace("{event}", "event"))
      .map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(probe.scheme(), "http" | "https") {
      return Err(invalid("the scheme must be http or https"));
    }
    let authority_end = template
      .find("://")
      .map(|start| {
        let rest = &template[start + 3..];
        start + 3 + rest.find(['/', '?', '#']).unwrap_or(rest.len())
      })
      .unwrap_or(0);
    if template[..authority_end].contains('{') {
      return Err(invalid("placeholders are not allowed in the host"));
    }
    Ok(UrlTemplate(template.to_owned()))
  }

  /// The URL for one hub and event, both percent-encoded.
  pub fn expand(&self, hub: &str, event: &str) -> String {
    self
      .0
      .replace(
        "{hub}",
        &utf8_percent_encode(hub, TEMPLATE_VALUE).to_string(),
      )
      .replace(
        "{event}",
        &utf8_percent_encode(event, TEMPLATE_VALUE).to_string(),
      )
  }
}

impl fmt::Display for UrlTemplate {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.0)
  }
}

/// One event handler of a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHandler {
  pub url_template: UrlTemplate,
  pub user_events: UserEventPattern,
  pub system_events: Vec<SystemEvent>,
  pub group_presence: GroupPresenceFilter,
}

impl EventHandler {
  pub fn handles(&self, event: &EventKind) -> bool {
    match event {
      EventKind::System(system) => self.system_events.contains(system),
      EventKind::User(name) => self.user_events.matches(name),
      EventKind::GroupPresence { event, group } => self.group_presence.matches(*event, group),
    }
  }
}

/// Every hub's handlers, keyed by lower-cased hub name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventHandlerSettings {
  hubs: HashMap<String, Vec<EventHandler>>,
}

/// Why handler settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
  #[error("invalid event handler URL template '{template}': {why}")]
  InvalidUrl { template: String, why: &'static str },
  #[error("unknown system event '{0}' (expected connect, connected or disconnected)")]
  UnknownSystemEvent(String),
  #[error("'{0}' is a group presence event: list it in groupPresenceEvents.eventNames (--event-handler: presence=)")]
  PresenceAsSystemEvent(String),
  #[error("unknown group presence event '{0}' (expected joined or left)")]
  UnknownPresenceEvent(String),
  #[error("invalid group filter '{pattern}': {why}")]
  GroupFilter { pattern: String, why: String },
  #[error("invalid settings JSON: {0}")]
  Json(String),
  #[error("invalid --event-handler '{spec}': {why}")]
  Spec { spec: String, why: String },
  #[error("invalid hub name '{0}' in the event handler settings")]
  Hub(String),
}

#[derive(Deserialize)]
struct SettingsFile {
  #[serde(default, alias = "Hubs")]
  hubs: HashMap<String, HubFile>,
  #[serde(default, rename = "WebPubSub", alias = "webPubSub")]
  web_pub_sub: Option<Box<SettingsFile>>,
}

#[derive(Deserialize)]
struct HubFile {
  #[serde(default, rename = "eventHandlers", alias = "EventHandlers")]
  event_handlers: Vec<HandlerFile>,
}

#[derive(Deserialize)]
struct HandlerFile {
  #[serde(rename = "urlTemplate", alias = "UrlTemplate")]
  url_template: String,
  #[serde(default, rename = "userEventPattern", alias = "UserEventPattern")]
  user_event_pattern: Option<String>,
  #[serde(default, rename = "systemEvents", alias = "SystemEvents")]
  system_events: Vec<String>,
  #[serde(default, rename = "groupPresenceEvents", alias = "GroupPresenceEvents")]
  group_presence_events: Option<PresenceFile>,
}

#[derive(Deserialize)]
struct PresenceFile {
  #[serde(default, rename = "eventNames", alias = "EventNames")]
  event_names: Vec<String>,
  #[serde(default, rename = "groupFilters", alias = "GroupFilters")]
  group_filters: Vec<String>,
}

impl EventHandlerSettings {
  /// The handlers of a hub, in order.
  pub fn hub(&self, hub: &str) -> &[EventHandler] {
    self
      .hubs
      .get(&hub.to_lowercase())
      .map_or(&[], Vec::as_slice)
  }

  /// The first handler of `hub` that receives `event`.
  pub fn handler_for(&self, hub: &str, event: &EventKind) -> Option<&EventHandler> {
    self.hub(hub).iter().find(|handler| handler.handles(event))
  }

  pub fn is_empty(&self) -> bool {
    self.hubs.is_empty()
  }

  /// Appends a handler to a hub's list.
  pub fn add(&mut self, hub: &str, handler: EventHandler) -> Result<(), SettingsError> {
    webpubsub_protocol::names::validate_hub(hub).map_err(|_| SettingsError::Hub(hub.to_owned()))?;
    self
      .hubs
      .entry(hub.to_lowercase())
      .or_default()
      .push(handler);
    Ok(())
  }

  /// Adds the handlers of a JSON settings document (see the module docs for the shape).
  pub fn add_json(&mut self, json: &str) -> Result<(), SettingsError> {
    let file: SettingsFile =
      serde_json::from_str(json).map_err(|e| SettingsError::Json(e.to_string()))?;
    self.add_file(file)
  }

  fn add_file(&mut self, file: SettingsFile) -> Result<(), SettingsError> {
    let mut hubs: Vec<_> = file.hubs.into_iter().collect();
    hubs.sort_by(|a, b| a.0.cmp(&b.0));
    for (hub, settings) in hubs {
      for handler in settings.event_handlers {
        let system_events = handler
          .system_events
          .iter()
          .map(|name| SystemEvent::parse(name))
          .collect::<Result<_, _>>()?;
        let group_presence = match &handler.group_presence_events {
          Some(presence) => {
            GroupPresenceFilter::parse(&presence.event_names, &presence.group_filters)?
          }
          None => GroupPresenceFilter::default(),
        };
        let handler = EventHandler {
          url_template: UrlTemplate::parse(&handler.url_template)?,
          user_events: UserEventPattern::parse(handler.user_event_pattern.as_deref().unwrap_or("")),
          system_events,
          group_presence,
        };
        self.add(&hub, handler)?;
      }
    }
    match file.web_pub_sub {
      Some(nested) => self.add_file(*nested),
      None => Ok(()),
    }
  }

  /// Adds one handler given as `hub=NAME;url=TEMPLATE[;events=a,b][;user=PATTERN][;presence=joined,left]`.
  pub fn add_spec(&mut self, spec: &str) -> Result<(), SettingsError> {
    let error = |why: String| SettingsError::Spec {
      spec: spec.to_owned(),
      why,
    };
    let (mut hub, mut url, mut events, mut user, mut presence) = (None, None, None, None, None);
    for part in spec.split(';').filter(|p| !p.trim().is_empty()) {
      let (key, value) = part
        .split_once('=')
        .ok_or_else(|| error(format!("'{part}' is not key=value")))?;
      let slot = match key.trim().to_ascii_lowercase().as_str() {
        "hub" => &mut hub,
        "url" => &mut url,
        "events" => &mut events,
        "user" => &mut user,
        "presence" => &mut presence,
        other => return Err(error(format!("unknown key '{other}'"))),
      };
      *slot = Some(value.trim().to_owned());
    }
    let hub = hub.ok_or_else(|| error("hub= is required".to_owned()))?;
    let url = url.ok_or_else(|| error("url= is required".to_owned()))?;
    let system_events = events
      .unwrap_or_default()
      .split(',')
      .filter(|name| !name.trim().is_empty())
      .map(SystemEvent::parse)
      .collect::<Result<_, _>>()?;
    let presence: Vec<String> = presence
      .unwrap_or_default()
      .split(',')
      .filter(|name| !name.trim().is_empty())
      .map(str::to_owned)
      .collect();
    let handler = EventHandler {
      url_template: UrlTemplate::parse(&url)?,
      user_events: UserEventPattern::parse(user.as_deref().unwrap_or("")),
      system_events,
      group_presence: GroupPresenceFilter::parse(&presence, &[])?,
    };
    self.add(&hub, handler)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn url_templates_expand_hub_and_event() {
    let template = UrlTemplate::parse("http://localhost:3000/api/{hub}/{event}?x=1").unwrap();
    assert_eq!(
      template.expand("chat", "message"),
      "http://localhost:3000/api/chat/message?x=1"
    );
    assert_eq!(
      template.expand("chat", "a b/c"),
      "http://localhost:3000/api/chat/a%20b%2Fc?x=1"
    );
    let plain = UrlTemplate::parse("https://example.com/hook").unwrap();
    assert_eq!(plain.expand("chat", "connect"), "https://example.com/hook");
  }

  #[test]
  fn url_templates_are_checked() {
    assert!(UrlTemplate::parse("http://{event}.example.com/").is_err());
    assert!(UrlTemplate::parse("ftp://example.com/{event}").is_err());
    assert!(UrlTemplate::parse("/relative/{event}").is_err());
    assert!(UrlTemplate::parse("http://h:1/{hub}#{event}").is_ok());
  }

  #[test]
  fn user_event_patterns_match_case_insensitively() {
    assert!(UserEventPattern::parse("*").matches("anything"));
    assert!(UserEventPattern::parse("a, *").matches("b"));
    let list = UserEventPattern::parse("Message, chat");
    assert!(list.matches("message") && list.matches("CHAT"));
    assert!(!list.matches("other"));
    assert!(!UserEventPattern::parse("").matches("message"));
    assert!(UserEventPattern::parse("Single").matches("single"));
  }

  #[test]
  fn the_first_matching_handler_wins() {
    let mut settings = EventHandlerSettings::default();
    settings
      .add_spec("hub=Chat;url=http://a/{event};user=special")
      .unwrap();
    settings
      .add_spec("hub=chat;url=http://b/{event};events=connect,Connected;user=*")
      .unwrap();
    let url = |event: EventKind| {
      settings
        .handler_for("CHAT", &event)
        .map(|h| h.url_template.expand("chat", event.name()))
    };
    assert_eq!(
      url(EventKind::User("SPECIAL".into())).unwrap(),
      "http://a/SPECIAL"
    );
    assert_eq!(
      url(EventKind::User("other".into())).unwrap(),
      "http://b/other"
    );
    assert_eq!(
      url(EventKind::System(SystemEvent::Connected)).unwrap(),
      "http://b/connected"
    );
    assert_eq!(url(EventKind::System(SystemEvent::Disconnected)), None);
    assert!(settings
      .handler_for("other", &EventKind::User("x".into()))
      .is_none());
  }

  #[test]
  fn specs_report_mistakes() {
    let mut settings = EventHandlerSettings::default();
    assert!(settings.add_spec("url=http://a/").is_err());
    assert!(settings.add_spec("hub=chat").is_err());
    assert!(settings
      .add_spec("hub=chat;url=http://a/;events=bogus")
      .is_err());
    assert!(settings
      .add_spec("hub=chat;url=http://a/;color=red")
      .is_err());
    assert!(settings.add_spec("hub=1bad;url=http://a/").is_err());
    assert!(settings.is_empty());
  }

  #[test]
  fn json_settings_in_both_shapes() {
    let mut settings = EventHandlerSettings::default();
    settings
      .add_json(
        r#"{"hubs":{"chat":{"eventHandlers":[{"urlTemplate":"http://a/{event}",
          "userEventPattern":"*","systemEvents":["connect"],
          "groupPresenceEvents":{"eventNames":["joined"],"groupFilters":["room-*"]}}]}}}"#,
      )
      .unwrap();
    settings
      .add_json(
        r#"{"WebPubSub":{"Hubs":{"Other":{"EventHandlers":[{"UrlTemplate":"http://b/",
          "SystemEvents":["disconnected"]}]}}}}"#,
      )
      .unwrap();
    let chat = &settings.hub("chat")[0];
    assert!(chat.handles(&EventKind::System(SystemEvent::Connect)));
    assert!(chat.handles(&EventKind::User("m".into())));
    let other = &settings.hub("other")[0];
    assert!(other.handles(&EventKind::System(SystemEvent::Disconnected)));
    assert!(!other.handles(&EventKind::User("m".into())));
    assert!(matches!(
      settings.add_json(r#"{"hubs":{"chat":{"eventHandlers":[{}]}}}"#),
      Err(SettingsError::Json(_))
    ));
  }

  fn presence(event: PresenceEvent, group: &str) -> EventKind {
    EventKind::GroupPresence {
      event,
      group: group.to_owned(),
    }
  }

  #[test]
  fn group_presence_events_are_configured_as_the_service_configures_them() {
    let mut settings = EventHandlerSettings::default();
    settings
      .add_json(
        r#"{"hubs":{"chat":{"eventHandlers":[{"urlTemplate":"http://a/",
          "groupPresenceEvents":{"eventNames":["joined"],"groupFilters":["room-*"]}}]}}}"#,
      )
      .unwrap();
    settings
      .add_spec("hub=other;url=http://b/;presence=joined,LEFT")
      .unwrap();
    let chat = &settings.hub("chat")[0];
    assert!(chat.handles(&presence(PresenceEvent::Joined, "room-1")));
    assert!(!chat.handles(&presence(PresenceEvent::Joined, "lobby")));
    assert!(!chat.handles(&presence(PresenceEvent::Left, "room-1")));
    let other = &settings.hub("other")[0];
    assert!(other.handles(&presence(PresenceEvent::Left, "any")));
    assert_eq!(
      presence(PresenceEvent::Joined, "g").ce_type(),
      "azure.webpubsub.gp.joined"
    );
    assert_eq!(presence(PresenceEvent::Left, "g").name(), "left");

    assert_eq!(
      settings.add_spec("hub=chat;url=http://a/;events=joined"),
      Err(SettingsError::PresenceAsSystemEvent("joined".into()))
    );
    assert!(matches!(
      settings.add_json(
        r#"{"hubs":{"chat":{"eventHandlers":[{"urlTemplate":"http://a/",
          "groupPresenceEvents":{"eventNames":["moved"]}}]}}}"#
      ),
      Err(SettingsError::UnknownPresenceEvent(_))
    ));
  }
}
