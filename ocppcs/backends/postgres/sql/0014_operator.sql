-- The operator store behind the REST API (IOperatorStore of
-- ocppcs/backends/interface.py), as ocppcs/backends/embedded/reads.py and
-- admin.py. A page is {"total": n, "items": [...]}; item keys are the field
-- names of the views (ocppcs/backends/views.py). NULL filters are no filter;
-- a NULL lim is no limit. Bad statuses raise SQLSTATE 22023.

CREATE FUNCTION ocpp.ChargePointList(lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object('total', (SELECT count(*) FROM ocpp.station), 'items',
            coalesce((SELECT jsonb_agg(ocpp.station_json(q.s, q.c) || jsonb_build_object(
                'connectors', ocpp.connectors_json((q.s).identity),
                'latest', (SELECT ocpp.connector_json(x) FROM ocpp.connector_status AS x
                           WHERE x.identity = (q.s).identity ORDER BY x.seq DESC LIMIT 1))
                ORDER BY (q.s).identity)
            FROM (SELECT s, c FROM ocpp.station AS s
                  LEFT JOIN ocpp.connection AS c ON c.identity = s.identity
                  ORDER BY s.identity LIMIT lim OFFSET off) AS q), '[]')));
END
$$;

-- A station with its connectors and open transactions, or NULL.
CREATE FUNCTION ocpp.ChargePoint(identity text) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT ocpp.station_json(s, c) || jsonb_build_object(
            'connectors', ocpp.connectors_json(s.identity),
            'open_transactions', coalesce((
                SELECT jsonb_agg(ocpp.transaction_json(t, s.charge_point_serial) ORDER BY t.id)
                FROM ocpp.transaction AS t
                WHERE t.identity = s.identity AND t.stop_timestamp IS NULL), '[]'))
        FROM ocpp.station AS s LEFT JOIN ocpp.connection AS c ON c.identity = s.identity
        WHERE s.identity = $1);
END
$$;

-- Register a station (for registration = known), creating its row if needed.
CREATE FUNCTION ocpp.RegisterStation(identity text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, registered) VALUES ($1, true)
    ON CONFLICT ON CONSTRAINT station_pkey DO UPDATE SET registered = true;
END
$$;

-- Unregister a station: with registration = known its next boot gets unknown_station.
CREATE FUNCTION ocpp.UnregisterStation(identity text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ocpp.station AS s (identity, registered) VALUES ($1, false)
    ON CONFLICT ON CONSTRAINT station_pkey DO UPDATE SET registered = false;
END
$$;

-- Undo a registration: a station that never connected, booted or charged is
-- deleted ('removed'); any other is unregistered and keeps its history
-- ('unregistered'); NULL for an unknown station.
CREATE FUNCTION ocpp.RemoveStation(identity text) RETURNS text
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    v_fresh boolean;
BEGIN
    SELECT s.last_boot IS NULL AND s.last_seen IS NULL
           AND NOT EXISTS (SELECT 1 FROM ocpp.transaction AS t WHERE t.identity = s.identity)
    INTO v_fresh FROM ocpp.station AS s WHERE s.identity = identity FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_fresh THEN
        DELETE FROM ocpp.connector_status AS c WHERE c.identity = identity;
        DELETE FROM ocpp.connection AS c WHERE c.identity = identity;
        DELETE FROM ocpp.station AS s WHERE s.identity = identity;
        RETURN 'removed';
    END IF;
    UPDATE ocpp.station AS s SET registered = false WHERE s.identity = identity;
    RETURN 'unregistered';
END
$$;

-- Stations whose last boot was Rejected or Pending and that are not registered.
CREATE FUNCTION ocpp.RejectedStationList(lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object('total', (SELECT count(*) FROM ocpp.station AS s
                WHERE NOT s.registered AND s.boot_status IN ('Rejected', 'Pending')),
            'items', coalesce((SELECT jsonb_agg(ocpp.station_json(q.s, q.c)
                    ORDER BY (q.s).last_boot DESC, (q.s).identity)
                FROM (SELECT s, c FROM ocpp.station AS s
                      LEFT JOIN ocpp.connection AS c ON c.identity = s.identity
                      WHERE NOT s.registered AND s.boot_status IN ('Rejected', 'Pending')
                      ORDER BY s.last_boot DESC, s.identity LIMIT lim OFFSET off) AS q), '[]')));
END
$$;

-- Transactions, newest first, of one station or all, started in
-- [date_from, date_to), of one idTag or all.
CREATE FUNCTION ocpp.TransactionList(identity text, date_from timestamptz,
    date_to timestamptz, lim integer, off integer, id_tag text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
#variable_conflict use_variable
DECLARE
    v_total bigint;
    v_items jsonb;
BEGIN
    SELECT count(*) INTO v_total FROM ocpp.transaction AS t
    WHERE (identity IS NULL OR t.identity = identity)
      AND (date_from IS NULL OR t.start_timestamp >= date_from)
      AND (date_to IS NULL OR t.start_timestamp < date_to)
      AND (id_tag IS NULL OR t.id_tag = id_tag);
    SELECT coalesce(jsonb_agg(ocpp.transaction_json(q.t, s.charge_point_serial)
            ORDER BY (q.t).id DESC), '[]')
    INTO v_items
    FROM (SELECT t FROM ocpp.transaction AS t
          WHERE (identity IS NULL OR t.identity = identity)
            AND (date_from IS NULL OR t.start_timestamp >= date_from)
            AND (date_to IS NULL OR t.start_timestamp < date_to)
            AND (id_tag IS NULL OR t.id_tag = id_tag)
          ORDER BY t.id DESC LIMIT lim OFFSET off) AS q
    LEFT JOIN ocpp.station AS s ON s.identity = (q.t).identity;
    RETURN jsonb_build_object('total', v_total, 'items', v_items);
END
$$;

-- A transaction with its meter_values (in arrival order), or NULL.
CREATE FUNCTION ocpp.Transaction(id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT ocpp.transaction_json(t, s.charge_point_serial) || jsonb_build_object(
            'meter_values', coalesce((SELECT jsonb_agg(ocpp.meter_value_json(m) ORDER BY m.id)
                FROM ocpp.meter_value AS m WHERE m.transaction_id = t.id), '[]'))
        FROM ocpp.transaction AS t LEFT JOIN ocpp.station AS s ON s.identity = t.identity
        WHERE t.id = $1);
END
$$;

-- Reservations, newest first, of one station or all, made in [date_from,
-- date_to); date_stop is when one ended (or the transaction using it
-- started). Reserved ones past their expiry become Expired first.
CREATE FUNCTION ocpp.ReservationList(identity text, date_from timestamptz,
    date_to timestamptz, lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    v_total bigint;
    v_items jsonb;
BEGIN
    UPDATE ocpp.reservation AS r SET status = 'Expired', ended = coalesce(r.ended, r.expiry_date)
    WHERE r.status = 'Reserved' AND r.expiry_date < now();
    SELECT count(*) INTO v_total FROM ocpp.reservation AS r
    WHERE (identity IS NULL OR r.identity = identity)
      AND (date_from IS NULL OR r.created >= date_from)
      AND (date_to IS NULL OR r.created < date_to);
    SELECT coalesce(jsonb_agg(ocpp.reservation_json(q.r, s.charge_point_serial,
            coalesce((q.r).ended, t.start_timestamp)) ORDER BY (q.r).id DESC), '[]')
    INTO v_items
    FROM (SELECT r FROM ocpp.reservation AS r
          WHERE (identity IS NULL OR r.identity = identity)
            AND (date_from IS NULL OR r.created >= date_from)
            AND (date_to IS NULL OR r.created < date_to)
          ORDER BY r.id DESC LIMIT lim OFFSET off) AS q
    LEFT JOIN ocpp.station AS s ON s.identity = (q.r).identity
    LEFT JOIN ocpp.transaction AS t ON t.id = (q.r).transaction_id;
    RETURN jsonb_build_object('total', v_total, 'items', v_items);
END
$$;

-- One reservation (a ReservationView item), or NULL.
CREATE FUNCTION ocpp.GetReservation(reservation_id integer) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT ocpp.reservation_json(r, s.charge_point_serial, coalesce(r.ended, t.start_timestamp))
        FROM ocpp.reservation AS r
        LEFT JOIN ocpp.station AS s ON s.identity = r.identity
        LEFT JOIN ocpp.transaction AS t ON t.id = r.transaction_id
        WHERE r.id = $1);
END
$$;

-- Add a reservation (Reserved), e.g. once a station accepted a ReserveNow.
-- reservation_id NULL: a new id. replace: a reservation with that id is
-- replaced (as a station does for a ReserveNow with an existing id);
-- otherwise an existing id raises unique_violation. Returns the id.
CREATE FUNCTION ocpp.AddReservation(identity text, connector_id integer, id_tag text,
    expiry_date timestamptz, parent_id_tag text, reservation_id integer, replace boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    v_id integer;
BEGIN
    IF reservation_id IS NULL THEN
        INSERT INTO ocpp.reservation AS r (identity, connector_id, id_tag, parent_id_tag,
            expiry_date)
        VALUES (identity, connector_id, id_tag, parent_id_tag, expiry_date)
        RETURNING r.id INTO v_id;
        RETURN v_id;
    END IF;
    IF coalesce(replace, false) THEN
        INSERT INTO ocpp.reservation AS r (id, identity, connector_id, id_tag, parent_id_tag,
            expiry_date)
        VALUES (reservation_id, identity, connector_id, id_tag, parent_id_tag, expiry_date)
        ON CONFLICT ON CONSTRAINT reservation_pkey DO UPDATE SET identity = excluded.identity,
            connector_id = excluded.connector_id, id_tag = excluded.id_tag,
            parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date,
            status = 'Reserved', transaction_id = NULL, created = now(), ended = NULL;
    ELSE
        INSERT INTO ocpp.reservation (id, identity, connector_id, id_tag, parent_id_tag,
            expiry_date)
        VALUES (reservation_id, identity, connector_id, id_tag, parent_id_tag, expiry_date);
    END IF;
    -- New ids must not collide with this one.
    PERFORM setval('ocpp.reservation_id_seq', greatest(reservation_id, s.last_value))
    FROM ocpp.reservation_id_seq AS s WHERE s.last_value < reservation_id OR NOT s.is_called;
    RETURN reservation_id;
END
$$;

-- Mark a reservation Reserved, Used, Cancelled or Expired (ended now, unless
-- Reserved). Returns whether it exists.
CREATE FUNCTION ocpp.SetReservationStatus(reservation_id integer, status text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    IF status IS NULL OR status NOT IN ('Reserved', 'Used', 'Cancelled', 'Expired') THEN
        RAISE EXCEPTION 'unknown reservation status %', coalesce(quote_literal(status), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE ocpp.reservation AS r SET status = status,
        ended = CASE WHEN status = 'Reserved' THEN NULL ELSE now() END
    WHERE r.id = reservation_id;
    RETURN FOUND;
END
$$;

-- Id tags by tag, of one status or all.
CREATE FUNCTION ocpp.IdTagList(status text, lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'total', (SELECT count(*) FROM ocpp.id_tag AS t WHERE $1 IS NULL OR t.status = $1),
            'items', coalesce((SELECT jsonb_agg(ocpp.id_tag_json(q.t) ORDER BY (q.t).id_tag)
                FROM (SELECT t FROM ocpp.id_tag AS t WHERE $1 IS NULL OR t.status = $1
                      ORDER BY t.id_tag LIMIT lim OFFSET off) AS q), '[]')));
END
$$;

CREATE FUNCTION ocpp.IdTag(id_tag text) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT ocpp.id_tag_json(t) FROM ocpp.id_tag AS t WHERE t.id_tag = $1);
END
$$;

-- Create or replace an id tag; an Accepted tag leaves the refused list.
CREATE FUNCTION ocpp.PutIdTag(id_tag text, status text, expiry_date timestamptz,
    parent_id_tag text) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    IF status IS NULL OR status NOT IN ('Accepted', 'Blocked', 'Expired', 'Invalid') THEN
        RAISE EXCEPTION 'unknown id tag status %', coalesce(quote_literal(status), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO ocpp.id_tag AS t (id_tag, status, expiry_date, parent_id_tag)
    VALUES (id_tag, status, expiry_date, parent_id_tag)
    ON CONFLICT ON CONSTRAINT id_tag_pkey DO UPDATE SET status = excluded.status,
        expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag;
    IF status = 'Accepted' THEN
        DELETE FROM ocpp.refused_id_tag AS r WHERE r.id_tag = id_tag;
    END IF;
END
$$;

-- Returns whether the tag existed.
CREATE FUNCTION ocpp.DeleteIdTag(id_tag text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    DELETE FROM ocpp.id_tag AS t WHERE t.id_tag = id_tag;
    RETURN FOUND;
END
$$;

-- Refused id tags, most recently refused first.
CREATE FUNCTION ocpp.RefusedIdTagList(lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object('total', (SELECT count(*) FROM ocpp.refused_id_tag),
            'items', coalesce((SELECT jsonb_agg(ocpp.refused_id_tag_json(q.r)
                    ORDER BY (q.r).last_seen DESC, (q.r).id_tag)
                FROM (SELECT r FROM ocpp.refused_id_tag AS r ORDER BY r.last_seen DESC, r.id_tag
                      LIMIT lim OFFSET off) AS q), '[]')));
END
$$;

-- Make a refused tag Accepted (keeping its parent, dropping its expiry) and
-- take it off the refused list. Returns the tag as stored now (an IdTagView
-- item), or NULL when it was not refused.
CREATE FUNCTION ocpp.AcceptRefusedIdTag(id_tag text) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    DELETE FROM ocpp.refused_id_tag AS r WHERE r.id_tag = id_tag;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO ocpp.id_tag AS t (id_tag, status) VALUES (id_tag, 'Accepted')
    ON CONFLICT ON CONSTRAINT id_tag_pkey DO UPDATE SET status = 'Accepted', expiry_date = NULL;
    RETURN ocpp.IdTag(id_tag);
END
$$;

-- Frame-log rows, newest first (by id): of one station and/or action, at or
-- after since (seconds since the epoch), with an id below before. An array
-- (the log is not counted).
CREATE FUNCTION ocpp.FrameList(identity text, action text, since double precision,
    before bigint, lim integer, off integer) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
#variable_conflict use_variable
DECLARE
    v_items jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(ocpp.frame_json(q.f) ORDER BY (q.f).id DESC), '[]') INTO v_items
    FROM (SELECT f FROM ocpp.frame_log AS f
          WHERE (identity IS NULL OR f.identity = identity)
            AND (action IS NULL OR f.action = action)
            AND (since IS NULL OR f.ts >= since)
            AND (before IS NULL OR f.id < before)
          ORDER BY f.id DESC LIMIT lim OFFSET off) AS q;
    RETURN v_items;
END
$$;

-- How many transactions have started and not stopped.
CREATE FUNCTION ocpp.CountOpenTransactions() RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT count(*)::integer FROM ocpp.transaction WHERE stop_timestamp IS NULL);
END
$$;
