//! Turns an `OrgScope` into SQL. Ids are integers from our own rows, never user text, so
//! they are written into the statement; everything user-supplied is bound.
use domain::policy::OrgScope;

/// A condition on `org_column` (and `person_column` for `OrgScope::Person`).
pub fn condition(scope: &OrgScope, org_column: &str, person_column: Option<&str>) -> String {
    match scope {
        OrgScope::All => "1 = 1".to_owned(),
        OrgScope::Orgs(orgs) if orgs.is_empty() => "1 = 0".to_owned(),
        OrgScope::Orgs(orgs) => {
            let list: Vec<String> = orgs.iter().map(i64::to_string).collect();
            format!("{org_column} IN ({})", list.join(", "))
        }
        OrgScope::Person(person) => match person_column {
            Some(column) => format!("{column} = {person}"),
            None => "1 = 0".to_owned(),
        },
        OrgScope::Nothing => "1 = 0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_render() {
        assert_eq!(condition(&OrgScope::All, "o.id", None), "1 = 1");
        assert_eq!(
            condition(&OrgScope::Orgs(vec![2, 5]), "p.organization_id", None),
            "p.organization_id IN (2, 5)"
        );
        assert_eq!(
            condition(&OrgScope::Person(7), "p.organization_id", Some("p.id")),
            "p.id = 7"
        );
        assert_eq!(condition(&OrgScope::Person(7), "o.id", None), "1 = 0");
        assert_eq!(condition(&OrgScope::Nothing, "o.id", None), "1 = 0");
    }
}
