//! A snapshot of what the emulator holds: per hub, its connections (user, subprotocol, roles, groups),
//! its groups with their members and its users with their connections.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::state::{Hub, Hubs};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSnapshot {
  pub connection_id: String,
  pub user_id: Option<String>,
  /// `None` for raw clients.
  pub subprotocol: Option<String>,
  pub roles: Vec<String>,
  pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubSnapshot {
  /// The hub's name, lower-cased.
  pub name: String,
  /// Ordered by connection id.
  pub connections: Vec<ConnectionSnapshot>,
  /// Group name to member connection ids.
  pub groups: BTreeMap<String, Vec<String>>,
  /// User id to connection ids.
  pub users: BTreeMap<String, Vec<String>>,
}

/// Every hub (or only `hub`, case-insensitive), ordered by name.
pub fn snapshot(hubs: &Hubs, hub: Option<&str>) -> Vec<HubSnapshot> {
  let mut found = match hub {
    Some(name) => hubs.find(name).into_iter().collect(),
    None => hubs.all(),
  };
  found.sort_by(|a, b| a.name().cmp(b.name()));
  found.iter().map(|hub| hub_snapshot(hub)).collect()
}

fn hub_snapshot(hub: &Hub) -> HubSnapshot {
  let mut connections: Vec<ConnectionSnapshot> = hub
    .connections()
    .iter()
    .map(|conn| ConnectionSnapshot {
      connection_id: conn.id.clone(),
      user_id: conn.user_id.clone(),
      subprotocol: conn.protocol.clone(),
      roles: conn.roles.names().to_vec(),
      groups: conn.groups(),
    })
    .collect();
  connections.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
  let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
  let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
  for conn in &connections {
    for group in &conn.groups {
      groups
        .entry(group.clone())
        .or_default()
        .push(conn.connection_id.clone());
    }
    if let Some(user) = &conn.user_id {
      users
        .entry(user.clone())
        .or_default()
        .push(conn.connection_id.clone());
    }
  }
  HubSnapshot {
    name: hub.name().to_owned(),
    connections,
    groups,
    users,
  }
}
