use domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state rule: `code` is stable (e.g. `email_taken`).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid: {0}")]
    Invalid(#[from] DomainError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict(code)`, anything else passes through.
    pub fn unique_as(code: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(code),
            _ => StoreError::Db(e),
        }
    }
}
