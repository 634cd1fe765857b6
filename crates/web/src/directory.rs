//! The organizations, services and support groups that raising a ticket checks and names,
//! kept in memory for a few seconds. They change rarely (an administrator's edit) and every
//! ticket reads them. An edit on this node is seen at once; an edit on another node behind
//! the same database within [`TTL`].
use crate::error::AppResult;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use store::Conn;
use store::groups::SupportGroup;
use store::orgs::{Organization, Service};

pub const TTL: Duration = Duration::from_secs(5);

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
    cached: RwLock<Option<(Instant, Arc<Snapshot>)>>,
}

impl Directory {
    pub async fn get(&self, conn: &mut Conn) -> AppResult<Arc<Snapshot>> {
        if let Some((at, snapshot)) = self.cached.read().expect("directory lock").as_ref()
            && at.elapsed() < TTL
        {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(Snapshot {
            organizations: store::orgs::list(conn, &domain::policy::OrgScope::All).await?,
            services: store::orgs::services(conn).await?,
            groups: store::groups::groups(conn).await?,
        });
        *self.cached.write().expect("directory lock") = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }

    /// Called after an edit of organizations, services or groups on this node.
    pub fn changed(&self) {
        *self.cached.write().expect("directory lock") = None;
    }
}
