-- The emulator's own database: what its stations keep across restarts.

-- One JSON document per station: energy registers, availability, changed
-- configuration keys, the local list and cache, charging profiles,
-- reservations and the transaction ids the central system gave.
CREATE TABLE station_state (
    identity  TEXT PRIMARY KEY NOT NULL,
    state     TEXT NOT NULL
);

-- Transaction-related messages not yet acknowledged by the central system,
-- in the order they are to be sent.
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    identity  TEXT NOT NULL,
    action    TEXT NOT NULL,
    payload   TEXT NOT NULL,
    local_tx  TEXT NOT NULL
);
CREATE INDEX outbox_identity ON outbox (identity, id);
