-- Credit reports issued (xinyong_store::reports): the canonical JSON body as issued, found by id or by
-- the number printed on it; free reports of a subject are counted per year.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    kind        TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    account_id  INTEGER,
    issued_to   TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    free        INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX reports_subject ON reports(subject_id, free);
