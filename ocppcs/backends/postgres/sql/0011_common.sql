-- Helpers shared by the rules and the operator functions: the time format of
-- every result, the settings, the idTagInfo of a tag, the JSON items of the
-- views (keys exactly the field names of ocppcs/backends/views.py).

-- A time as ISO-8601 UTC text with milliseconds: 2026-11-24T13:45:00.000Z.
CREATE FUNCTION ocpp.iso(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A setting's value (jsonb), or NULL when unset.
CREATE FUNCTION ocpp.setting(k text) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT value FROM ocpp.setting WHERE key = k);
END
$$;

-- Upsert ocpp.setting from a node's [central] section (a jsonb object, keys
-- as CentralConfig; known_vendors an array). Keys not given are left alone.
CREATE FUNCTION ocpp.Configure(settings jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(settings) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'ocpp.Configure needs a jsonb object, not %', settings
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO ocpp.setting AS s (key, value, updated)
    SELECT e.key, e.value, now() FROM jsonb_each(settings) AS e
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated
    WHERE s.value IS DISTINCT FROM excluded.value;
END
$$;

-- The idTagInfo of a tag under an authorization policy ('open' or 'list')
-- at time t_now: {"status", "expiryDate"?, "parentIdTag"?}. An Accepted tag
-- past its expiry is Expired; a tag not on the list is Invalid.
CREATE FUNCTION ocpp.id_tag_info(tag text, authorization_policy text, t_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT CASE WHEN authorization_policy = 'open' THEN '{"status": "Accepted"}'::jsonb
        ELSE coalesce(
            (SELECT jsonb_strip_nulls(jsonb_build_object(
                'status', CASE WHEN t.status = 'Accepted' AND t.expiry_date < t_now
                               THEN 'Expired' ELSE t.status END,
                'expiryDate', ocpp.iso(t.expiry_date),
                'parentIdTag', t.parent_id_tag))
             FROM ocpp.id_tag AS t WHERE t.id_tag = tag),
            '{"status": "Invalid"}'::jsonb)
        END);
END
$$;

-- Remember a refused tag (status Invalid, Blocked or Expired); others are ignored.
CREATE FUNCTION ocpp.note_refused(p_tag text, p_status text, p_station text, p_action text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_status IN ('Invalid', 'Blocked', 'Expired') THEN
        INSERT INTO ocpp.refused_id_tag AS r
            (id_tag, status, identity, action, first_seen, last_seen)
        VALUES (p_tag, p_status, p_station, p_action, now(), now())
        ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status,
            identity = excluded.identity, action = excluded.action,
            last_seen = excluded.last_seen, count = r.count + 1;
    END IF;
END
$$;

-- --- JSON items of the views ------------------------------------------------------------

CREATE FUNCTION ocpp.connector_json(c ocpp.connector_status) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN c.identity IS NULL THEN NULL ELSE jsonb_build_object(
        'identity', c.identity, 'connector_id', c.connector_id, 'status', c.status,
        'error_code', c.error_code, 'info', c.info, 'vendor_id', c.vendor_id,
        'vendor_error_code', c.vendor_error_code, 'timestamp', ocpp.iso(c.timestamp),
        'updated', ocpp.iso(c.updated)) END
$$;

-- A station (StationView's scalar fields, with node) and its connection.
CREATE FUNCTION ocpp.station_json(s ocpp.station, c ocpp.connection) RETURNS jsonb
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
        'created', ocpp.iso(s.created),
        'node', CASE WHEN c.disconnected IS NULL THEN c.node END)
$$;

-- Every connector's last status of a station, by connector id (a jsonb array).
CREATE FUNCTION ocpp.connectors_json(station text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(ocpp.connector_json(c) ORDER BY c.connector_id), '[]')
        FROM ocpp.connector_status AS c WHERE c.identity = station);
END
$$;

-- A transaction (TransactionView without meter_values); serial the station's
-- charge_point_serial.
CREATE FUNCTION ocpp.transaction_json(t ocpp.transaction, serial text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'identity', t.identity, 'connector_id', t.connector_id,
        'id_tag', t.id_tag, 'meter_start', t.meter_start,
        'start_timestamp', ocpp.iso(t.start_timestamp), 'id_tag_status', t.id_tag_status,
        'id_tag_expiry', ocpp.iso(t.id_tag_expiry), 'id_tag_parent', t.id_tag_parent,
        'reservation_id', t.reservation_id, 'meter_stop', t.meter_stop,
        'stop_timestamp', ocpp.iso(t.stop_timestamp), 'stop_reason', t.stop_reason,
        'stop_id_tag', t.stop_id_tag, 'abandoned_by', t.abandoned_by,
        'created', ocpp.iso(t.created), 'updated', ocpp.iso(t.updated),
        'serial_number', serial)
$$;

CREATE FUNCTION ocpp.meter_value_json(m ocpp.meter_value) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'identity', m.identity, 'connector_id', m.connector_id,
        'transaction_id', m.transaction_id, 'timestamp', ocpp.iso(m.timestamp),
        'value', m.value, 'source', m.source, 'context', m.context, 'format', m.format,
        'measurand', m.measurand, 'phase', m.phase, 'location', m.location, 'unit', m.unit)
$$;

CREATE FUNCTION ocpp.reservation_json(r ocpp.reservation, serial text, date_stop timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', r.id, 'identity', r.identity, 'connector_id', r.connector_id,
        'id_tag', r.id_tag, 'expiry_date', ocpp.iso(r.expiry_date), 'status', r.status,
        'parent_id_tag', r.parent_id_tag, 'transaction_id', r.transaction_id,
        'created', ocpp.iso(r.created), 'ended', ocpp.iso(r.ended),
        'serial_number', serial, 'date_stop', ocpp.iso(date_stop))
$$;

CREATE FUNCTION ocpp.id_tag_json(t ocpp.id_tag) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id_tag', t.id_tag, 'status', t.status, 'expiry_date', ocpp.iso(t.expiry_date),
        'parent_id_tag', t.parent_id_tag)
$$;

CREATE FUNCTION ocpp.refused_id_tag_json(r ocpp.refused_id_tag) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id_tag', r.id_tag, 'status', r.status, 'identity', r.identity, 'action', r.action,
        'first_seen', ocpp.iso(r.first_seen), 'last_seen', ocpp.iso(r.last_seen),
        'count', r.count)
$$;

CREATE FUNCTION ocpp.frame_json(f ocpp.frame_log) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'id', f.id, 'ts', f.ts, 'identity', f.identity, 'direction', f.direction,
        'message_type', f.message_type, 'unique_id', f.unique_id, 'action', f.action,
        'raw', f.raw)
$$;
