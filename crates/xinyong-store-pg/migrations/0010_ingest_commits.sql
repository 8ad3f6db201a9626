-- Counts the commits of batches, the only writers of subjects: every batch takes a value before it
-- commits. A process keeps the subjects its batches resolved from one batch to the next
-- (`src/batches.rs`) and trusts them only while this sequence is where its own last commit left it.
CREATE SEQUENCE ingest_commits;
