-- xinyong embedded store, schema version 1.
-- Personal data never appears in clear: resident IDs are in subjects.rid_enc (AEAD) and found by
-- subjects.rid_hash (HMAC); masked record fields are in records.secret / record_versions.secret (AEAD).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE units (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE unit_items (
    unit TEXT NOT NULL REFERENCES units(code),
    item TEXT NOT NULL,
    PRIMARY KEY (unit, item)
) WITHOUT ROWID;

-- Every version of every item definition; the newest is current. Records keep the version they were filed under.
CREATE TABLE catalog_items (
    code       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (code, version)
) WITHOUT ROWID;

CREATE TABLE subjects (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    uscc       TEXT,
    org_code   TEXT,
    rid_hash   BLOB,
    rid_enc    BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Partial indexes: a company has no rid_hash and a person no uscc, so neither indexes the other's NULLs.
CREATE UNIQUE INDEX subjects_uscc ON subjects(uscc) WHERE uscc IS NOT NULL;
CREATE UNIQUE INDEX subjects_rid_hash ON subjects(rid_hash) WHERE rid_hash IS NOT NULL;
CREATE INDEX subjects_org_code ON subjects(org_code) WHERE org_code IS NOT NULL;

CREATE TABLE subject_names (
    subject_id INTEGER NOT NULL REFERENCES subjects(id),
    name       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (subject_id, name)
) WITHOUT ROWID;

CREATE TABLE records (
    id           INTEGER PRIMARY KEY,
    item         TEXT NOT NULL,
    source_key   TEXT NOT NULL,
    subject_id   INTEGER REFERENCES subjects(id),
    unit         TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active',
    record_date  TEXT NOT NULL,
    end_date     TEXT,
    severity     TEXT NOT NULL,
    published    INTEGER NOT NULL,
    public_until TEXT,
    fields       TEXT NOT NULL,
    secret       BLOB,
    content_hash BLOB NOT NULL,
    batch_id     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (item, source_key)
);
CREATE INDEX records_subject ON records(subject_id);
-- Publication lists: newest first per item.
CREATE INDEX records_item_date ON records(item, record_date);

-- Superseded versions; the current version is the row in records.
CREATE TABLE record_versions (
    record_id     INTEGER NOT NULL REFERENCES records(id),
    version       INTEGER NOT NULL,
    fields        TEXT NOT NULL,
    secret        BLOB,
    content_hash  BLOB NOT NULL,
    batch_id      TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
) WITHOUT ROWID;

CREATE TABLE batches (
    id             TEXT PRIMARY KEY,
    unit           TEXT NOT NULL,
    item           TEXT NOT NULL,
    item_version   INTEGER NOT NULL,
    status         TEXT NOT NULL,
    format         TEXT NOT NULL,
    encoding       TEXT NOT NULL,
    file_name      TEXT,
    all_or_nothing INTEGER NOT NULL,
    rows           INTEGER NOT NULL,
    accepted       INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL,
    unchanged      INTEGER NOT NULL,
    linked         INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX batches_finished ON batches(finished_at);

-- kind: 'error' (a rejected row) or 'warning' (e.g. an unknown column).
CREATE TABLE batch_issues (
    batch_id TEXT NOT NULL REFERENCES batches(id),
    seq      INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    row      INTEGER NOT NULL,
    field    TEXT,
    code     TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (batch_id, seq)
) WITHOUT ROWID;
