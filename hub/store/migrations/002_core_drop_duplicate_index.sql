-- punches_device_seq duplicated the index behind UNIQUE (device_id, seq): one more B-tree write per
-- ingested punch for nothing. The unique index serves every (device_id, seq) lookup.
DROP INDEX IF EXISTS punches_device_seq;
