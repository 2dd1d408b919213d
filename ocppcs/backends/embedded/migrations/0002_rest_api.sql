-- What the REST API needs: refused id tags (onboarding), when reservations
-- were made and ended, and frame-log lookups by action.

-- Id tags answered Invalid, Blocked or Expired to an Authorize or a
-- StartTransaction: the latest refusal of each tag, and how many there were.
CREATE TABLE refused_id_tag (
    id_tag      TEXT PRIMARY KEY NOT NULL,
    status      TEXT NOT NULL,
    identity    TEXT NOT NULL,
    action      TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX refused_id_tag_last_seen ON refused_id_tag (last_seen);

-- NULL for reservations recorded before this migration.
ALTER TABLE reservation ADD COLUMN created TEXT;
ALTER TABLE reservation ADD COLUMN ended TEXT;
CREATE INDEX reservation_created ON reservation (created);

-- GET /Log?action=...: newest first within one action.
CREATE INDEX frame_log_action ON frame_log (action, id);
