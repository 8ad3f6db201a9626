-- The audit trail (xinyong_store::audit): hash-chained entries and signed checkpoints.
--
-- `audit` is partitioned by month of the entry's time (`at_utc`): the trail is kept at least 184 days
-- and then archived a month at a time (DETACH PARTITION, dump, drop) without touching the live months.
-- Partitions are made by the store as entries for a new month arrive (src/audit.rs).
-- `at` keeps the time exactly as the chain hash covered it (RFC 3339 text with its offset).
--
-- Append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE, and every insert must
-- extend the chain from `audit_head` (which the insert trigger advances, under a row lock, so two
-- appenders can never fork the chain). Someone who can drop triggers can rewrite the table; the hash
-- chain and the signed checkpoints show that.

CREATE TABLE audit (
    seq          bigint NOT NULL,
    at           text NOT NULL,
    at_utc       timestamptz NOT NULL,
    account_id   bigint,
    account_name text NOT NULL,
    unit         text,
    role         text NOT NULL,
    action       text NOT NULL,
    subject_id   bigint,
    purpose      text,
    channel      text NOT NULL,
    outcome      text NOT NULL,
    detail       text NOT NULL,
    request_id   text,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL,
    PRIMARY KEY (seq, at_utc)
) PARTITION BY RANGE (at_utc);
CREATE INDEX audit_subject ON audit (subject_id, seq);

CREATE TABLE audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

CREATE TABLE audit_checkpoints (
    id        bigserial PRIMARY KEY,
    seq       bigint NOT NULL,
    hash      bytea NOT NULL,
    at        text NOT NULL,
    key_id    text NOT NULL,
    signature bytea NOT NULL
);

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END
$$;

CREATE FUNCTION audit_extend() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM xinyong.audit_head FOR UPDATE;
    IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
        RAISE EXCEPTION 'audit entries must extend the chain';
    END IF;
    UPDATE xinyong.audit_head SET seq = NEW.seq, hash = NEW.hash;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_extends_chain BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_extend();

CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
