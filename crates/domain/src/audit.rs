//! The audit log is a hash chain: each row's hash covers its content and the previous hash,
//! so an edited, inserted or deleted row breaks the chain from that point on.
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content of an audit row that the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub organization_id: Option<i64>,
    pub detail: String,
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        // Length-prefix every field so that moving bytes between fields changes the hash.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(prev_hash.as_bytes());
        field(self.seq.to_string().as_bytes());
        field(self.at.as_bytes());
        field(
            self.actor_id
                .map(|v| v.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.actor_label.as_bytes());
        field(self.action.as_bytes());
        field(self.entity_type.as_bytes());
        field(self.entity_id.as_deref().unwrap_or("").as_bytes());
        field(
            self.organization_id
                .map(|v| v.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.detail.as_bytes());
        field(self.ip.as_deref().unwrap_or("").as_bytes());
        hex::encode(h.finalize())
    }
}

/// A stored row: its content, the hash it claims to chain from, and its own hash.
#[derive(Debug, Clone)]
pub struct StoredAudit {
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// A sequence number is missing: a row was deleted.
    Gap { expected: i64, found: i64 },
    /// The row does not chain from the previous row's hash.
    BrokenLink { seq: i64 },
    /// The row's content does not match its hash: it was edited.
    Tampered { seq: i64 },
    /// The chain ends before the recorded head: rows were cut from the end.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainFault::Gap { expected, found } => {
                write!(f, "row {expected} is missing (next row is {found})")
            }
            ChainFault::BrokenLink { seq } => {
                write!(f, "row {seq} does not chain from the row before it")
            }
            ChainFault::Tampered { seq } => write!(f, "row {seq} was edited after it was written"),
            ChainFault::Truncated { last_seq, head_seq } => {
                write!(
                    f,
                    "the log ends at row {last_seq} but {head_seq} rows were written"
                )
            }
        }
    }
}

/// Checks rows in sequence order, continuing a chain that ended at `(prev_seq, prev_hash)`.
/// Returns the new chain end, or the first fault.
pub fn verify_rows(
    rows: &[StoredAudit],
    mut prev_seq: i64,
    mut prev_hash: String,
) -> Result<(i64, String), ChainFault> {
    for row in rows {
        let expected = prev_seq + 1;
        if row.entry.seq != expected {
            return Err(ChainFault::Gap {
                expected,
                found: row.entry.seq,
            });
        }
        if row.prev_hash != prev_hash {
            return Err(ChainFault::BrokenLink { seq: row.entry.seq });
        }
        if row.entry.hash(&row.prev_hash) != row.hash {
            return Err(ChainFault::Tampered { seq: row.entry.seq });
        }
        prev_seq = row.entry.seq;
        prev_hash = row.hash.clone();
    }
    Ok((prev_seq, prev_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredAudit> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at: format!("2026-01-01T00:00:0{seq}.000000Z"),
                    actor_id: Some(1),
                    actor_label: "admin@example.org".into(),
                    action: "person.create".into(),
                    entity_type: "person".into(),
                    entity_id: Some(seq.to_string()),
                    organization_id: Some(2),
                    detail: "{}".into(),
                    ip: None,
                };
                let hash = entry.hash(&prev);
                let row = StoredAudit {
                    entry,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let (seq, hash) = verify_rows(&rows, 0, GENESIS_HASH.into()).unwrap();
        assert_eq!(seq, 5);
        assert_eq!(hash, rows[4].hash);
    }

    #[test]
    fn edit_delete_and_relink_are_detected() {
        let mut rows = chain(5);
        rows[2].entry.detail = "{\"role\":\"administrator\"}".into();
        assert_eq!(
            verify_rows(&rows, 0, GENESIS_HASH.into()),
            Err(ChainFault::Tampered { seq: 3 })
        );

        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(
            verify_rows(&rows, 0, GENESIS_HASH.into()),
            Err(ChainFault::Gap {
                expected: 2,
                found: 3
            })
        );

        // An edit whose author also recomputes that row's hash still breaks the next link.
        let mut rows = chain(5);
        rows[2].entry.actor_label = "someone-else".into();
        rows[2].hash = rows[2].entry.hash(&rows[2].prev_hash);
        assert_eq!(
            verify_rows(&rows, 0, GENESIS_HASH.into()),
            Err(ChainFault::BrokenLink { seq: 4 })
        );
    }
}
