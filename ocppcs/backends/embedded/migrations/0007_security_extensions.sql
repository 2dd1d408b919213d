-- The OCPP 1.6 security extensions (security whitepaper edition 3):
-- SecurityEventNotification, the latest LogStatusNotification and
-- SignedFirmwareStatusNotification of each station, and the security profile
-- a station was raised to (ChangeConfiguration SecurityProfile accepted),
-- below which it may no longer connect.
CREATE TABLE security_event (
    id        INTEGER PRIMARY KEY,
    identity  TEXT NOT NULL,
    type      TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    tech_info TEXT,
    received  TEXT NOT NULL
);
CREATE INDEX security_event_identity ON security_event (identity, id);

ALTER TABLE station ADD COLUMN log_status TEXT;
ALTER TABLE station ADD COLUMN log_status_time TEXT;
ALTER TABLE station ADD COLUMN log_request_id INTEGER;
ALTER TABLE station ADD COLUMN signed_firmware_status TEXT;
ALTER TABLE station ADD COLUMN signed_firmware_status_time TEXT;
ALTER TABLE station ADD COLUMN signed_firmware_request_id INTEGER;

CREATE TABLE station_profile (
    identity TEXT PRIMARY KEY,
    profile  INTEGER NOT NULL,
    updated  TEXT NOT NULL
) WITHOUT ROWID;
