//! A simple configuration management database: the configuration items behind the
//! exchange's services (applications, interfaces, network connections, certificates,
//! environments, sites), who owns them, and how they depend on each other. Incidents,
//! problems, changes and the status page name them.
use crate::problem::labelled_enum;
use std::collections::{BTreeSet, HashMap, VecDeque};

labelled_enum! {
    /// What a configuration item is.
    CiKind ("configuration item kind") {
        Application = "application" => ("Application", "Application"),
        Interface = "interface" => ("Interface", "Interface"),
        NetworkConnection = "network_connection" => ("Network connection", "Connexion réseau"),
        Certificate = "certificate" => ("Certificate", "Certificat"),
        Environment = "environment" => ("Environment", "Environnement"),
        Site = "site" => ("Site", "Site"),
        Server = "server" => ("Server", "Serveur"),
    }
}

labelled_enum! {
    /// How one item relates to another, read "from … to".
    RelationKind ("relation kind") {
        DependsOn = "depends_on" => ("depends on", "dépend de"),
        RunsOn = "runs_on" => ("runs on", "s'exécute sur"),
        ConnectsTo = "connects_to" => ("connects to", "se connecte à"),
        PartOf = "part_of" => ("is part of", "fait partie de"),
    }
}

labelled_enum! {
    CiStatus ("configuration item status") {
        Active = "active" => ("Active", "Actif"),
        Retired = "retired" => ("Retired", "Retiré"),
    }
}

/// Why a code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    Empty,
    TooLong,
    InvalidCharacters,
}

/// A configuration item's code: 1 to 60 lowercase letters, digits, dots, dashes and
/// underscores (`hl7-engine-prod`, `cert.viewer.2026`), as typed in tickets and changes.
pub fn normalize_code(code: &str) -> Result<String, CodeProblem> {
    let code = code.trim().to_ascii_lowercase();
    if code.is_empty() {
        return Err(CodeProblem::Empty);
    }
    if code.len() > 60 {
        return Err(CodeProblem::TooLong);
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(CodeProblem::InvalidCharacters);
    }
    Ok(code)
}

/// A relation between two items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Relation {
    pub from: i64,
    pub to: i64,
    pub kind: RelationKind,
}

/// Why a relation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationProblem {
    /// An item cannot relate to itself.
    SelfRelation,
    /// The relation would close a loop of dependencies (`a` needs `b` needs `a`).
    Cycle,
}

impl RelationProblem {
    pub fn code(self) -> &'static str {
        match self {
            RelationProblem::SelfRelation => "self_relation",
            RelationProblem::Cycle => "relation_cycle",
        }
    }
}

/// Checks a new relation against the existing ones: no item relates to itself, and no
/// chain of relations comes back to where it started (each kind says "`from` needs `to`",
/// so a loop would make every item on it the cause of its own outage).
pub fn check_relation(existing: &[Relation], new: Relation) -> Result<(), RelationProblem> {
    if new.from == new.to {
        return Err(RelationProblem::SelfRelation);
    }
    // A loop exists if `from` can already be reached from `to`.
    let mut needs: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in existing {
        needs.entry(r.from).or_default().push(r.to);
    }
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([new.to]);
    while let Some(item) = queue.pop_front() {
        if item == new.from {
            return Err(RelationProblem::Cycle);
        }
        if seen.insert(item) {
            queue.extend(needs.get(&item).into_iter().flatten().copied());
        }
    }
    Ok(())
}

/// Everything an outage of `item` can reach: the items that need it, directly or through
/// others, nearest first (each once, with its distance).
pub fn impacted_by(relations: &[Relation], item: i64) -> Vec<(i64, usize)> {
    let mut needed_by: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in relations {
        needed_by.entry(r.to).or_default().push(r.from);
    }
    for list in needed_by.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    let mut seen = BTreeSet::from([item]);
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(item, 0usize)]);
    while let Some((current, distance)) = queue.pop_front() {
        for &next in needed_by.get(&current).into_iter().flatten() {
            if seen.insert(next) {
                out.push((next, distance + 1));
                queue.push_back((next, distance + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rel(from: i64, to: i64) -> Relation {
        Relation {
            from,
            to,
            kind: RelationKind::DependsOn,
        }
    }

    #[test]
    fn codes_are_normalized_and_checked() {
        assert_eq!(
            normalize_code(" HL7-Engine.Prod ").unwrap(),
            "hl7-engine.prod"
        );
        assert_eq!(normalize_code("  "), Err(CodeProblem::Empty));
        assert_eq!(normalize_code("a b"), Err(CodeProblem::InvalidCharacters));
        assert_eq!(normalize_code("é"), Err(CodeProblem::InvalidCharacters));
        assert_eq!(normalize_code(&"x".repeat(61)), Err(CodeProblem::TooLong));
    }

    #[test]
    fn kinds_read_and_write_their_names() {
        for kind in CiKind::ALL {
            assert_eq!(CiKind::from_str(kind.as_str()).unwrap(), kind);
        }
        assert!(CiKind::from_str("toaster").is_err());
        assert_eq!(
            RelationKind::RunsOn.label(crate::text::Locale::Fr),
            "s'exécute sur"
        );
    }

    #[test]
    fn loops_and_self_relations_are_refused() {
        let existing = [rel(1, 2), rel(2, 3)];
        assert_eq!(
            check_relation(&existing, rel(4, 4)),
            Err(RelationProblem::SelfRelation)
        );
        assert_eq!(
            check_relation(&existing, rel(3, 1)),
            Err(RelationProblem::Cycle)
        );
        assert_eq!(
            check_relation(&existing, rel(2, 1)),
            Err(RelationProblem::Cycle)
        );
        assert!(
            check_relation(&existing, rel(1, 3)).is_ok(),
            "a shortcut is no loop"
        );
        assert!(check_relation(&existing, rel(4, 1)).is_ok());
    }

    #[test]
    fn an_outage_reaches_everything_that_needs_the_item_nearest_first() {
        // viewer(1) → hl7 engine(2) → server(3); lab feed(4) → hl7 engine(2); 5 unrelated.
        let relations = [rel(1, 2), rel(2, 3), rel(4, 2), rel(5, 6)];
        assert_eq!(impacted_by(&relations, 3), vec![(2, 1), (1, 2), (4, 2)]);
        assert_eq!(impacted_by(&relations, 1), vec![]);
        assert_eq!(impacted_by(&relations, 6), vec![(5, 1)]);
    }

    proptest::proptest! {
        /// Relations accepted one by one never form a loop, so impact always ends.
        #[test]
        fn accepted_relations_never_loop(pairs in proptest::collection::vec((0i64..8, 0i64..8), 0..40)) {
            let mut accepted: Vec<Relation> = Vec::new();
            for (from, to) in pairs {
                let r = rel(from, to);
                if check_relation(&accepted, r).is_ok() {
                    accepted.push(r);
                }
            }
            for item in 0..8 {
                let reached = impacted_by(&accepted, item);
                proptest::prop_assert!(reached.iter().all(|(i, _)| *i != item));
            }
        }
    }
}
