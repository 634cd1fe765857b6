//! Bearer-token callers reused for a moment. An integration posting tickets sends the same
//! token on every request; reading the token, the person and their grants each time was a
//! database round trip per request. A change made on this node (a revoked token, a role
//! granted or revoked, a person edited or deactivated) clears every entry at once; a change
//! made on another node behind the same database is seen within [`TTL`]. Browser sessions
//! are not cached: signing out ends a session at once everywhere.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use store::people::Caller;

pub const TTL: Duration = Duration::from_secs(2);

/// More distinct tokens than this within [`TTL`] and the cache starts over, so that a
/// client cycling through tokens cannot make it grow without bound.
const MAX_ENTRIES: usize = 10_000;

type Entry = (Instant, Arc<Caller>);

#[derive(Default)]
pub struct TokenCallers(RwLock<HashMap<String, Entry>>);

impl TokenCallers {
    /// The caller behind a token (by its hash) if it was read less than [`TTL`] ago.
    pub fn get(&self, token_hash: &str) -> Option<Arc<Caller>> {
        self.0
            .read()
            .expect("token callers")
            .get(token_hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, caller)| caller.clone())
    }

    pub fn put(&self, token_hash: String, caller: Caller) -> Arc<Caller> {
        let caller = Arc::new(caller);
        let mut map = self.0.write().expect("token callers");
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _)| at.elapsed() < TTL);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(token_hash, (Instant::now(), caller.clone()));
        caller
    }

    /// Forgets every caller: the next request of each reads its token again.
    pub fn clear(&self) {
        self.0.write().expect("token callers").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: i64) -> Caller {
        Caller {
            person: store::people::Person {
                id,
                organization_id: 1,
                email: format!("p{id}@example.org"),
                display_name: "P".into(),
                phone: None,
                locale: "en".into(),
                active: 1,
                created_at: String::new(),
                updated_at: String::new(),
            },
            token: None,
            principal: None,
        }
    }

    #[test]
    fn a_caller_is_reused_until_cleared() {
        let cache = TokenCallers::default();
        assert!(cache.get("h1").is_none());
        cache.put("h1".into(), caller(1));
        assert_eq!(cache.get("h1").map(|c| c.person.id), Some(1));
        assert!(cache.get("h2").is_none());
        cache.clear();
        assert!(cache.get("h1").is_none());
    }

    #[test]
    fn the_cache_does_not_grow_without_bound() {
        let cache = TokenCallers::default();
        for i in 0..(MAX_ENTRIES as i64 + 5) {
            cache.put(format!("h{i}"), caller(i));
        }
        assert!(cache.0.read().unwrap().len() <= MAX_ENTRIES);
        assert!(cache.get(&format!("h{}", MAX_ENTRIES + 4)).is_some());
    }
}
