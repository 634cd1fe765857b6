//! Triage's domain: pure types and rules, no I/O.
#![forbid(unsafe_code)]

pub mod audit;
pub mod error;
pub mod org;
pub mod person;
pub mod policy;
pub mod role;
pub mod text;
pub mod time;

pub use error::{DomainError, Result};
