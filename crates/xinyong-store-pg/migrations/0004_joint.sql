-- Checks of the joint rewards and punishments loop (xinyong_store::joint): what a department asked and
-- was answered, and its feedback. Same content as the embedded store's 0005_joint.sql.
--
-- Distribution (docs/scale.md): the subject id is the first column of the primary key, so on Citus
-- `checks` is distributed by subject and co-located with the subject's records (the foreign key to
-- `subjects` contains the distribution column, as Citus requires). Recording a check is a router
-- insert on the subject's shard; a check found by id alone and the loop statistics fan out over an
-- index on every shard.

CREATE SEQUENCE check_ids;
CREATE TABLE checks (
    subject_id  bigint NOT NULL REFERENCES subjects(id),
    id          bigint NOT NULL DEFAULT nextval('check_ids'),
    scenario    text NOT NULL,
    unit        text COLLATE "C" NOT NULL,
    account     bigint NOT NULL,
    at          text COLLATE "C" NOT NULL,
    result      text NOT NULL,
    measures    integer NOT NULL,
    feedback    text,
    feedback_at text,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX checks_id ON checks (id);
CREATE INDEX checks_unit_at ON checks (unit, at);
