-- Credit reports issued (xinyong_store::reports). Same content as the embedded store's 0008_reports.sql.
--
-- Distribution (docs/scale.md): like `checks`, the subject id leads the primary key, so on Citus the
-- table is distributed by subject and co-located with the subject's records; the free-report count is
-- a router query on the subject's shard. A report found by id or number fans out over an index.

CREATE SEQUENCE report_ids;
CREATE TABLE reports (
    subject_id  bigint NOT NULL REFERENCES subjects(id),
    id          bigint NOT NULL DEFAULT nextval('report_ids'),
    number      text COLLATE "C" NOT NULL,
    kind        text NOT NULL,
    issued_at   timestamptz NOT NULL,
    account_id  bigint,
    issued_to   text NOT NULL,
    purpose     text NOT NULL,
    free        boolean NOT NULL,
    body        text NOT NULL,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX reports_id ON reports (id);
CREATE INDEX reports_number ON reports (number);
