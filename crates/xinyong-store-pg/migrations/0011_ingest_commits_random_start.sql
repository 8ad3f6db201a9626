-- Starts `ingest_commits` (0010) at a random value, so that a platform made again in this database
-- (`init --force`) does not reach the value a long-running server's subject cache was stamped with in
-- the platform before (`src/batches.rs`). A server of a database migrated while it runs finds the
-- sequence moved and empties its cache, as it does after another server's batch.
SELECT setval('ingest_commits', 1 + floor(random() * 1e15)::bigint, false);
