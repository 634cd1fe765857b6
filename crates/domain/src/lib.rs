//! Triage's domain: pure types and rules, no I/O.
#![forbid(unsafe_code)]

pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod change;
pub mod change_schedule;
pub mod cmdb;
pub mod delivery;
pub mod due;
pub mod error;
pub mod holiday;
pub mod inbound;
pub mod mail_template;
pub mod major_incident;
pub mod major_incident_notice;
pub mod org;
pub mod person;
pub mod phi;
pub mod policy;
pub mod policy_pack;
pub mod problem;
pub mod problem_record;
pub mod role;
pub mod sla;
pub mod status_page;
pub mod text;
pub mod ticket;
pub mod time;
pub mod webhook;

pub use error::{DomainError, Result};
