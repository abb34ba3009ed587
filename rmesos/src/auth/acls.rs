//! Authorization: Mesos's local authorizer, its ACLs and their JSON.
//!
//! `--acls` holds Mesos's JSON (inline, or a file `/path` / `file:///path`):
//! a `permissive` flag (default true) and, per action, a list of rules
//! `{"principals": <entity>, "<objects>": <entity>}`, where an entity is
//! `{"values": [..]}` (some), `{"type": "ANY"}` or `{"type": "NONE"}`.
//! Rules are tried in order; the first whose subject and object both
//! *match* the request decides, by whether they both *allow* it; when no
//! rule matches, `permissive` decides. The two tables, as Mesos's local
//! authorizer defines them (rows: the request; columns: the rule):
//!
//! ```text
//!   match    SOME     NONE   ANY        allow    SOME     NONE   ANY
//!   SOME     subset   yes    yes        SOME     subset   no     yes
//!   NONE     no       yes    no         NONE     no       no     yes
//!   ANY      no       yes    yes        ANY      no       no     yes
//! ```
//!
//! A request without a principal (a framework that did not authenticate)
//! is subject ANY; a request about "every object" is object ANY. So a rule
//! `{"principals": {"type": "NONE"}, "roles": {"values": ["prod"]}}` denies
//! role `prod` to everybody that an earlier rule did not admit.
//!
//! Choices:
//! - An unknown action key, a missing or unknown entity, or an entity type
//!   other than SOME/ANY/NONE is refused at start with a clear error (an
//!   ACL with a typo that silently permits is worse than a master that does
//!   not start). Actions and their object fields are Mesos's (see
//!   [`Action::ALL`]); the deprecated `set_quotas` / `remove_quotas` are
//!   accepted with their old object fields.
//! - Values are compared exactly (Mesos's `eng/%` role wildcards are not
//!   supported yet: such a value only matches the role literally named so).
//! - Pure: parsing and deciding read no clock and no file but the one
//!   [`Acls::load`] is given; the master calls [`Acls::allows`] from its
//!   gate, its core (for `run_tasks`) and its HTTP shell.

use std::collections::BTreeMap;

use serde_json::Value;

/// An authorizable action: its `--acls` key and the name of its object field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    RegisterFrameworks,
    RunTasks,
    TeardownFrameworks,
    ReserveResources,
    UnreserveResources,
    CreateVolumes,
    DestroyVolumes,
    GetQuotas,
    UpdateQuotas,
    SetQuotas,
    RemoveQuotas,
    ViewRoles,
    GetEndpoints,
    UpdateWeights,
    ViewFrameworks,
    ViewExecutors,
    ViewTasks,
    AccessSandboxes,
    AccessMesosLogs,
    RegisterAgents,
    MarkAgentsGone,
    ViewFlags,
    SetLogLevel,
}

impl Action {
    /// Every action, with its JSON key and its object field.
    pub const ALL: [(Action, &'static str, &'static str); 23] = [
        (Action::RegisterFrameworks, "register_frameworks", "roles"),
        (Action::RunTasks, "run_tasks", "users"),
        (Action::TeardownFrameworks, "teardown_frameworks", "framework_principals"),
        (Action::ReserveResources, "reserve_resources", "roles"),
        (Action::UnreserveResources, "unreserve_resources", "reserver_principals"),
        (Action::CreateVolumes, "create_volumes", "roles"),
        (Action::DestroyVolumes, "destroy_volumes", "creator_principals"),
        (Action::GetQuotas, "get_quotas", "roles"),
        (Action::UpdateQuotas, "update_quotas", "roles"),
        (Action::SetQuotas, "set_quotas", "roles"),
        (Action::RemoveQuotas, "remove_quotas", "quota_principals"),
        (Action::ViewRoles, "view_roles", "roles"),
        (Action::GetEndpoints, "get_endpoints", "paths"),
        (Action::UpdateWeights, "update_weights", "roles"),
        (Action::ViewFrameworks, "view_frameworks", "users"),
        (Action::ViewExecutors, "view_executors", "users"),
        (Action::ViewTasks, "view_tasks", "users"),
        (Action::AccessSandboxes, "access_sandboxes", "users"),
        (Action::AccessMesosLogs, "access_mesos_logs", "logs"),
        (Action::RegisterAgents, "register_agents", "agents"),
        (Action::MarkAgentsGone, "mark_agents_gone", "agents"),
        (Action::ViewFlags, "view_flags", "flags"),
        (Action::SetLogLevel, "set_log_level", "level"),
    ];

    /// The `--acls` key of this action.
    pub fn key(self) -> &'static str {
        Self::ALL.iter().find(|(a, _, _)| *a == self).map(|(_, k, _)| *k).unwrap_or("?")
    }
}

/// Who or what a rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// These values (`{"values": [..]}`, type SOME).
    Some(Vec<String>),
    /// Everybody / everything.
    Any,
    /// Nobody / nothing.
    None,
}

impl Entity {
    fn parse(v: &Value, what: &str) -> Result<Entity, AclsError> {
        let bad = |why: &str| AclsError::Invalid(format!("{what}: {why}"));
        let obj = v.as_object().ok_or_else(|| bad("an entity is a JSON object"))?;
        for k in obj.keys() {
            if k != "type" && k != "values" {
                return Err(bad(&format!("unknown field '{k}' (an entity has 'type' or 'values')")));
            }
        }
        let values = match obj.get("values") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(|| bad("'values' are strings")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("'values' is a list of strings")),
        };
        match obj.get("type").map(|t| t.as_str()) {
            None | Some(Some("SOME")) => Ok(Entity::Some(values)),
            Some(Some("ANY")) if values.is_empty() => Ok(Entity::Any),
            Some(Some("NONE")) if values.is_empty() => Ok(Entity::None),
            Some(Some(t @ ("ANY" | "NONE"))) => Err(bad(&format!("type {t} takes no 'values'"))),
            Some(Some(t)) => Err(bad(&format!("unknown type '{t}' (SOME, ANY or NONE)"))),
            Some(None) => Err(bad("'type' is a string")),
        }
    }

    /// Whether a request entity (`Some` of one value, or `Any`) is matched
    /// by this rule entity.
    fn matches(&self, request: &Entity) -> bool {
        match (request, self) {
            (_, Entity::None) => true,
            (Entity::Some(_), Entity::Any) | (Entity::Any, Entity::Any) => true,
            (Entity::Some(r), Entity::Some(acl)) => r.iter().all(|v| acl.contains(v)),
            _ => false,
        }
    }

    /// Whether this rule entity allows a request entity it matches.
    fn allows(&self, request: &Entity) -> bool {
        match (request, self) {
            (_, Entity::Any) => true,
            (Entity::Some(r), Entity::Some(acl)) => r.iter().all(|v| acl.contains(v)),
            _ => false,
        }
    }
}

/// One rule of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub principals: Entity,
    pub objects: Entity,
}

/// Parsed `--acls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acls {
    pub permissive: bool,
    rules: BTreeMap<Action, Vec<Rule>>,
}

impl Default for Acls {
    /// No ACLs: everything is permitted (Mesos without `--acls`).
    fn default() -> Acls {
        Acls { permissive: true, rules: BTreeMap::new() }
    }
}

/// Why `--acls` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclsError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("invalid ACLs: {0}")]
    Invalid(String),
}

impl Acls {
    /// Reads `--acls`: inline JSON, or a file `/path` / `file:///path`.
    pub fn load(flag: &str) -> Result<Acls, AclsError> {
        let text = flag.trim();
        if text.starts_with('{') {
            return Acls::parse(text);
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        let body = std::fs::read_to_string(path).map_err(|e| AclsError::Read(path.to_string(), e.to_string()))?;
        Acls::parse(&body)
    }

    /// Parses Mesos's ACL JSON.
    pub fn parse(json: &str) -> Result<Acls, AclsError> {
        let v: Value = serde_json::from_str(json).map_err(|e| AclsError::Invalid(e.to_string()))?;
        let obj = v.as_object().ok_or_else(|| AclsError::Invalid("the ACLs are a JSON object".into()))?;
        let mut acls = Acls::default();
        for (key, val) in obj {
            if key == "permissive" {
                acls.permissive =
                    val.as_bool().ok_or_else(|| AclsError::Invalid("'permissive' is true or false".into()))?;
                continue;
            }
            let Some(&(action, _, object)) = Action::ALL.iter().find(|(_, k, _)| k == key) else {
                let known: Vec<&str> = Action::ALL.iter().map(|(_, k, _)| *k).collect();
                return Err(AclsError::Invalid(format!("unknown action '{key}' (known: {})", known.join(", "))));
            };
            let list = val.as_array().ok_or_else(|| AclsError::Invalid(format!("'{key}' is a list of rules")))?;
            let mut rules = Vec::with_capacity(list.len());
            for (i, rule) in list.iter().enumerate() {
                let at = |f: &str| format!("{key}[{i}].{f}");
                let r = rule.as_object().ok_or_else(|| AclsError::Invalid(format!("{key}[{i}] is an object")))?;
                for k in r.keys() {
                    if k != "principals" && k != object {
                        return Err(AclsError::Invalid(format!(
                            "{key}[{i}]: unknown field '{k}' (a rule has 'principals' and '{object}')"
                        )));
                    }
                }
                let field = |f: &str| r.get(f).ok_or_else(|| AclsError::Invalid(format!("{} is missing", at(f))));
                rules.push(Rule {
                    principals: Entity::parse(field("principals")?, &at("principals"))?,
                    objects: Entity::parse(field(object)?, &at(object))?,
                });
            }
            acls.rules.insert(action, rules);
        }
        Ok(acls)
    }

    /// Whether `principal` (None: unauthenticated, matched as ANY) may
    /// perform `action` on `object` (None: on every object, matched as ANY).
    pub fn allows(&self, action: Action, principal: Option<&str>, object: Option<&str>) -> bool {
        let request = |v: Option<&str>| v.map_or(Entity::Any, |v| Entity::Some(vec![v.to_string()]));
        let (subject, object) = (request(principal), request(object));
        for rule in self.rules.get(&action).into_iter().flatten() {
            if rule.principals.matches(&subject) && rule.objects.matches(&object) {
                return rule.principals.allows(&subject) && rule.objects.allows(&object);
            }
        }
        self.permissive
    }

    /// Whether any rule is configured for `action` (callers skip work, e.g.
    /// filtering `/state`, when none is and everything is permitted).
    pub fn restricts(&self, action: Action) -> bool {
        !self.permissive || self.rules.get(&action).is_some_and(|r| !r.is_empty())
    }
}

#[cfg(test)]
#[path = "acls_tests.rs"]
mod tests;
