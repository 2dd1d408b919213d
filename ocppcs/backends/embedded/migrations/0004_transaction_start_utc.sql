-- The start of a transaction in UTC, as `YYYY-MM-DDTHH:MM:SS.mmmZ`, whatever
-- offset the station wrote its timestamp with, so that the TransactionList's
-- dateFrom/dateTo (normalized to the same form) compare correctly. Computed
-- by SQLite from `start_timestamp`, which keeps the station's text (replay
-- detection compares that text).
ALTER TABLE txn ADD COLUMN start_utc TEXT
    GENERATED ALWAYS AS (strftime('%Y-%m-%dT%H:%M:%fZ', start_timestamp)) VIRTUAL;
CREATE INDEX txn_start_utc ON txn (start_utc);
CREATE INDEX txn_identity_start_utc ON txn (identity, start_utc);
