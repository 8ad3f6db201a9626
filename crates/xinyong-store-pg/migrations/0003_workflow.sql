-- Workflow cases (objections, repairs, revocations) on records, their append-only history, the notices
-- they sent, and calendar years loaded by an admin (xinyong_store::workflow). Same content as the
-- embedded store's 0004_workflow.sql.
--
-- Distribution (docs/scale.md): cases, case_events and notices carry the case's subject id (0: the
-- record is not linked to a subject, as in `records`) as the first column of their primary key, so on
-- Citus they are co-located with the subject's records and a step (status check, history event,
-- notices, record effect) is a transaction on one shard. calendar_years is a reference table.
--
-- One open objection and one open repair per record: the store locks the record's row, checks, and
-- inserts (src/workflow.rs), so the rule holds even for a record whose subject changed since a case
-- was opened; the partial unique index below (which contains the distribution column, as Citus
-- requires) is the database's own guard for cases of one subject.

CREATE SEQUENCE case_ids;
CREATE TABLE cases (
    subject_id           bigint NOT NULL,
    id                   bigint NOT NULL DEFAULT nextval('case_ids'),
    kind                 text COLLATE "C" NOT NULL,
    record_id            bigint NOT NULL,
    unit                 text COLLATE "C" NOT NULL,
    status               text NOT NULL,
    deadline             date,
    deadline_provisional boolean NOT NULL DEFAULT false,
    open                 boolean NOT NULL,
    data                 text NOT NULL,
    opened_by            bigint NOT NULL,
    created_at           text NOT NULL,
    updated_at           text NOT NULL,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX cases_id ON cases (id);
CREATE INDEX cases_record ON cases (record_id, kind);
CREATE INDEX cases_unit ON cases (unit, id);
CREATE INDEX cases_open_deadline ON cases (kind, deadline) WHERE open;
CREATE UNIQUE INDEX cases_one_open ON cases (subject_id, record_id, kind)
    WHERE open AND kind IN ('objection', 'repair');

CREATE TABLE case_events (
    subject_id  bigint NOT NULL,
    case_id     bigint NOT NULL,
    seq         integer NOT NULL,
    at          text NOT NULL,
    actor       bigint NOT NULL,
    actor_name  text NOT NULL,
    action      text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    note        text,
    deadline    date,
    late        boolean NOT NULL,
    PRIMARY KEY (subject_id, case_id, seq)
);
CREATE INDEX case_events_case ON case_events (case_id, seq);

CREATE FUNCTION case_history_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case history is append-only';
END
$$;
CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_history_refuse();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_history_refuse();

-- recipient: 'subject:<id>', 'unit:<code>' or 'centre'. subject_id is the case's (co-location only).
CREATE SEQUENCE notice_ids;
CREATE TABLE notices (
    subject_id bigint NOT NULL,
    id         bigint NOT NULL DEFAULT nextval('notice_ids'),
    case_id    bigint NOT NULL,
    recipient  text COLLATE "C" NOT NULL,
    at         text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX notices_recipient ON notices (recipient, id);

-- A reference table on Citus (a row per year).
CREATE TABLE calendar_years (
    year      integer PRIMARY KEY,
    plan      text NOT NULL,
    loaded_at text NOT NULL
);
