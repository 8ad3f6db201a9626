-- The publication index holds only what the public lists show (active, published records) and carries
-- each record's window and unit, so that a list's total is counted by an index-only scan instead of a
-- visit to every listed record's row (docs/scale.md §6, "The public lists counted from the index").
-- A first load that left the index out (deferred_indexes, migration 14) finds it made here and only
-- strikes it off.
DROP INDEX IF EXISTS records_item_date;
CREATE INDEX records_item_date ON records (item_no, record_date) INCLUDE (public_until, unit)
    WHERE status = 'active' AND published;
