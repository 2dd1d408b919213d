-- The OCPP 1.6 security extensions (security whitepaper edition 3), as the
-- embedded backend's ocppcs/backends/embedded/security.py: the stations'
-- SecurityEventNotifications, the latest LogStatusNotification and
-- SignedFirmwareStatusNotification of each station (with its requestId), and
-- the security profile a station was raised to (its ChangeConfiguration
-- SecurityProfile accepted), below which it may no longer connect.
-- SignCertificate is answered by the node (it needs the CA's key), not here.

CREATE TABLE ocpp.security_event (
    id        bigserial PRIMARY KEY,
    identity  text NOT NULL,
    type      text NOT NULL,
    timestamp timestamptz NOT NULL,
    tech_info text,
    received  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX security_event_identity ON ocpp.security_event (identity, id);

ALTER TABLE ocpp.station
    ADD COLUMN log_status                  text,
    ADD COLUMN log_status_time             timestamptz,
    ADD COLUMN log_request_id              integer,
    ADD COLUMN signed_firmware_status      text,
    ADD COLUMN signed_firmware_status_time timestamptz,
    ADD COLUMN signed_firmware_request_id  integer;

CREATE TABLE ocpp.station_profile (
    identity text PRIMARY KEY,
    profile  integer NOT NULL CHECK (profile BETWEEN 0 AND 3),
    updated  timestamptz NOT NULL DEFAULT now()
);

-- A station (StationView's scalar fields, with node) and its connection:
-- 0011's, with the log and signed-firmware statuses.
CREATE OR REPLACE FUNCTION ocpp.station_json(s ocpp.station, c ocpp.connection) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'identity', s.identity, 'registered', s.registered, 'boot_status', s.boot_status,
        'vendor', s.vendor, 'model', s.model, 'charge_point_serial', s.charge_point_serial,
        'charge_box_serial', s.charge_box_serial, 'firmware_version', s.firmware_version,
        'iccid', s.iccid, 'imsi', s.imsi, 'meter_type', s.meter_type,
        'meter_serial', s.meter_serial, 'last_boot', ocpp.iso(s.last_boot),
        'last_seen', ocpp.iso(s.last_seen),
        'connected', c.identity IS NOT NULL AND c.disconnected IS NULL,
        'last_address', c.address, 'account', s.account,
        'diagnostics_status', s.diagnostics_status,
        'diagnostics_status_time', ocpp.iso(s.diagnostics_status_time),
        'firmware_status', s.firmware_status,
        'firmware_status_time', ocpp.iso(s.firmware_status_time),
        'log_status', s.log_status, 'log_status_time', ocpp.iso(s.log_status_time),
        'log_request_id', s.log_request_id,
        'signed_firmware_status', s.signed_firmware_status,
        'signed_firmware_status_time', ocpp.iso(s.signed_firmware_status_time),
        'signed_firmware_request_id', s.signed_firmware_request_id,
        'created', ocpp.iso(s.created),
        'node', CASE WHEN c.disconnected IS NULL THEN c.node END)
$$;

-- SecurityEventNotification: one more event of the station; answers {}.
CREATE FUNCTION ocpp.SecurityEventNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.security_event (identity, type, timestamp, tech_info)
    VALUES (p_identity, p->>'type', (p->>'timestamp')::timestamptz, p->>'techInfo');
    RETURN '{}';
END
$$;

-- LogStatusNotification: the station's latest status and requestId; answers {}.
CREATE FUNCTION ocpp.LogStatusNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, log_status, log_status_time, log_request_id)
    VALUES (p_identity, p->>'status', now(), (p->>'requestId')::integer)
    ON CONFLICT (identity) DO UPDATE SET log_status = excluded.log_status,
        log_status_time = excluded.log_status_time, log_request_id = excluded.log_request_id;
    RETURN '{}';
END
$$;

-- SignedFirmwareStatusNotification: the station's latest status and
-- requestId; answers {}.
CREATE FUNCTION ocpp.SignedFirmwareStatusNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, signed_firmware_status,
        signed_firmware_status_time, signed_firmware_request_id)
    VALUES (p_identity, p->>'status', now(), (p->>'requestId')::integer)
    ON CONFLICT (identity) DO UPDATE SET signed_firmware_status = excluded.signed_firmware_status,
        signed_firmware_status_time = excluded.signed_firmware_status_time,
        signed_firmware_request_id = excluded.signed_firmware_request_id;
    RETURN '{}';
END
$$;

-- The entry point (0012's), with the three station messages above.
CREATE OR REPLACE FUNCTION ocpp.Parse(identity text, unique_id text, action text, payload jsonb,
    account text, version text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(version, '') NOT IN ('', '1.6', 'ocpp1.6') THEN
        RETURN ocpp.call_error('NotSupported',
            format('OCPP version %s is not supported by this central system', version));
    END IF;
    IF identity IS NULL OR jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN
        RETURN ocpp.call_error('FormationViolation',
            'the payload must be a JSON object and the identity known');
    END IF;
    CASE action
        WHEN 'MeterValues' THEN RETURN ocpp.MeterValues(identity, payload);
        WHEN 'StatusNotification' THEN RETURN ocpp.StatusNotification(identity, payload);
        WHEN 'Heartbeat' THEN RETURN ocpp.Heartbeat(identity, payload);
        WHEN 'Authorize' THEN RETURN ocpp.Authorize(identity, payload);
        WHEN 'StartTransaction' THEN RETURN ocpp.StartTransaction(identity, payload);
        WHEN 'StopTransaction' THEN RETURN ocpp.StopTransaction(identity, payload);
        WHEN 'BootNotification' THEN RETURN ocpp.BootNotification(identity, payload, account);
        WHEN 'DataTransfer' THEN RETURN ocpp.DataTransfer(identity, payload);
        WHEN 'DiagnosticsStatusNotification' THEN
            RETURN ocpp.DiagnosticsStatusNotification(identity, payload);
        WHEN 'FirmwareStatusNotification' THEN
            RETURN ocpp.FirmwareStatusNotification(identity, payload);
        WHEN 'SecurityEventNotification' THEN
            RETURN ocpp.SecurityEventNotification(identity, payload);
        WHEN 'LogStatusNotification' THEN RETURN ocpp.LogStatusNotification(identity, payload);
        WHEN 'SignedFirmwareStatusNotification' THEN
            RETURN ocpp.SignedFirmwareStatusNotification(identity, payload);
        ELSE
            RETURN ocpp.call_error('NotSupported',
                format('%s is not supported by this central system', action));
    END CASE;
END
$$;

-- The copy of a call another decider answered (0013's RecordCall, kept as
-- record_call_base), with the three station messages above.
ALTER FUNCTION ocpp.RecordCall(text, text, text, jsonb, jsonb, text) RENAME TO record_call_base;
CREATE FUNCTION ocpp.RecordCall(identity text, unique_id text, action text, payload jsonb,
    reply jsonb, account text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CASE action
        WHEN 'SecurityEventNotification' THEN
            PERFORM ocpp.SecurityEventNotification(identity, payload);
        WHEN 'LogStatusNotification' THEN PERFORM ocpp.LogStatusNotification(identity, payload);
        WHEN 'SignedFirmwareStatusNotification' THEN
            PERFORM ocpp.SignedFirmwareStatusNotification(identity, payload);
        ELSE
            PERFORM ocpp.record_call_base(identity, unique_id, action, payload, reply, account);
    END CASE;
END
$$;

-- A station's security events, newest first: a page of
-- {"type", "timestamp", "techInfo", "received"}.
CREATE FUNCTION ocpp.SecurityEventList(identity text, lim integer, off integer) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'total', (SELECT count(*) FROM ocpp.security_event AS e WHERE e.identity = $1),
        'items', coalesce((
            SELECT jsonb_agg(jsonb_build_object('type', q.type,
                'timestamp', ocpp.iso(q.timestamp), 'techInfo', q.tech_info,
                'received', ocpp.iso(q.received)) ORDER BY q.id DESC)
            FROM (SELECT * FROM ocpp.security_event AS e WHERE e.identity = $1
                  ORDER BY e.id DESC LIMIT lim OFFSET off) AS q), '[]'))
$$;

-- The security profile the station was raised to, or NULL.
CREATE FUNCTION ocpp.StationProfile(identity text) RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT p.profile FROM ocpp.station_profile AS p WHERE p.identity = $1
$$;

-- Store the security profile the station was raised to (0 to 3, else 23514).
CREATE FUNCTION ocpp.SetStationProfile(identity text, profile integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO ocpp.station_profile AS p (identity, profile) VALUES ($1, $2)
    ON CONFLICT (identity) DO UPDATE SET profile = excluded.profile, updated = now()
$$;
