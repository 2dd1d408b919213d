-- Station AuthorizationKeys for security profiles 1 and 2 (HTTP Basic on the
-- WebSocket upgrade): one scrypt hash line (ocppcs.passwd) per station, never
-- the key itself. A station may have a key before it ever connected.
CREATE TABLE station_key (
    identity TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    updated TEXT NOT NULL
) WITHOUT ROWID;
