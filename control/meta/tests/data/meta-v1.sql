-- A metadata database as schema version 1 wrote it (SQLite backend).
-- Loaded by tests/behaviour.rs (sqlite_reads_a_version_1_database), which
-- opens it with the current build: later migrations must keep reading it.
-- Never edit this file; add a meta-v2.sql when the schema changes.
--
-- Key secrets (for the test only; the database holds their SHA-256):
--   fixture-api-key-0001  (api, org 1)
--   fixture-app-key-0001  (app, org 1)
--   fixture-revoked-0002  (api, org 2, revoked)
BEGIN;
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE TABLE keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL CHECK (kind IN ('api', 'app')),
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    last4       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    UNIQUE (kind, hash)
);
CREATE INDEX keys_org ON keys (org_id);
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id            INTEGER NOT NULL REFERENCES orgs (id),
    created_at        INTEGER NOT NULL,
    title             TEXT NOT NULL,
    text              TEXT NOT NULL,
    date_happened     INTEGER NOT NULL,
    priority          TEXT,
    host              TEXT,
    tags              TEXT NOT NULL,
    alert_type        TEXT,
    aggregation_key   TEXT,
    source_type_name  TEXT,
    source_lc         TEXT,
    related_event_id  INTEGER,
    device_name       TEXT,
    extra             TEXT NOT NULL
);
CREATE INDEX events_org_time ON events (org_id, date_happened, id);
CREATE TABLE event_tags (
    org_id    INTEGER NOT NULL,
    tag       TEXT NOT NULL,
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, tag, event_id)
) WITHOUT ROWID;
CREATE TABLE check_status (
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    check_name  TEXT NOT NULL,
    host        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    message     TEXT NOT NULL,
    ts_ms       INTEGER NOT NULL,
    PRIMARY KEY (org_id, check_name, host, tags)
) WITHOUT ROWID;
INSERT INTO orgs (id, name, created_at) VALUES
    (1, 'default', 1700000000000),
    (2, 'acme', 1700000001000);
INSERT INTO keys (id, org_id, kind, name, hash, last4, created_at, revoked_at) VALUES
    (1, 1, 'api', 'bootstrap', '1d79785cada153e76d6dd965dac95f80ee5e75c40e9b35884b2169b2b7c6c6ab', '0001', 1700000000000, NULL),
    (2, 1, 'app', 'bootstrap', '6a60d17e99190a9e59b528ff26060161926b4a7a95162295861aa6326646409f', '0001', 1700000000000, NULL),
    (3, 2, 'api', 'old', '495b09c7fc00427891f2a3e5585d0010b5103a361adb7238f8d577dc06eaa471', '0002', 1700000002000, 1700000100000);
INSERT INTO events (id, org_id, created_at, title, text, date_happened, priority, host, tags,
        alert_type, aggregation_key, source_type_name, source_lc, related_event_id, device_name, extra) VALUES
    (1, 2, 1700000003000, 'Deploy', 'Deployed v1.2', 1700000003000, 'normal', 'web-1',
        '["env:prod","team:a"]', 'success', 'deploy', 'My_Apps', 'my_apps', NULL, NULL, '{"category":"change"}'),
    (2, 2, 1700000004000, 'Other', 'no tags', 1700000004000, NULL, NULL,
        '[]', NULL, NULL, NULL, NULL, NULL, NULL, 'null');
INSERT INTO event_tags (org_id, tag, event_id) VALUES
    (2, 'env:prod', 1),
    (2, 'team:a', 1);
INSERT INTO check_status (org_id, check_name, host, tags, status, message, ts_ms) VALUES
    (2, 'disk.ok', 'web-1', '["env:prod"]', 1, 'disk | almost
full', 1700000005000);
COMMIT;
