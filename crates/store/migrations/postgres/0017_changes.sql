-- Change management (issue 9): what a change ticket (CHG-) keeps beyond the ticket itself,
-- standard change templates, CAB meetings and decisions, freezes and their exceptions.
-- Summary, description, impact, urgency, organization, service and submitter are the
-- ticket's; configuration items are in ticket_configuration_items; the incident an
-- emergency repair follows, and incidents raised during implementation, are ticket_links.

-- Who owns a service: records approvals of changes outside the maintenance windows.
ALTER TABLE services ADD COLUMN owner_person_id BIGINT REFERENCES people(id);

-- A standard change, approved once by CAB, then used without CAB.
CREATE TABLE change_templates (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_fr TEXT NOT NULL,
    service_id BIGINT REFERENCES services(id),
    description TEXT NOT NULL,
    reason TEXT NOT NULL,
    risk TEXT NOT NULL,
    impact BIGINT NOT NULL,
    urgency BIGINT NOT NULL,
    product_category TEXT NOT NULL,
    implementer TEXT NOT NULL,
    implementation_plan TEXT NOT NULL,
    backout_plan TEXT NOT NULL,
    -- draft, approved (by a CAB decision), retired
    status TEXT NOT NULL,
    approved_at TEXT,
    approved_by BIGINT REFERENCES people(id),
    -- the CAB meeting date (YYYY-MM-DD) that approved it
    approved_cab_date TEXT,
    created_by BIGINT REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE change_requests (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    -- domain::change::ChangeType / ChangeStatus / ChangeOrigin / ChangeRisk
    change_type TEXT NOT NULL,
    status TEXT NOT NULL,
    origin TEXT NOT NULL,
    template_id BIGINT REFERENCES change_templates(id),
    reason TEXT NOT NULL,
    notice_required BIGINT NOT NULL,
    -- domain::change_schedule::NoticeRule
    notice_rule TEXT NOT NULL,
    disaster_recovery_exists BIGINT NOT NULL,
    training_documents_exist BIGINT NOT NULL,
    tested_in_lower_environments BIGINT NOT NULL,
    risk TEXT NOT NULL,
    users_affected BIGINT NOT NULL,
    users_affected_how TEXT NOT NULL DEFAULT '',
    outage_required BIGINT NOT NULL,
    outage_start TEXT,
    outage_end TEXT,
    requested_start TEXT NOT NULL,
    requested_end TEXT NOT NULL,
    product_category TEXT NOT NULL,
    implementer TEXT NOT NULL,
    implementation_plan TEXT NOT NULL,
    backout_plan TEXT NOT NULL,
    -- partner RFCs: the partner's internal approval, their SPOC, and the operator's service
    -- owner or deployment lead who records and presents it at CAB
    partner_approval TEXT NOT NULL DEFAULT '',
    partner_spoc_person_id BIGINT REFERENCES people(id),
    presenter_person_id BIGINT REFERENCES people(id),
    submitted_at TEXT NOT NULL,
    -- the CAB meeting (YYYY-MM-DD) a normal change goes to; moved by a deferral
    cab_date TEXT,
    earliest_start TEXT,
    -- the service owner's recorded approval of a time outside the windows
    window_approved_by BIGINT REFERENCES people(id),
    window_approved_at TEXT,
    window_approval_note TEXT,
    -- ECAB approval (urgent operational, emergency repair)
    ecab_approved_by BIGINT REFERENCES people(id),
    ecab_approved_at TEXT,
    scheduled_start TEXT,
    scheduled_end TEXT,
    -- domain::change::ChangeOutcome
    outcome TEXT,
    outcome_notes TEXT,
    outcome_at TEXT,
    -- a P1/P2 emergency repair done before its RFC: the latent RFC's target
    implemented_first BIGINT NOT NULL DEFAULT 0,
    implemented_at TEXT,
    latent_due_at TEXT,
    latent_reminders_sent BIGINT NOT NULL DEFAULT 0,
    -- a partner's own change, reported to the desk once done
    partner_reported BIGINT NOT NULL DEFAULT 0,
    -- the status-page scheduled maintenance made from it, and the planned-outage notice
    status_event_id BIGINT REFERENCES status_events(id),
    outage_notice_sent_at TEXT,
    -- JSON array of {environment, state} (domain::change::PromotionStep)
    promotion_path TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX change_requests_status ON change_requests (status);
CREATE INDEX change_requests_cab ON change_requests (cab_date, status);
CREATE INDEX change_requests_start ON change_requests (requested_start);
CREATE INDEX change_requests_latent ON change_requests (implemented_first, latent_due_at);

-- Services an RFC affects.
CREATE TABLE change_services (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (ticket_id, service_id)
);
CREATE INDEX change_services_service ON change_services (service_id);

-- One CAB (or ECAB) meeting: its date, attendees and minutes. Rows are made when a
-- meeting's agenda is first opened or a decision recorded; the schedule itself comes from
-- the policy pack.
CREATE TABLE cab_meetings (
    id BIGSERIAL PRIMARY KEY,
    -- cab or ecab
    kind TEXT NOT NULL,
    -- YYYY-MM-DD in the change calendar's zone (ECAB: the day it met)
    meeting_date TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    attendees TEXT NOT NULL DEFAULT '',
    minutes TEXT NOT NULL DEFAULT '',
    -- when approval notices went out (13:00 by default)
    approvals_sent_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, meeting_date)
);

-- A decision on one RFC (or on a standard change template) at one meeting.
CREATE TABLE cab_decisions (
    id BIGSERIAL PRIMARY KEY,
    meeting_id BIGINT NOT NULL REFERENCES cab_meetings(id),
    ticket_id BIGINT REFERENCES tickets(id),
    template_id BIGINT REFERENCES change_templates(id),
    -- domain::change::CabDecision
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES people(id),
    decided_at TEXT NOT NULL,
    -- the decision notice to the requester / partner representative
    notified_at TEXT
);
CREATE INDEX cab_decisions_meeting ON cab_decisions (meeting_id, id);
CREATE INDEX cab_decisions_ticket ON cab_decisions (ticket_id, id);

-- A change freeze, declared by the operator or announced by a partner.
CREATE TABLE change_freezes (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    announced_at TEXT NOT NULL,
    -- the partner organization that announced it; NULL: the operator's
    organization_id BIGINT REFERENCES organizations(id),
    -- the exception procedure in words (who to ask, what is needed)
    exception_procedure TEXT NOT NULL,
    declared_by BIGINT REFERENCES people(id),
    cancelled_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX change_freezes_period ON change_freezes (starts_at, ends_at);

-- Services a freeze covers (none: every service).
CREATE TABLE change_freeze_services (
    freeze_id BIGINT NOT NULL REFERENCES change_freezes(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (freeze_id, service_id)
);

-- An exception to a freeze for one RFC: requested, then approved or refused.
CREATE TABLE change_freeze_exceptions (
    id BIGSERIAL PRIMARY KEY,
    freeze_id BIGINT NOT NULL REFERENCES change_freezes(id),
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    justification TEXT NOT NULL,
    -- requested, approved, refused
    status TEXT NOT NULL,
    requested_by BIGINT REFERENCES people(id),
    requested_at TEXT NOT NULL,
    decided_by BIGINT REFERENCES people(id),
    decided_at TEXT,
    decision_note TEXT,
    UNIQUE (freeze_id, ticket_id)
);
CREATE INDEX change_freeze_exceptions_ticket ON change_freeze_exceptions (ticket_id);
