//! Authorization in one place: role × action × resource.
//!
//! Handlers ask `allows` before acting; store queries take an `OrgScope` computed here, so
//! that organization isolation is part of every query and cannot be forgotten.
use crate::role::Role;

pub type OrgId = i64;
pub type PersonId = i64;

/// A role in force (active, not pending training) at an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub organization_id: OrgId,
    pub role: Role,
}

/// Who is acting: a signed-in person with the roles in force.
#[derive(Debug, Clone)]
pub struct Principal {
    pub person_id: PersonId,
    pub organization_id: OrgId,
    pub operator_org_id: OrgId,
    pub grants: Vec<Grant>,
}

/// The rows a principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    /// Every organization (operator staff).
    All,
    /// Only these organizations.
    Orgs(Vec<OrgId>),
    /// Only rows about this one person (an end user looking at people).
    Person(PersonId),
    /// Nothing.
    Nothing,
}

impl OrgScope {
    pub fn includes_org(&self, org: OrgId) -> bool {
        match self {
            OrgScope::All => true,
            OrgScope::Orgs(orgs) => orgs.contains(&org),
            OrgScope::Person(_) | OrgScope::Nothing => false,
        }
    }
}

/// What a principal wants to do, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewOrganization(OrgId),
    CreateOrganization,
    EditOrganization(OrgId),
    ViewPeople(OrgId),
    /// Create or edit accounts at the organization.
    ManagePeople(OrgId),
    GrantRole(OrgId, Role),
    RecordTraining(OrgId),
    ViewAudit,
    ViewOutbox,
    ManageSupportGroups,
    /// Raise a ticket for this organization.
    RaiseTicket(OrgId),
    /// Work tickets as the operator's agent: assign, transition, escalate, notes, links.
    WorkTickets,
    /// Edit the request catalogue and canned responses.
    EditCatalogue,
    /// Load and select policy pack versions; add and remove calendar closures
    /// (administrators only).
    ManagePolicy,
}

/// The tickets a principal may see. Restricted kinds are seen by their team and by the
/// people named on the ticket (reporter, raised for, assignee, watchers and shares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketScope {
    pub person_id: PersonId,
    /// Organizations whose unrestricted tickets are visible.
    pub orgs: OrgScope,
    pub privacy: bool,
    pub security: bool,
}

impl Principal {
    pub fn is_operator_staff(&self) -> bool {
        self.organization_id == self.operator_org_id
            && self
                .grants
                .iter()
                .any(|g| g.organization_id == self.operator_org_id)
    }

    pub fn has(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    fn has_at(&self, org: OrgId, role: Role) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.organization_id == org)
    }

    fn has_any_at(&self, org: OrgId, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_at(org, *r))
    }

    fn is_admin(&self) -> bool {
        self.has_at(self.operator_org_id, Role::Administrator)
    }

    pub fn allows(&self, action: Action) -> bool {
        if self.is_admin() {
            return true;
        }
        let own = |org: OrgId| org == self.organization_id;
        match action {
            Action::ViewOrganization(org) => own(org) || self.is_operator_staff(),
            Action::CreateOrganization | Action::EditOrganization(_) => false,
            Action::ViewPeople(org) => {
                self.is_operator_staff()
                    || (own(org)
                        && self.has_any_at(
                            org,
                            &[
                                Role::Signatory,
                                Role::Lra,
                                Role::LocalHelpDesk,
                                Role::Cpc,
                                Role::PrivacyContact,
                            ],
                        ))
            }
            Action::ManagePeople(org) => own(org) && self.has_at(org, Role::Lra),
            Action::GrantRole(org, role) => {
                if role.is_operator_role() || !own(org) {
                    return false;
                }
                match role {
                    Role::PrivacyContact | Role::Lra => self.has_at(org, Role::Signatory),
                    Role::PrivacyAuditor => self.has_at(org, Role::PrivacyContact),
                    Role::EndUser | Role::LocalHelpDesk => self.has_at(org, Role::Lra),
                    _ => self.has_at(org, Role::Signatory),
                }
            }
            Action::RecordTraining(_) => false,
            Action::ViewAudit => self.has(Role::PrivacyOffice) || self.has(Role::PrivacyAuditor),
            Action::ViewOutbox
            | Action::ManageSupportGroups
            | Action::EditCatalogue
            | Action::ManagePolicy => false,
            Action::RaiseTicket(org) => own(org) || self.is_agent(),
            Action::WorkTickets => self.is_agent(),
        }
    }

    /// Operator staff who work tickets.
    pub fn is_agent(&self) -> bool {
        self.is_admin()
            || self.has_any_at(
                self.operator_org_id,
                &[
                    Role::AgentTier1,
                    Role::AgentTier2,
                    Role::GroupLead,
                    Role::IncidentCoordinator,
                    Role::ChangeManager,
                    Role::ProblemManager,
                    Role::PrivacyOffice,
                    Role::SecurityTeam,
                ],
            )
    }

    /// Tickets this principal may see (actors.md "Who may see what").
    pub fn ticket_scope(&self) -> TicketScope {
        let orgs = if self.is_operator_staff() {
            OrgScope::All
        } else if self.has_any_at(
            self.organization_id,
            &[Role::LocalHelpDesk, Role::Lra, Role::Cpc],
        ) {
            OrgScope::Orgs(vec![self.organization_id])
        } else {
            OrgScope::Nothing
        };
        TicketScope {
            person_id: self.person_id,
            orgs,
            privacy: self.has_at(self.operator_org_id, Role::PrivacyOffice),
            security: self.has_at(self.operator_org_id, Role::SecurityTeam),
        }
    }

    /// Organizations whose records this principal may read.
    pub fn org_scope(&self) -> OrgScope {
        if self.is_operator_staff() {
            OrgScope::All
        } else {
            OrgScope::Orgs(vec![self.organization_id])
        }
    }

    /// People this principal may list.
    pub fn people_scope(&self) -> OrgScope {
        if self.is_admin() || self.is_operator_staff() {
            OrgScope::All
        } else if self.allows(Action::ViewPeople(self.organization_id)) {
            OrgScope::Orgs(vec![self.organization_id])
        } else {
            OrgScope::Person(self.person_id)
        }
    }

    /// Requests for portal credentials: the operator's group leads see all, an LRA their own
    /// organization's.
    pub fn credential_requests_scope(&self) -> OrgScope {
        if self.is_admin() || self.has_at(self.operator_org_id, Role::GroupLead) {
            OrgScope::All
        } else if self.has_at(self.organization_id, Role::Lra) {
            OrgScope::Orgs(vec![self.organization_id])
        } else {
            OrgScope::Nothing
        }
    }

    /// Audit rows this principal may read: the privacy office and administrators see all,
    /// a privacy auditor sees their own organization's.
    pub fn audit_scope(&self) -> OrgScope {
        if self.is_admin() || self.has_at(self.operator_org_id, Role::PrivacyOffice) {
            OrgScope::All
        } else if self.has_at(self.organization_id, Role::PrivacyAuditor) {
            OrgScope::Orgs(vec![self.organization_id])
        } else {
            OrgScope::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: OrgId = 1;
    const A: OrgId = 2;
    const B: OrgId = 3;

    fn principal(org: OrgId, roles: &[Role]) -> Principal {
        Principal {
            person_id: 10,
            organization_id: org,
            operator_org_id: OPERATOR,
            grants: roles
                .iter()
                .map(|r| Grant {
                    organization_id: org,
                    role: *r,
                })
                .collect(),
        }
    }

    #[test]
    fn administrator_may_do_everything() {
        let admin = principal(OPERATOR, &[Role::Administrator]);
        assert!(admin.allows(Action::EditOrganization(B)));
        assert!(admin.allows(Action::GrantRole(A, Role::Lra)));
        assert_eq!(admin.org_scope(), OrgScope::All);
    }

    #[test]
    fn partner_roles_stay_in_their_organization() {
        let lra = principal(A, &[Role::Lra]);
        assert!(lra.allows(Action::ManagePeople(A)));
        assert!(!lra.allows(Action::ManagePeople(B)));
        assert!(lra.allows(Action::GrantRole(A, Role::EndUser)));
        assert!(!lra.allows(Action::GrantRole(A, Role::Lra)));
        assert!(!lra.allows(Action::GrantRole(A, Role::Administrator)));
        assert!(!lra.allows(Action::ViewOrganization(B)));
        assert_eq!(lra.org_scope(), OrgScope::Orgs(vec![A]));
        assert_eq!(lra.people_scope(), OrgScope::Orgs(vec![A]));
        assert_eq!(lra.credential_requests_scope(), OrgScope::Orgs(vec![A]));
        assert_eq!(
            principal(A, &[Role::Signatory]).credential_requests_scope(),
            OrgScope::Nothing
        );
        assert_eq!(
            principal(OPERATOR, &[Role::GroupLead]).credential_requests_scope(),
            OrgScope::All
        );
    }

    #[test]
    fn signatory_appoints_privacy_contact_and_lra() {
        let signatory = principal(A, &[Role::Signatory]);
        assert!(signatory.allows(Action::GrantRole(A, Role::PrivacyContact)));
        assert!(signatory.allows(Action::GrantRole(A, Role::Lra)));
        assert!(!signatory.allows(Action::GrantRole(B, Role::Lra)));
        let pc = principal(A, &[Role::PrivacyContact]);
        assert!(pc.allows(Action::GrantRole(A, Role::PrivacyAuditor)));
    }

    #[test]
    fn end_user_sees_only_self() {
        let user = principal(A, &[Role::EndUser]);
        assert_eq!(user.people_scope(), OrgScope::Person(10));
        assert!(!user.allows(Action::ViewAudit));
        assert_eq!(user.audit_scope(), OrgScope::Nothing);
        assert!(user.allows(Action::ViewOrganization(A)));
    }

    #[test]
    fn agents_see_all_organizations_but_cannot_edit_them() {
        let agent = principal(OPERATOR, &[Role::AgentTier1]);
        assert_eq!(agent.org_scope(), OrgScope::All);
        assert!(agent.allows(Action::ViewOrganization(B)));
        assert!(!agent.allows(Action::EditOrganization(B)));
        assert!(!agent.allows(Action::ViewOutbox));
    }

    #[test]
    fn ticket_visibility_follows_roles() {
        let user = principal(A, &[Role::EndUser]);
        let scope = user.ticket_scope();
        assert_eq!(scope.orgs, OrgScope::Nothing);
        assert!(!scope.privacy && !scope.security);
        assert!(user.allows(Action::RaiseTicket(A)));
        assert!(!user.allows(Action::RaiseTicket(B)));
        assert!(!user.allows(Action::WorkTickets));
        let desk = principal(A, &[Role::LocalHelpDesk]);
        assert_eq!(desk.ticket_scope().orgs, OrgScope::Orgs(vec![A]));
        let agent = principal(OPERATOR, &[Role::AgentTier1]);
        assert_eq!(agent.ticket_scope().orgs, OrgScope::All);
        assert!(!agent.ticket_scope().privacy);
        assert!(agent.allows(Action::WorkTickets));
        assert!(agent.allows(Action::RaiseTicket(B)));
        let privacy = principal(OPERATOR, &[Role::PrivacyOffice]);
        assert!(privacy.ticket_scope().privacy);
        assert!(!privacy.ticket_scope().security);
        let admin = principal(OPERATOR, &[Role::Administrator]);
        assert!(
            !admin.ticket_scope().privacy,
            "administrators do not read privacy tickets"
        );
        assert!(admin.allows(Action::EditCatalogue));
        assert!(admin.allows(Action::ManagePolicy));
        assert!(!agent.allows(Action::ManagePolicy));
        assert!(!principal(OPERATOR, &[Role::GroupLead]).allows(Action::ManagePolicy));
    }

    #[test]
    fn privacy_auditor_reads_own_audit() {
        let pa = principal(A, &[Role::PrivacyAuditor]);
        assert_eq!(pa.audit_scope(), OrgScope::Orgs(vec![A]));
        let office = principal(OPERATOR, &[Role::PrivacyOffice]);
        assert_eq!(office.audit_scope(), OrgScope::All);
    }
}
