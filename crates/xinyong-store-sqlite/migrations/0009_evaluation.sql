-- Commitments (信用承诺) with their append-only history; evaluation runs, every score kept (history) and
-- the current score per subject; inspection plans of graded supervision (分级分类监管).
CREATE TABLE commitments (
    id         INTEGER PRIMARY KEY,
    subject_id INTEGER NOT NULL REFERENCES subjects(id),
    kind       TEXT NOT NULL,
    matter     TEXT NOT NULL,
    unit       TEXT NOT NULL,
    content    TEXT NOT NULL,
    made_on    TEXT NOT NULL,
    due        TEXT NOT NULL,
    status     TEXT NOT NULL,
    record_id  INTEGER,
    data       TEXT NOT NULL,
    opened_by  INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX commitments_subject ON commitments(subject_id);
CREATE INDEX commitments_unit ON commitments(unit, status);
CREATE INDEX commitments_pending_due ON commitments(due) WHERE status = 'pending';

CREATE TABLE commitment_events (
    commitment_id INTEGER NOT NULL REFERENCES commitments(id),
    seq           INTEGER NOT NULL,
    at            TEXT NOT NULL,
    actor         INTEGER NOT NULL,
    actor_name    TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    note          TEXT,
    deadline      TEXT,
    late          INTEGER NOT NULL,
    PRIMARY KEY (commitment_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER commitment_events_no_update BEFORE UPDATE ON commitment_events
BEGIN SELECT RAISE(ABORT, 'commitment history is append-only'); END;
CREATE TRIGGER commitment_events_no_delete BEFORE DELETE ON commitment_events
BEGIN SELECT RAISE(ABORT, 'commitment history is append-only'); END;

-- grades: JSON object grade → subjects, counted over evaluation_latest when the run finished (NULL while running).
CREATE TABLE evaluation_runs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    model      TEXT NOT NULL,
    model_text TEXT NOT NULL,
    cause      TEXT NOT NULL,
    at         TEXT NOT NULL,
    subjects   INTEGER NOT NULL DEFAULT 0,
    changed    INTEGER NOT NULL DEFAULT 0,
    grades     TEXT
);

-- Every score that changed, append-only.
CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY,
    subject_id  INTEGER NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES evaluation_runs(id),
    score       INTEGER NOT NULL,
    grade       TEXT NOT NULL,
    model       TEXT NOT NULL,
    at          TEXT NOT NULL,
    explanation TEXT NOT NULL
);
CREATE INDEX evaluations_subject ON evaluations(subject_id, id);

-- The current score per subject (the newest row of evaluations), to compare and to count grades.
CREATE TABLE evaluation_latest (
    subject_id    INTEGER PRIMARY KEY,
    evaluation_id INTEGER NOT NULL,
    score         INTEGER NOT NULL,
    grade         TEXT NOT NULL,
    model         TEXT NOT NULL,
    fingerprint   INTEGER NOT NULL
);
CREATE INDEX evaluation_latest_grade ON evaluation_latest(grade);

CREATE TABLE inspections (
    id         INTEGER PRIMARY KEY,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    plan       TEXT NOT NULL
);
