//! The organizations, services and support groups that raising a ticket checks and names,
//! kept in memory for a few seconds (see [`crate::fresh`]): every ticket reads them.
use crate::error::AppResult;
use crate::fresh::Fresh;
use std::sync::Arc;
use store::Conn;
use store::groups::SupportGroup;
use store::orgs::{Organization, Service};

pub struct Snapshot {
    pub organizations: Vec<Organization>,
    pub services: Vec<Service>,
    pub groups: Vec<SupportGroup>,
}

impl Snapshot {
    pub fn organization(&self, id: i64) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }
    pub fn organization_by_code(&self, code: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.code.eq_ignore_ascii_case(code))
    }
    pub fn service(&self, id: i64) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
    pub fn group(&self, id: i64) -> Option<&SupportGroup> {
        self.groups.iter().find(|g| g.id == id)
    }
    /// The group with this code, else the first tier-1 group.
    pub fn group_or_first_line(&self, code: &str) -> Option<&SupportGroup> {
        self.groups
            .iter()
            .find(|g| g.code == code)
            .or_else(|| self.groups.iter().find(|g| g.tier == 1))
    }
}

#[derive(Default)]
pub struct Directory {
    cached: Fresh<Snapshot>,
}

impl Directory {
    pub async fn get(&self, conn: &mut Conn) -> AppResult<Arc<Snapshot>> {
        if let Some(snapshot) = self.cached.get() {
            return Ok(snapshot);
        }
        Ok(self.cached.put(Snapshot {
            organizations: store::orgs::list(conn, &domain::policy::OrgScope::All).await?,
            services: store::orgs::services(conn).await?,
            groups: store::groups::groups(conn).await?,
        }))
    }

    /// Called after an edit of organizations, services or groups on this node.
    pub fn changed(&self) {
        self.cached.clear();
    }
}
