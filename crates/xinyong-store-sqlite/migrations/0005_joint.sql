-- Checks of the joint rewards and punishments loop: what a department asked and was answered, and its
-- feedback. Kept with the subject id first in the key's index, like the records they read.
CREATE TABLE checks (
    id            INTEGER PRIMARY KEY,
    subject_id    INTEGER NOT NULL REFERENCES subjects(id),
    scenario      TEXT NOT NULL,
    unit          TEXT NOT NULL,
    account       INTEGER NOT NULL,
    at            TEXT NOT NULL,
    result        TEXT NOT NULL,
    measures      INTEGER NOT NULL,
    feedback      TEXT,
    feedback_at   TEXT
);
CREATE INDEX checks_subject ON checks(subject_id);
CREATE INDEX checks_unit_at ON checks(unit, at);
