//! Values read from the database and reused for a few seconds: they change rarely (an
//! administrator's edit) and are read on every request that needs them. An edit on this
//! node clears the value at once; an edit on another node behind the same database is seen
//! within [`TTL`].
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);

/// When the value was read, and the value.
type ReadAt<T> = (Instant, Arc<T>);

/// One such value, shared by clones.
pub struct Fresh<T>(Arc<RwLock<Option<ReadAt<T>>>>);

impl<T> Clone for Fresh<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for Fresh<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> Fresh<T> {
    /// The value, if it was read less than [`TTL`] ago.
    pub fn get(&self) -> Option<Arc<T>> {
        self.0
            .read()
            .expect("cached value")
            .as_ref()
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, value)| value.clone())
    }

    /// Keeps a value just read, and returns it.
    pub fn put(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.0.write().expect("cached value") = Some((Instant::now(), value.clone()));
        value
    }

    /// Forgets the value: the next reader reads it again.
    pub fn clear(&self) {
        *self.0.write().expect("cached value") = None;
    }
}
