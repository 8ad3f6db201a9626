-- The publication index holds only what the public lists show (active, published records) and, beside
-- each entry's key, the record's window and unit, so that a list's total is counted from the index
-- alone. Counted through the table, the 7,245,000 published licences of a million-subject store took
-- 27-33 s; through this index 0.8 s, with or without a unit (`sqlite3` shell, this machine,
-- 2026-12-07). It takes ~2 s longer to build at the end of a first load (docs/ingest.md, "The public
-- lists counted from the index").
DROP INDEX IF EXISTS records_item_date;
CREATE INDEX records_item_date ON records (item || ' ' || record_date, public_until, unit) WHERE status = 'active' AND published = 1;
