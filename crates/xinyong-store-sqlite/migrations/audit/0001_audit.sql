-- The audit trail, in its own database file (audit.db). Entries are hash-chained (see
-- xinyong_store::audit); the triggers make the table append-only for every connection that does not
-- drop them first, and the chain and signed checkpoints show it if someone does.

CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    account_id   INTEGER,
    account_name TEXT NOT NULL,
    unit         TEXT,
    role         TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_id   INTEGER,
    purpose      TEXT,
    channel      TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL,
    request_id   TEXT,
    prev_hash    BLOB NOT NULL,
    hash         BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit(subject_id, seq);

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    at        TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- `INSERT OR REPLACE` deletes the row it replaces without firing delete triggers (unless
-- recursive_triggers is on), so inserts must also extend the chain: the next seq, linked to the head.
CREATE TRIGGER audit_extends_chain BEFORE INSERT ON audit
WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM audit), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), zeroblob(32))
BEGIN
    SELECT RAISE(ABORT, 'audit entries must extend the chain');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
