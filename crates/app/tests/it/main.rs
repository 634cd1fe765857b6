//! One integration-test binary: each test starts a real server on a random port with a
//! fresh database (SQLite, or PostgreSQL when TRIAGE_TEST_DATABASE_URL is set).
mod api_errors;
mod audit;
mod change_implementation;
mod changes;
mod cmdb;
mod health;
mod imap;
mod inbound;
mod isolation;
mod latent_rfcs;
mod mail;
mod major_incident_reports;
mod major_incidents;
mod notices;
mod openapi;
mod people;
mod policy;
mod problem_trends;
mod problems;
mod signin;
mod sla;
mod status;
mod status_public;
mod status_subscriptions;
mod tickets;
mod webhooks;
