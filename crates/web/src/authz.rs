//! Authorisation: every route names one [`Action`], and Cedar decides
//! whether the signed-in user may take it on the council the route is
//! about. The policies are in `policies.cedar`, checked against
//! `warden.cedarschema` when the service starts; nothing outside this
//! module asks what role someone holds.

use cedar_policy::{
    Authorizer as Engine, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use domain::PersonId;
use domain::estate::Person;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

const POLICIES: &str = include_str!("policies.cedar");
const SCHEMA: &str = include_str!("warden.cedarschema");

/// What a request does, in the words the policies use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    SelfService,
    ReportIncident,
    ViewRegisters,
    ViewFindings,
    ManagePeople,
    ManageDevices,
    ManageAccess,
    ApproveRemoval,
    ManagePolicies,
    AssessIncident,
    HandleIncident,
    ManageAccounts,
    CorrectRecords,
    ViewTeam,
    ImportRecords,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::SelfService,
        Action::ReportIncident,
        Action::ViewRegisters,
        Action::ViewFindings,
        Action::ManagePeople,
        Action::ManageDevices,
        Action::ManageAccess,
        Action::ApproveRemoval,
        Action::ManagePolicies,
        Action::AssessIncident,
        Action::HandleIncident,
        Action::ManageAccounts,
        Action::CorrectRecords,
        Action::ViewTeam,
        Action::ImportRecords,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::SelfService => "self_service",
            Action::ReportIncident => "report_incident",
            Action::ViewRegisters => "view_registers",
            Action::ViewFindings => "view_findings",
            Action::ManagePeople => "manage_people",
            Action::ManageDevices => "manage_devices",
            Action::ManageAccess => "manage_access",
            Action::ApproveRemoval => "approve_removal",
            Action::ManagePolicies => "manage_policies",
            Action::AssessIncident => "assess_incident",
            Action::HandleIncident => "handle_incident",
            Action::ManageAccounts => "manage_accounts",
            Action::CorrectRecords => "correct_records",
            Action::ViewTeam => "view_team",
            Action::ImportRecords => "import_records",
        }
    }
}

/// The service's roles. A person's come from the roles the estate records
/// for them, so granting or revoking a role is an event in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebRole {
    IctAdmin,
    InformationGovernance,
    Siro,
    Manager,
    Member,
}

impl WebRole {
    pub const ALL: [WebRole; 5] = [
        WebRole::IctAdmin,
        WebRole::InformationGovernance,
        WebRole::Siro,
        WebRole::Manager,
        WebRole::Member,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WebRole::IctAdmin => "ict_admin",
            WebRole::InformationGovernance => "information_governance",
            WebRole::Siro => "siro",
            WebRole::Manager => "manager",
            WebRole::Member => "member",
        }
    }

    /// The estate roles that confer a service role (`from_estate`).
    pub const ESTATE_ROLES: [&'static str; 8] = [
        "ict_admin",
        "information_governance",
        "dpo",
        "siro",
        "manager",
        "head_of_service",
        "town_clerk",
        "head_of_democratic_services",
    ];

    /// The service role an estate role confers, if any. Councils' own role
    /// names differ; these are the ones the packs and the generator use.
    pub fn from_estate(role: &str) -> Option<WebRole> {
        match role {
            "ict_admin" => Some(WebRole::IctAdmin),
            "dpo" | "information_governance" => Some(WebRole::InformationGovernance),
            "siro" => Some(WebRole::Siro),
            "manager" | "head_of_service" | "town_clerk" | "head_of_democratic_services" => {
                Some(WebRole::Manager)
            }
            _ => None,
        }
    }

    /// Every service role of a person: `member` and whatever their estate
    /// roles confer.
    pub fn of(person: &Person) -> Vec<WebRole> {
        let mut roles = vec![WebRole::Member];
        for role in person.roles.iter() {
            if let Some(r) = WebRole::from_estate(role.as_str())
                && !roles.contains(&r)
            {
                roles.push(r);
            }
        }
        roles.sort();
        roles
    }
}

/// Someone signed in.
#[derive(Clone, Debug)]
pub struct User {
    pub council: String,
    pub person: PersonId,
    pub name: String,
    pub roles: Vec<WebRole>,
}

impl User {
    pub fn has(&self, role: WebRole) -> bool {
        self.roles.contains(&role)
    }
}

/// What a request is about: a council's data as a whole, or one person of
/// it (a route under `/people/{person}`), whose recorded manager decides
/// whether a manager may reach them.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    Council(&'a str),
    Person {
        council: &'a str,
        person: &'a str,
        manager: Option<&'a str>,
    },
}

pub struct Authorizer {
    policies: PolicySet,
    engine: Engine,
}

#[derive(Debug, thiserror::Error)]
#[error("the authorisation policies are invalid: {0}")]
pub struct BadPolicies(String);

impl Authorizer {
    /// Parses the policies and validates them against the schema, strictly:
    /// a misspelt action or attribute stops the service from starting.
    pub fn new() -> Result<Authorizer, BadPolicies> {
        let policies = PolicySet::from_str(POLICIES).map_err(|e| BadPolicies(e.to_string()))?;
        let (schema, _) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| BadPolicies(e.to_string()))?;
        let result = Validator::new(schema).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
            return Err(BadPolicies(errors.join("; ")));
        }
        Ok(Authorizer {
            policies,
            engine: Engine::new(),
        })
    }

    /// Whether `user` may take `action` on `council`'s data as a whole.
    pub fn allows(&self, user: &User, action: Action, council: &str) -> bool {
        self.allows_on(user, action, &Resource::Council(council))
    }

    /// Whether `user` may take `action` on `resource`.
    pub fn allows_on(&self, user: &User, action: Action, resource: &Resource<'_>) -> bool {
        match self.decide(user, action, resource) {
            Ok(decision) => decision == Decision::Allow,
            Err(why) => {
                tracing::error!(%why, "authorisation request could not be built; denied");
                false
            }
        }
    }

    fn decide(&self, user: &User, action: Action, on: &Resource<'_>) -> Result<Decision, String> {
        let principal = uid("User", &format!("{}/{}", user.council, user.person))?;
        let action_uid = uid("Action", action.name())?;
        let string = |s: &str| RestrictedExpression::new_string(s.to_owned());
        let user_entity = Entity::new(
            principal.clone(),
            HashMap::from([
                ("council".to_owned(), string(&user.council)),
                ("person".to_owned(), string(user.person.as_str())),
                (
                    "roles".to_owned(),
                    RestrictedExpression::new_set(user.roles.iter().map(|r| string(r.name()))),
                ),
            ]),
            HashSet::new(),
        )
        .map_err(|e| e.to_string())?;
        let (resource, attributes) = match on {
            Resource::Council(council) => (
                uid("Council", council)?,
                HashMap::from([("council".to_owned(), string(council))]),
            ),
            Resource::Person {
                council,
                person,
                manager,
            } => (
                uid("Person", &format!("{council}/{person}"))?,
                HashMap::from([
                    ("council".to_owned(), string(council)),
                    ("person".to_owned(), string(person)),
                    // No manager recorded: nobody's team.
                    ("manager".to_owned(), string(manager.unwrap_or(""))),
                ]),
            ),
        };
        let resource_entity =
            Entity::new(resource.clone(), attributes, HashSet::new()).map_err(|e| e.to_string())?;
        let entities = Entities::from_entities([user_entity, resource_entity], None)
            .map_err(|e| e.to_string())?;
        let request = Request::new(principal, action_uid, resource, Context::empty(), None)
            .map_err(|e| e.to_string())?;
        Ok(self
            .engine
            .is_authorized(&request, &self.policies, &entities)
            .decision())
    }
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let name = EntityTypeName::from_str(&format!("Warden::{kind}")).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(name, EntityId::new(id)))
}
