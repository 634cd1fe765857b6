CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    weekly_hours TEXT NOT NULL,
    holiday_rules TEXT NOT NULL DEFAULT ''
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL
);

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    org_type TEXT NOT NULL,
    is_operator BIGINT NOT NULL DEFAULT 0,
    contributes_data BIGINT NOT NULL DEFAULT 0,
    identity_provider TEXT NOT NULL,
    oidc_issuer TEXT,
    oidc_client_id TEXT,
    oidc_client_secret TEXT,
    helpdesk_phone TEXT,
    helpdesk_email TEXT,
    escalation_title TEXT,
    escalation_name TEXT,
    escalation_email TEXT,
    escalation_mobile TEXT,
    after_hours_contacts TEXT,
    spoc_name TEXT,
    spoc_email TEXT,
    spoc_phone TEXT,
    ticket_number_format TEXT,
    distribution_list TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE organization_services (
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (organization_id, service_id)
);

CREATE TABLE support_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    calendar_id BIGINT NOT NULL REFERENCES calendars(id),
    email TEXT
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    phone TEXT,
    locale TEXT NOT NULL,
    password_hash TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_organization ON people (organization_id);

CREATE TABLE support_group_members (
    group_id BIGINT NOT NULL REFERENCES support_groups(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    PRIMARY KEY (group_id, person_id)
);

CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id BIGINT NOT NULL REFERENCES people(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    granted_by BIGINT REFERENCES people(id),
    granted_at TEXT NOT NULL,
    UNIQUE (person_id, organization_id, role)
);
CREATE INDEX role_assignments_org ON role_assignments (organization_id);

CREATE TABLE trainings (
    person_id BIGINT NOT NULL REFERENCES people(id),
    module TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    recorded_by BIGINT REFERENCES people(id),
    PRIMARY KEY (person_id, module)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    user_agent TEXT
);
CREATE INDEX sessions_person ON sessions (person_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id BIGINT NOT NULL REFERENCES people(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_person ON api_tokens (person_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE oidc_logins (
    state TEXT PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'stored'
);

CREATE TABLE credential_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    job_title TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX credential_requests_org ON credential_requests (organization_id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT,
    organization_id BIGINT,
    detail TEXT NOT NULL,
    ip TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (organization_id, seq);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
