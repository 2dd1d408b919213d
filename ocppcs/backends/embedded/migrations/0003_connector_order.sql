-- The order in which connector statuses arrived. Two StatusNotifications in
-- the same millisecond have equal `updated` texts; `seq` still tells which
-- one came last (the station list shows the newest one).
ALTER TABLE connector ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX connector_seq ON connector (seq);
