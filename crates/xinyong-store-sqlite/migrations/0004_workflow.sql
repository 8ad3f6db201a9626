-- Workflow cases (objections, repairs, revocations) on records, their append-only history, the notices
-- they sent, and calendar years loaded by an admin.
CREATE TABLE cases (
    id                   INTEGER PRIMARY KEY,
    kind                 TEXT NOT NULL,
    record_id            INTEGER NOT NULL REFERENCES records(id),
    subject_id           INTEGER REFERENCES subjects(id),
    unit                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    deadline             TEXT,
    deadline_provisional INTEGER NOT NULL DEFAULT 0,
    open                 INTEGER NOT NULL,
    data                 TEXT NOT NULL,
    opened_by            INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX cases_record ON cases(record_id, kind);
CREATE INDEX cases_subject ON cases(subject_id);
CREATE INDEX cases_open_deadline ON cases(kind, deadline) WHERE open = 1;
-- One open objection and one open repair per record at a time.
CREATE UNIQUE INDEX cases_one_open ON cases(record_id, kind) WHERE open = 1 AND kind IN ('objection', 'repair');

CREATE TABLE case_events (
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       INTEGER NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT,
    deadline    TEXT,
    late        INTEGER NOT NULL,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;

-- recipient: 'subject:<id>', 'unit:<code>' or 'centre'.
CREATE TABLE notices (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases(id),
    recipient TEXT NOT NULL,
    at        TEXT NOT NULL,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX notices_recipient ON notices(recipient, id);

CREATE TABLE calendar_years (
    year      INTEGER PRIMARY KEY,
    plan      TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
