-- A simple CMDB (issue 8): configuration items with their owner and relations.
CREATE TABLE configuration_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    description TEXT NOT NULL,
    service_id BIGINT REFERENCES services(id),
    owner_organization_id BIGINT REFERENCES organizations(id),
    environment TEXT,
    site TEXT,
    status TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX configuration_items_service ON configuration_items (service_id);

-- "from needs to": depends_on, runs_on, connects_to, part_of.
CREATE TABLE configuration_item_relations (
    from_id BIGINT NOT NULL REFERENCES configuration_items(id),
    to_id BIGINT NOT NULL REFERENCES configuration_items(id),
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, kind)
);
CREATE INDEX configuration_item_relations_to ON configuration_item_relations (to_id);
