-- The cells of rejected rows, so that a unit can download, correct and file them again. Sealed with the
-- vault (AEAD, like records.secret): they may hold resident IDs. Kept with the batch's issues.
CREATE TABLE batch_rejected_rows (
    batch_id TEXT NOT NULL REFERENCES batches(id),
    row      INTEGER NOT NULL,
    cells    BLOB NOT NULL,
    PRIMARY KEY (batch_id, row)
) WITHOUT ROWID;
