-- The hashes of the stations' AuthorizationKey (security profiles 1 and 2):
-- an opaque hash line per station (scrypt, made by ocppcs.passwd), never the key.
CREATE TABLE ocpp.station_key (
    identity text PRIMARY KEY,
    key_hash text NOT NULL CHECK (length(key_hash) <= 200),
    updated  timestamptz NOT NULL DEFAULT now()
);

-- StationKeyHash(identity) -> the hash line, or NULL when the station has no key.
CREATE FUNCTION ocpp.StationKeyHash(p_identity text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT key_hash FROM ocpp.station_key WHERE identity = p_identity
$$;

-- SetStationKeyHash(identity, hash): store the hash, or with NULL remove the key.
CREATE FUNCTION ocpp.SetStationKeyHash(p_identity text, p_hash text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_hash IS NULL THEN
        DELETE FROM ocpp.station_key WHERE identity = p_identity;
    ELSE
        INSERT INTO ocpp.station_key (identity, key_hash) VALUES (p_identity, p_hash)
        ON CONFLICT (identity) DO UPDATE SET key_hash = excluded.key_hash, updated = now();
    END IF;
END
$$;
