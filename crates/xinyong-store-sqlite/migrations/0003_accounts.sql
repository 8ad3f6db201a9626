-- Accounts (API tokens stored as SHA-256 hashes only) and subjects' authorisations of market institutions.

CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    unit       TEXT REFERENCES units(code),
    role       TEXT NOT NULL,
    subject_id INTEGER REFERENCES subjects(id),
    token_hash BLOB NOT NULL UNIQUE,
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE authorisations (
    id           INTEGER PRIMARY KEY,
    subject_id   INTEGER NOT NULL REFERENCES subjects(id),
    grantee_unit TEXT NOT NULL REFERENCES units(code),
    scope        TEXT NOT NULL,
    granted_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX authorisations_subject ON authorisations(subject_id);
