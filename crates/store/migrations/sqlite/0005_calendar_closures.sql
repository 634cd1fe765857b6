-- One-off closures added by administrators: calendar data kept outside policy pack
-- versions, so that they apply to open tickets too. A closure closes its date all day on
-- one calendar (`calendar`), or on every calendar that follows holiday rules (NULL).
CREATE TABLE calendar_closures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    closed_on TEXT NOT NULL,
    calendar TEXT,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL
);
CREATE UNIQUE INDEX calendar_closures_day ON calendar_closures (closed_on, COALESCE(calendar, ''));
