-- Commitments (信用承诺) with their append-only history; evaluation runs, every score kept (history) and
-- the current score per subject; inspection plans of graded supervision (分级分类监管). Same content
-- as the embedded store's 0008_evaluation.sql.
--
-- Distribution (docs/scale.md): commitments, their events, evaluations and evaluation_latest carry the
-- subject id as the first column of their primary key, so on Citus they are co-located with the
-- subject's records and a subject's facts are read from one shard. evaluation_runs and inspections are
-- small reference tables.

CREATE SEQUENCE commitment_ids;
CREATE TABLE commitments (
    subject_id bigint NOT NULL,
    id         bigint NOT NULL DEFAULT nextval('commitment_ids'),
    kind       text COLLATE "C" NOT NULL,
    matter     text NOT NULL,
    unit       text COLLATE "C" NOT NULL,
    content    text NOT NULL,
    made_on    date NOT NULL,
    due        date NOT NULL,
    status     text COLLATE "C" NOT NULL,
    record_id  bigint,
    data       text NOT NULL,
    opened_by  bigint NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX commitments_id ON commitments (id);
CREATE INDEX commitments_unit ON commitments (unit, status);
CREATE INDEX commitments_pending_due ON commitments (due) WHERE status = 'pending';

CREATE TABLE commitment_events (
    subject_id    bigint NOT NULL,
    commitment_id bigint NOT NULL,
    seq           integer NOT NULL,
    at            text NOT NULL,
    actor         bigint NOT NULL,
    actor_name    text NOT NULL,
    action        text NOT NULL,
    from_status   text,
    to_status     text NOT NULL,
    note          text,
    deadline      date,
    late          boolean NOT NULL,
    PRIMARY KEY (subject_id, commitment_id, seq)
);
CREATE INDEX commitment_events_id ON commitment_events (commitment_id, seq);

CREATE SEQUENCE evaluation_run_ids;
CREATE TABLE evaluation_runs (
    id         bigint PRIMARY KEY DEFAULT nextval('evaluation_run_ids'),
    kind       text NOT NULL,
    model      text NOT NULL,
    model_text text NOT NULL,
    cause      text NOT NULL,
    at         text NOT NULL,
    subjects   bigint NOT NULL DEFAULT 0,
    changed    bigint NOT NULL DEFAULT 0,
    grades     text
);

CREATE SEQUENCE evaluation_ids;
CREATE TABLE evaluations (
    subject_id  bigint NOT NULL,
    id          bigint NOT NULL DEFAULT nextval('evaluation_ids'),
    run_id      bigint NOT NULL,
    score       integer NOT NULL,
    grade       text COLLATE "C" NOT NULL,
    model       text NOT NULL,
    at          text NOT NULL,
    explanation text NOT NULL,
    PRIMARY KEY (subject_id, id)
);

CREATE TABLE evaluation_latest (
    subject_id    bigint PRIMARY KEY,
    evaluation_id bigint NOT NULL,
    score         integer NOT NULL,
    grade         text COLLATE "C" NOT NULL,
    model         text NOT NULL,
    fingerprint   bigint NOT NULL
);
CREATE INDEX evaluation_latest_grade ON evaluation_latest (grade);

CREATE SEQUENCE inspection_ids;
CREATE TABLE inspections (
    id         bigint PRIMARY KEY DEFAULT nextval('inspection_ids'),
    created_by bigint NOT NULL,
    created_at text NOT NULL,
    plan       text NOT NULL
);
