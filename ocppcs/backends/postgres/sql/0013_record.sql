-- The record's functions beside Parse: the copy of a call some other decider
-- answered (RecordCall, as ocppcs/backends/embedded/copies.py), connections,
-- whether a station is accepted, a station's data, and the frame log.

-- Keep the copy of a call answered by a decider that keeps no record (the
-- webhook): the station's payload with the decider's reply (its
-- transactionId, idTagInfo, registration status). A copy that would change
-- what is kept about something else (a transactionId already another
-- transaction's, or this transaction kept under another id) changes nothing
-- and raises SQLSTATE OC409; an action of which no copy is kept raises 22023.
CREATE FUNCTION ocpp.RecordCall(identity text, unique_id text, action text, payload jsonb,
    reply jsonb, account text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    p jsonb := payload;
    v_id bigint;
    v_status text;
    t ocpp.transaction;
BEGIN
    CASE action
        WHEN 'Heartbeat' THEN PERFORM ocpp.Heartbeat(identity, p);
        WHEN 'MeterValues' THEN PERFORM ocpp.MeterValues(identity, p);
        WHEN 'StatusNotification' THEN PERFORM ocpp.StatusNotification(identity, p);
        WHEN 'DiagnosticsStatusNotification' THEN
            PERFORM ocpp.DiagnosticsStatusNotification(identity, p);
        WHEN 'FirmwareStatusNotification' THEN PERFORM ocpp.FirmwareStatusNotification(identity, p);
        WHEN 'BootNotification' THEN
            v_status := reply->>'status';
            PERFORM ocpp.upsert_boot(identity, p, v_status = 'Accepted', v_status, account);
        WHEN 'Authorize' THEN
            PERFORM ocpp.note_refused(p->>'idTag', reply #>> '{idTagInfo,status}', identity,
                'Authorize');
        WHEN 'StopTransaction' THEN PERFORM ocpp.record_stop(identity, p);
        WHEN 'DataTransfer' THEN
            INSERT INTO ocpp.data_transfer (identity, vendor_id, message_id, data)
            VALUES (identity, p->>'vendorId', p->>'messageId', p->>'data');
        WHEN 'StartTransaction' THEN
            v_id := (reply->>'transactionId')::bigint;
            SELECT * INTO t FROM ocpp.transaction AS x WHERE x.id = v_id;
            IF FOUND THEN
                IF (t.identity, t.connector_id, t.id_tag, t.start_timestamp, t.meter_start)
                   IS NOT DISTINCT FROM (identity, (p->>'connectorId')::integer, p->>'idTag',
                       (p->>'timestamp')::timestamptz, (p->>'meterStart')::bigint) THEN
                    RETURN;  -- a replay
                END IF;
                RAISE EXCEPTION 'transactionId % is already the transaction of % connector % started at %: this one is not kept',
                    v_id, t.identity, t.connector_id, ocpp.iso(t.start_timestamp)
                    USING ERRCODE = 'OC409';
            END IF;
            SELECT * INTO t FROM ocpp.transaction AS x
            WHERE x.identity = identity AND x.connector_id = (p->>'connectorId')::integer
              AND x.id_tag = p->>'idTag' AND x.start_timestamp = (p->>'timestamp')::timestamptz
              AND x.meter_start = (p->>'meterStart')::bigint;
            IF FOUND THEN
                RAISE EXCEPTION 'this transaction is kept as %; the decider answered %', t.id, v_id
                    USING ERRCODE = 'OC409';
            END IF;
            v_status := reply #>> '{idTagInfo,status}';
            INSERT INTO ocpp.transaction (id, identity, connector_id, id_tag, meter_start,
                start_timestamp, reservation_id, id_tag_status, id_tag_expiry, id_tag_parent)
            VALUES (v_id, identity, (p->>'connectorId')::integer, p->>'idTag',
                (p->>'meterStart')::bigint, (p->>'timestamp')::timestamptz,
                (p->>'reservationId')::integer, v_status,
                (reply #>> '{idTagInfo,expiryDate}')::timestamptz,
                reply #>> '{idTagInfo,parentIdTag}');
            -- Ids the sequence hands out later must not collide with the decider's.
            PERFORM setval('ocpp.transaction_id_seq', greatest(v_id, s.last_value))
            FROM ocpp.transaction_id_seq AS s WHERE s.last_value < v_id OR NOT s.is_called;
            IF p->>'reservationId' IS NOT NULL THEN
                UPDATE ocpp.reservation AS r SET status = 'Used', transaction_id = v_id
                WHERE r.id = (p->>'reservationId')::integer AND r.identity = identity;
            END IF;
            PERFORM ocpp.note_refused(p->>'idTag', v_status, identity, 'StartTransaction');
        ELSE
            RAISE EXCEPTION 'no copy is kept of %', action USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END
$$;

-- Whether the station's last boot was Accepted and it is registered (or
-- registration is open).
CREATE FUNCTION ocpp.IsAccepted(identity text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT coalesce((
            SELECT s.boot_status = 'Accepted'
                   AND (s.registered OR coalesce(ocpp.setting('registration') #>> '{}', 'open') = 'open')
            FROM ocpp.station AS s WHERE s.identity = $1), false));
END
$$;

-- A station connected to node (creating its row): its connection, account, last_seen.
CREATE FUNCTION ocpp.StationConnected(identity text, account text, address text, node text)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    INSERT INTO ocpp.station AS s (identity, account, last_seen)
    VALUES (identity, account, now())
    ON CONFLICT ON CONSTRAINT station_pkey DO UPDATE SET account = excluded.account,
        last_seen = excluded.last_seen;
    INSERT INTO ocpp.connection AS c (identity, node, address, connected, disconnected)
    VALUES (identity, node, address, now(), NULL)
    ON CONFLICT ON CONSTRAINT connection_pkey DO UPDATE SET node = excluded.node,
        address = excluded.address, connected = excluded.connected, disconnected = NULL;
END
$$;

-- A station's connection to node closed: only if that node still holds it
-- (it may have reconnected to another node meanwhile).
CREATE FUNCTION ocpp.StationDisconnected(identity text, node text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    UPDATE ocpp.connection AS c SET disconnected = now()
    WHERE c.identity = identity AND c.node IS NOT DISTINCT FROM node AND c.disconnected IS NULL;
    IF FOUND THEN
        UPDATE ocpp.station AS s SET last_seen = now() WHERE s.identity = identity;
    END IF;
END
$$;

-- A station (a StationView item with connectors and node), or NULL.
CREATE FUNCTION ocpp.GetStation(identity text) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT ocpp.station_json(s, c) || jsonb_build_object('connectors',
            ocpp.connectors_json(s.identity))
        FROM ocpp.station AS s LEFT JOIN ocpp.connection AS c ON c.identity = s.identity
        WHERE s.identity = $1);
END
$$;

-- Append a batch of frame-log rows in one statement: a jsonb array of
-- objects with the keys of FrameRecord (ts, identity, direction,
-- message_type, unique_id, action, raw as text).
CREATE FUNCTION ocpp.LogFrames(frames jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.frame_log (ts, identity, direction, message_type, unique_id, action, raw)
    SELECT f.ts, f.identity, f.direction, f.message_type, f.unique_id, f.action, f.raw
    FROM jsonb_to_recordset(frames) AS f(ts double precision, identity text, direction text,
        message_type smallint, unique_id text, action text, raw text);
END
$$;

-- Bound the frame log: delete the rows beyond the newest max_rows and those
-- older than max_age seconds (NULL or 0: no such bound). Returns how many
-- rows were deleted. Run it from a scheduler (each node, cron, pg_cron).
CREATE FUNCTION ocpp.PruneFrames(max_rows bigint, max_age double precision) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint := 0;
    k bigint;
BEGIN
    IF coalesce(max_rows, 0) > 0 THEN
        DELETE FROM ocpp.frame_log WHERE id <= (
            SELECT id FROM ocpp.frame_log ORDER BY id DESC OFFSET max_rows LIMIT 1);
        GET DIAGNOSTICS k = ROW_COUNT;
        n := n + k;
    END IF;
    IF coalesce(max_age, 0) > 0 THEN
        DELETE FROM ocpp.frame_log
        WHERE ts < extract(epoch FROM now()) - max_age;
        GET DIAGNOSTICS k = ROW_COUNT;
        n := n + k;
    END IF;
    RETURN n;
END
$$;
