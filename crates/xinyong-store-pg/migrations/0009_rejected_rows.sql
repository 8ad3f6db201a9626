-- The cells of rejected rows, so that a unit can download, correct and file them again. Sealed with the
-- vault (AEAD, like records.secret): they may hold resident IDs. Distributed by batch, as batch_issues.
CREATE TABLE batch_rejected_rows (
    batch_id text NOT NULL,
    row      bigint NOT NULL,
    cells    bytea NOT NULL,
    PRIMARY KEY (batch_id, row)
);
