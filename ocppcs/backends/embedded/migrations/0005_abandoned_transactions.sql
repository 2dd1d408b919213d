-- Transactions that never got their StopTransaction: a StartTransaction on a
-- connector closes whatever transaction was still open on that connector of
-- that station (the station lost it: power loss, reset, replacement). The
-- closed one keeps an estimated stop (meter_stop, stop_timestamp from the
-- newest data known for it) and `abandoned_by`, the id of the transaction
-- whose start closed it. A late StopTransaction replaces the estimate with
-- the station's data and clears `abandoned_by`. NULL for every transaction
-- recorded before this migration (an open one is closed at the next start on
-- its connector).
ALTER TABLE txn ADD COLUMN abandoned_by INTEGER;
-- The transactions still open on a connector, found at every StartTransaction.
CREATE INDEX txn_open_connector ON txn (identity, connector_id) WHERE stop_timestamp IS NULL;
