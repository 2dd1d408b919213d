-- The ocpp schema and its migration ledger. Every later file (NNNN_name.sql,
-- applied in order by ocppcs-init-db) adds to it; a file is applied once, in
-- one transaction, and recorded in ocpp.migration.
CREATE SCHEMA IF NOT EXISTS ocpp;

CREATE TABLE IF NOT EXISTS ocpp.migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
