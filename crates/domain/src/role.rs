//! Roles a person holds at an organization. Partner roles exist at partner organizations,
//! operator roles only at the operator.
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    Role {
        Signatory = "signatory",
        PrivacyContact = "privacy_contact",
        PrivacyAuditor = "privacy_auditor",
        Lra = "lra",
        Cpc = "cpc",
        LocalHelpDesk = "local_help_desk",
        EndUser = "end_user",
        AgentTier1 = "agent_tier1",
        AgentTier2 = "agent_tier2",
        GroupLead = "group_lead",
        IncidentCoordinator = "incident_coordinator",
        ChangeManager = "change_manager",
        ProblemManager = "problem_manager",
        PrivacyOffice = "privacy_office",
        SecurityTeam = "security_team",
        Administrator = "administrator",
    }
}

impl Role {
    pub fn is_operator_role(self) -> bool {
        !matches!(
            self,
            Role::Signatory
                | Role::PrivacyContact
                | Role::PrivacyAuditor
                | Role::Lra
                | Role::Cpc
                | Role::LocalHelpDesk
                | Role::EndUser
        )
    }

    /// Training modules that must be complete before the role becomes active
    /// (actors.md: Privacy Auditors and LRAs need e-learning and hands-on training).
    pub fn required_training(self) -> &'static [TrainingModule] {
        match self {
            Role::PrivacyAuditor | Role::Lra => {
                &[TrainingModule::Elearning, TrainingModule::HandsOn]
            }
            _ => &[],
        }
    }
}

string_enum! {
    TrainingModule {
        Elearning = "elearning",
        HandsOn = "hands_on",
    }
}

string_enum! {
    /// Whether a granted role is in force. A role waiting on training gives no rights.
    RoleStatus {
        Active = "active",
        PendingTraining = "pending_training",
    }
}

/// The status a role gets given the trainings the person has completed.
pub fn status_for(role: Role, completed: &[TrainingModule]) -> RoleStatus {
    if role
        .required_training()
        .iter()
        .all(|m| completed.contains(m))
    {
        RoleStatus::Active
    } else {
        RoleStatus::PendingTraining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn lra_waits_for_both_trainings() {
        assert_eq!(status_for(Role::Lra, &[]), RoleStatus::PendingTraining);
        assert_eq!(
            status_for(Role::Lra, &[TrainingModule::Elearning]),
            RoleStatus::PendingTraining
        );
        assert_eq!(
            status_for(
                Role::Lra,
                &[TrainingModule::HandsOn, TrainingModule::Elearning]
            ),
            RoleStatus::Active
        );
        assert_eq!(status_for(Role::EndUser, &[]), RoleStatus::Active);
    }
}
