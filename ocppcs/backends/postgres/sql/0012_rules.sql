-- The rules: ocpp.Parse and one function per station-initiated OCPP 1.6
-- action, the same answers and records as the embedded backend
-- (ocppcs/backends/embedded/policy.py, copies.py, abandon.py) under the
-- policy of ocpp.setting. Each is plain SQL (no dynamic SQL), so PL/pgSQL
-- caches every plan for the session. An operator may CREATE OR REPLACE any
-- action's function with its own business logic; Parse stays the entry point.
--
-- Payloads are those of the OCPP 1.6 JSON schemas (the central system
-- validates them before calling); fields are read with ->> and cast, so a
-- number sent as a string works too.

-- A CallError result: {"messageTypeId": 4, "errorCode", "errorDescription", "errorDetails"}.
CREATE FUNCTION ocpp.call_error(code text, description text, details jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('messageTypeId', 4, 'errorCode', code,
        'errorDescription', description, 'errorDetails', coalesce(details, '{}'))
$$;

CREATE FUNCTION ocpp.Heartbeat(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ocpp.station SET last_seen = now() WHERE identity = p_identity;
    RETURN jsonb_build_object('currentTime', ocpp.iso(now()));
END
$$;

CREATE FUNCTION ocpp.StatusNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.connector_status AS c (identity, connector_id, status, error_code, info,
        vendor_id, vendor_error_code, timestamp, updated)
    VALUES (p_identity, (p->>'connectorId')::integer, p->>'status', p->>'errorCode',
        p->>'info', p->>'vendorId', p->>'vendorErrorCode', (p->>'timestamp')::timestamptz, now())
    ON CONFLICT (identity, connector_id) DO UPDATE SET status = excluded.status,
        error_code = excluded.error_code, info = excluded.info, vendor_id = excluded.vendor_id,
        vendor_error_code = excluded.vendor_error_code, timestamp = excluded.timestamp,
        updated = excluded.updated, seq = excluded.seq;
    RETURN '{}';
END
$$;

CREATE FUNCTION ocpp.MeterValues(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.meter_value (identity, connector_id, transaction_id, timestamp, value,
        context, format, measurand, phase, location, unit, source)
    SELECT p_identity, (p->>'connectorId')::integer, (p->>'transactionId')::bigint,
        (mv->>'timestamp')::timestamptz, sv->>'value', sv->>'context', sv->>'format',
        sv->>'measurand', sv->>'phase', sv->>'location', sv->>'unit', 'MeterValues'
    FROM jsonb_array_elements(p->'meterValue') AS mv,
        jsonb_array_elements(mv->'sampledValue') AS sv;
    RETURN '{}';
END
$$;

-- Keep a BootNotification's data and the registration status answered.
CREATE FUNCTION ocpp.upsert_boot(p_identity text, p jsonb, p_registered boolean,
    p_status text, p_account text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, registered, boot_status, vendor, model,
        charge_point_serial, charge_box_serial, firmware_version, iccid, imsi, meter_type,
        meter_serial, last_boot, last_seen, account)
    VALUES (p_identity, p_registered, p_status, p->>'chargePointVendor', p->>'chargePointModel',
        p->>'chargePointSerialNumber', p->>'chargeBoxSerialNumber', p->>'firmwareVersion',
        p->>'iccid', p->>'imsi', p->>'meterType', p->>'meterSerialNumber', now(), now(),
        nullif(p_account, ''))
    ON CONFLICT (identity) DO UPDATE SET registered = excluded.registered,
        boot_status = excluded.boot_status, vendor = excluded.vendor, model = excluded.model,
        charge_point_serial = excluded.charge_point_serial,
        charge_box_serial = excluded.charge_box_serial,
        firmware_version = excluded.firmware_version, iccid = excluded.iccid,
        imsi = excluded.imsi, meter_type = excluded.meter_type,
        meter_serial = excluded.meter_serial, last_boot = excluded.last_boot,
        last_seen = excluded.last_seen, account = coalesce(excluded.account, s.account);
END
$$;

-- registration = open: Accepted (and registered). known: Accepted when
-- registered, else unknown_station (Rejected or Pending) with retry_interval.
CREATE FUNCTION ocpp.BootNotification(p_identity text, p jsonb, p_account text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_registration text;
    v_unknown text;
    v_heartbeat integer;
    v_retry integer;
    v_registered boolean;
    v_status text;
BEGIN
    SELECT max(value #>> '{}') FILTER (WHERE key = 'registration'),
           max(value #>> '{}') FILTER (WHERE key = 'unknown_station'),
           max(value #>> '{}') FILTER (WHERE key = 'heartbeat_interval'),
           max(value #>> '{}') FILTER (WHERE key = 'retry_interval')
    INTO v_registration, v_unknown, v_heartbeat, v_retry
    FROM ocpp.setting
    WHERE key IN ('registration', 'unknown_station', 'heartbeat_interval', 'retry_interval');
    IF coalesce(v_registration, 'open') = 'open' THEN
        v_registered := true;
    ELSE
        SELECT s.registered INTO v_registered FROM ocpp.station AS s
        WHERE s.identity = p_identity;
        v_registered := coalesce(v_registered, false);
    END IF;
    v_status := CASE WHEN v_registered THEN 'Accepted' ELSE coalesce(v_unknown, 'Rejected') END;
    PERFORM ocpp.upsert_boot(p_identity, p, v_registered, v_status, p_account);
    RETURN jsonb_build_object('status', v_status, 'currentTime', ocpp.iso(now()),
        'interval', CASE WHEN v_status = 'Accepted' THEN coalesce(v_heartbeat, 60)
                         ELSE coalesce(v_retry, 60) END);
END
$$;

CREATE FUNCTION ocpp.Authorize(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_info jsonb := ocpp.id_tag_info(p->>'idTag',
        coalesce(ocpp.setting('authorization') #>> '{}', 'open'), now());
BEGIN
    IF v_info->>'status' <> 'Accepted' THEN
        PERFORM ocpp.note_refused(p->>'idTag', v_info->>'status', p_identity, 'Authorize');
    END IF;
    RETURN jsonb_build_object('idTagInfo', v_info);
END
$$;

-- The StartTransaction reply of a transaction kept (a replay gets it again).
CREATE FUNCTION ocpp.start_reply(t ocpp.transaction) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('idTagInfo', jsonb_strip_nulls(jsonb_build_object(
        'status', t.id_tag_status, 'expiryDate', ocpp.iso(t.id_tag_expiry),
        'parentIdTag', t.id_tag_parent)), 'transactionId', t.id)
$$;

-- Close, as abandoned by transaction p_new_id (started at p_new_start), every
-- other transaction still open on that connector of that station. The stop
-- is estimated as in ocppcs/backends/embedded/abandon.py: meter_stop from its
-- newest stored energy register reading (Energy.Active.Import.Register or no
-- measurand, no phase, Raw, in Wh, kWh or no unit), else its meterStart;
-- stop_timestamp from its latest meter value, else p_new_start. Each one
-- closed raises a NOTICE (for the node's log).
CREATE FUNCTION ocpp.abandon_open(p_identity text, p_connector integer, p_new_id bigint,
    p_new_start timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        UPDATE ocpp.transaction AS t SET
            meter_stop = coalesce((
                SELECT round(e.v)::bigint FROM (
                    SELECT m.id, CASE WHEN m.value ~ '^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,2})?\s*$'
                        THEN m.value::double precision
                             * CASE WHEN m.unit = 'kWh' THEN 1000 ELSE 1 END END AS v
                    FROM ocpp.meter_value AS m
                    WHERE m.transaction_id = t.id
                      AND (m.measurand IS NULL OR m.measurand = 'Energy.Active.Import.Register')
                      AND m.phase IS NULL AND (m.format IS NULL OR m.format = 'Raw')
                      AND (m.unit IS NULL OR m.unit IN ('Wh', 'kWh'))) AS e
                WHERE e.v IS NOT NULL AND abs(e.v) < 9e18
                ORDER BY e.id DESC LIMIT 1), t.meter_start),
            stop_timestamp = coalesce((SELECT max(m.timestamp) FROM ocpp.meter_value AS m
                                       WHERE m.transaction_id = t.id), p_new_start),
            abandoned_by = p_new_id, updated = now()
        WHERE t.identity = p_identity AND t.connector_id = p_connector
          AND t.stop_timestamp IS NULL AND t.id <> p_new_id
        RETURNING t.id, t.id_tag, t.meter_stop, t.stop_timestamp
    LOOP
        n := n + 1;
        RAISE NOTICE 'Transaction % (idTag %) of % connector % never got its StopTransaction: closed as abandoned by transaction % (estimated meterStop % at %)',
            r.id, r.id_tag, p_identity, p_connector, p_new_id, r.meter_stop,
            ocpp.iso(r.stop_timestamp);
    END LOOP;
    RETURN n;
END
$$;

-- Always a new transaction id, except for a replay (same station, connector,
-- idTag, timestamp and meterStart), which gets the same id and idTagInfo.
-- concurrent_tx = refuse: an Accepted tag still in an Accepted transaction
-- open on another connector or station gets ConcurrentTx. A reservationId
-- marks that reservation of the station Used. Refusals are noted (not again
-- for a replay); transactions open on the connector are closed as abandoned.
CREATE FUNCTION ocpp.StartTransaction(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_connector integer := (p->>'connectorId')::integer;
    v_tag text := p->>'idTag';
    v_start timestamptz := (p->>'timestamp')::timestamptz;
    v_meter bigint := (p->>'meterStart')::bigint;
    v_reservation integer := (p->>'reservationId')::integer;
    v_authorization text;
    v_concurrent text;
    v_info jsonb;
    v_id bigint;
    t ocpp.transaction;
BEGIN
    SELECT * INTO t FROM ocpp.transaction AS x
    WHERE x.identity = p_identity AND x.connector_id = v_connector AND x.id_tag = v_tag
      AND x.start_timestamp = v_start AND x.meter_start = v_meter;
    IF FOUND THEN
        RETURN ocpp.start_reply(t);
    END IF;
    SELECT max(value #>> '{}') FILTER (WHERE key = 'authorization'),
           max(value #>> '{}') FILTER (WHERE key = 'concurrent_tx')
    INTO v_authorization, v_concurrent
    FROM ocpp.setting WHERE key IN ('authorization', 'concurrent_tx');
    v_info := ocpp.id_tag_info(v_tag, coalesce(v_authorization, 'open'), now());
    IF coalesce(v_concurrent, 'refuse') = 'refuse' AND v_info->>'status' = 'Accepted' THEN
        -- One tag's starts one at a time, so two stations can't both get Accepted.
        PERFORM pg_advisory_xact_lock(1, hashtext(v_tag));
        IF EXISTS (SELECT 1 FROM ocpp.transaction AS x
                   WHERE x.id_tag = v_tag AND x.stop_timestamp IS NULL
                     AND x.id_tag_status = 'Accepted'
                     AND NOT (x.identity = p_identity AND x.connector_id = v_connector)) THEN
            v_info := jsonb_set(v_info, '{status}', '"ConcurrentTx"');
        END IF;
    END IF;
    INSERT INTO ocpp.transaction AS x (identity, connector_id, id_tag, meter_start,
        start_timestamp, reservation_id, id_tag_status, id_tag_expiry, id_tag_parent)
    VALUES (p_identity, v_connector, v_tag, v_meter, v_start, v_reservation,
        v_info->>'status', (v_info->>'expiryDate')::timestamptz, v_info->>'parentIdTag')
    ON CONFLICT (identity, connector_id, id_tag, start_timestamp, meter_start) DO NOTHING
    RETURNING x.id INTO v_id;
    IF v_id IS NULL THEN  -- the same start, committed meanwhile by another session
        SELECT * INTO t FROM ocpp.transaction AS x
        WHERE x.identity = p_identity AND x.connector_id = v_connector AND x.id_tag = v_tag
          AND x.start_timestamp = v_start AND x.meter_start = v_meter;
        RETURN ocpp.start_reply(t);
    END IF;
    IF v_reservation IS NOT NULL THEN
        UPDATE ocpp.reservation SET status = 'Used', transaction_id = v_id
        WHERE id = v_reservation AND identity = p_identity;
    END IF;
    IF v_info->>'status' <> 'Accepted' THEN
        PERFORM ocpp.note_refused(v_tag, v_info->>'status', p_identity, 'StartTransaction');
    END IF;
    PERFORM ocpp.abandon_open(p_identity, v_connector, v_id, v_start);
    RETURN jsonb_build_object('idTagInfo', v_info, 'transactionId', v_id);
END
$$;

-- Close the transaction of a StopTransaction and keep its transactionData.
-- A replay of a stopped transaction changes nothing; an abandoned one is
-- completed (the station's data replace the estimate, abandoned_by cleared).
-- Returns 'stopped', 'completed', 'replay' or 'unknown' (no such id: nothing
-- kept; a NOTICE says so).
CREATE FUNCTION ocpp.record_stop(p_identity text, p jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := (p->>'transactionId')::bigint;
    r record;
BEGIN
    SELECT t.identity, t.connector_id, t.stop_timestamp, t.abandoned_by INTO r
    FROM ocpp.transaction AS t WHERE t.id = v_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE NOTICE 'StopTransaction for unknown transaction % from %', v_id, p_identity;
        RETURN 'unknown';
    END IF;
    IF r.stop_timestamp IS NOT NULL AND r.abandoned_by IS NULL THEN
        RETURN 'replay';
    END IF;
    UPDATE ocpp.transaction SET meter_stop = (p->>'meterStop')::bigint,
        stop_timestamp = (p->>'timestamp')::timestamptz, stop_reason = p->>'reason',
        stop_id_tag = p->>'idTag', abandoned_by = NULL, updated = now()
    WHERE id = v_id;
    INSERT INTO ocpp.meter_value (identity, connector_id, transaction_id, timestamp, value,
        context, format, measurand, phase, location, unit, source)
    SELECT r.identity, r.connector_id, v_id, (mv->>'timestamp')::timestamptz, sv->>'value',
        sv->>'context', sv->>'format', sv->>'measurand', sv->>'phase', sv->>'location',
        sv->>'unit', 'StopTransaction'
    FROM jsonb_array_elements(coalesce(p->'transactionData', '[]')) AS mv,
        jsonb_array_elements(mv->'sampledValue') AS sv;
    IF r.abandoned_by IS NOT NULL THEN
        RAISE NOTICE 'Late StopTransaction from % completes the abandoned transaction %',
            p_identity, v_id;
        RETURN 'completed';
    END IF;
    RETURN 'stopped';
END
$$;

CREATE FUNCTION ocpp.StopTransaction(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_reply jsonb := '{}';
BEGIN
    IF p->>'idTag' IS NOT NULL THEN
        v_reply := jsonb_build_object('idTagInfo', ocpp.id_tag_info(p->>'idTag',
            coalesce(ocpp.setting('authorization') #>> '{}', 'open'), now()));
    END IF;
    PERFORM ocpp.record_stop(p_identity, p);
    RETURN v_reply;
END
$$;

-- The vendors of known_vendors are Accepted (their message kept); others UnknownVendorId.
CREATE FUNCTION ocpp.DataTransfer(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT coalesce(ocpp.setting('known_vendors') ? (p->>'vendorId'), false) THEN
        RETURN '{"status": "UnknownVendorId"}';
    END IF;
    INSERT INTO ocpp.data_transfer (identity, vendor_id, message_id, data)
    VALUES (p_identity, p->>'vendorId', p->>'messageId', p->>'data');
    RETURN '{"status": "Accepted"}';
END
$$;

CREATE FUNCTION ocpp.DiagnosticsStatusNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, diagnostics_status, diagnostics_status_time)
    VALUES (p_identity, p->>'status', now())
    ON CONFLICT (identity) DO UPDATE SET diagnostics_status = excluded.diagnostics_status,
        diagnostics_status_time = excluded.diagnostics_status_time;
    RETURN '{}';
END
$$;

CREATE FUNCTION ocpp.FirmwareStatusNotification(p_identity text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, firmware_status, firmware_status_time)
    VALUES (p_identity, p->>'status', now())
    ON CONFLICT (identity) DO UPDATE SET firmware_status = excluded.firmware_status,
        firmware_status_time = excluded.firmware_status_time;
    RETURN '{}';
END
$$;

-- The entry point: one station-initiated CALL, decided and recorded in one
-- statement. Returns the CallResult payload, or a CallError
-- {"messageTypeId": 4, "errorCode", "errorDescription", "errorDetails"}.
-- version: '1.6' (or 'ocpp1.6'; NULL or '' mean 1.6).
CREATE FUNCTION ocpp.Parse(identity text, unique_id text, action text, payload jsonb,
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
        ELSE
            RETURN ocpp.call_error('NotSupported',
                format('%s is not supported by this central system', action));
    END CASE;
END
$$;

-- Several calls in one statement and one transaction (an extension beside
-- Parse, for a node that groups the calls arriving together): calls is an
-- array of [identity, unique_id, action, payload, account, version]; the
-- result the array of their Parse results, in order. The statement and
-- commit cost is shared, which about halves the server's CPU per call. A
-- call that raises (a deadlock with another batch, bad input) gets a
-- CallError InternalError and leaves nothing behind; the others go on.
CREATE FUNCTION ocpp.ParseBatch(calls jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    c jsonb;
    results jsonb[] := '{}';
BEGIN
    FOR c IN SELECT value FROM jsonb_array_elements(calls) LOOP
        BEGIN
            results := results || ocpp.Parse(c->>0, c->>1, c->>2, c->3, c->>4, c->>5);
        EXCEPTION WHEN OTHERS THEN
            results := results || ocpp.call_error('InternalError', SQLERRM,
                jsonb_build_object('sqlstate', SQLSTATE));
        END;
    END LOOP;
    RETURN to_jsonb(results);
END
$$;
