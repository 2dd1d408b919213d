-- The embedded backend's first schema.
--
-- Timestamps sent by stations are kept as the ISO-8601 text received.
-- Timestamps made by the central system are ISO-8601 UTC text with
-- milliseconds and a "Z" ("2026-11-24T13:45:00.000Z"), so they compare as text.
-- frame_log.ts is seconds since the epoch (REAL), for cheap age pruning.

CREATE TABLE station (
    identity                 TEXT PRIMARY KEY NOT NULL,
    registered               INTEGER NOT NULL DEFAULT 0 CHECK (registered IN (0, 1)),
    boot_status              TEXT CHECK (boot_status IN ('Accepted', 'Pending', 'Rejected')),
    vendor                   TEXT,
    model                    TEXT,
    charge_point_serial      TEXT,
    charge_box_serial        TEXT,
    firmware_version         TEXT,
    iccid                    TEXT,
    imsi                     TEXT,
    meter_type               TEXT,
    meter_serial             TEXT,
    last_boot                TEXT,
    last_seen                TEXT,
    connected                INTEGER NOT NULL DEFAULT 0 CHECK (connected IN (0, 1)),
    last_address             TEXT,
    account                  TEXT,
    diagnostics_status       TEXT,
    diagnostics_status_time  TEXT,
    firmware_status          TEXT,
    firmware_status_time     TEXT,
    created                  TEXT
);

CREATE TABLE connector (
    identity           TEXT NOT NULL,
    connector_id       INTEGER NOT NULL,
    status             TEXT,
    error_code         TEXT,
    info               TEXT,
    vendor_id          TEXT,
    vendor_error_code  TEXT,
    timestamp          TEXT,
    updated            TEXT,
    PRIMARY KEY (identity, connector_id)
) WITHOUT ROWID;

CREATE TABLE id_tag (
    id_tag         TEXT PRIMARY KEY NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')),
    expiry_date    TEXT,
    parent_id_tag  TEXT
);

-- AUTOINCREMENT: transaction ids never repeat, even after deletes and restarts.
CREATE TABLE txn (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    identity        TEXT NOT NULL,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT NOT NULL,
    meter_start     INTEGER NOT NULL,
    start_timestamp TEXT NOT NULL,
    reservation_id  INTEGER,
    id_tag_status   TEXT NOT NULL,
    id_tag_expiry   TEXT,
    id_tag_parent   TEXT,
    meter_stop      INTEGER,
    stop_timestamp  TEXT,
    stop_reason     TEXT,
    stop_id_tag     TEXT,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
);
-- Replay detection: a station re-sending the same StartTransaction.
CREATE UNIQUE INDEX txn_replay ON txn (identity, connector_id, id_tag, start_timestamp, meter_start);
CREATE INDEX txn_identity ON txn (identity, start_timestamp);
CREATE INDEX txn_start ON txn (start_timestamp);
-- ConcurrentTx: running transactions by tag.
CREATE INDEX txn_running_tag ON txn (id_tag) WHERE stop_timestamp IS NULL;

CREATE TABLE meter_value (
    id              INTEGER PRIMARY KEY,
    identity        TEXT NOT NULL,
    connector_id    INTEGER NOT NULL,
    transaction_id  INTEGER,
    timestamp       TEXT NOT NULL,
    value           TEXT NOT NULL,
    context         TEXT,
    format          TEXT,
    measurand       TEXT,
    phase           TEXT,
    location        TEXT,
    unit            TEXT,
    source          TEXT NOT NULL CHECK (source IN ('MeterValues', 'StopTransaction'))
);
CREATE INDEX meter_value_txn ON meter_value (transaction_id) WHERE transaction_id IS NOT NULL;
CREATE INDEX meter_value_identity ON meter_value (identity, connector_id);

CREATE TABLE reservation (
    id              INTEGER PRIMARY KEY,
    identity        TEXT NOT NULL,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT NOT NULL,
    parent_id_tag   TEXT,
    expiry_date     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'Reserved'
                    CHECK (status IN ('Reserved', 'Used', 'Cancelled', 'Expired')),
    transaction_id  INTEGER
);
CREATE INDEX reservation_identity ON reservation (identity, connector_id);

CREATE TABLE data_transfer (
    id          INTEGER PRIMARY KEY,
    identity    TEXT NOT NULL,
    vendor_id   TEXT NOT NULL,
    message_id  TEXT,
    data        TEXT,
    received    TEXT NOT NULL
);
CREATE INDEX data_transfer_identity ON data_transfer (identity);

CREATE TABLE frame_log (
    id            INTEGER PRIMARY KEY,
    ts            REAL NOT NULL,
    identity      TEXT NOT NULL,
    direction     TEXT NOT NULL,
    message_type  INTEGER NOT NULL,
    unique_id     TEXT NOT NULL,
    action        TEXT NOT NULL,
    raw           TEXT NOT NULL
);
CREATE INDEX frame_log_ts ON frame_log (ts);
CREATE INDEX frame_log_identity ON frame_log (identity, id);
