-- The cluster (ocppcs/cluster): the nodes sharing this database, which node
-- holds each station's connection, and the queue of commands routed from the
-- node that received them to the node holding the station. Times are the
-- database's (now()), so the nodes' clocks need not agree.

-- One row per node. A node is alive while its last heartbeat is younger than
-- its own dead_after (seconds) and it has not stopped.
CREATE TABLE ocpp.cluster_node (
    node       text PRIMARY KEY,
    started    timestamptz NOT NULL DEFAULT now(),
    heartbeat  timestamptz NOT NULL DEFAULT now(),
    dead_after double precision NOT NULL CHECK (dead_after > 0),
    stopped    timestamptz
);

-- The node holding each connected station's connection (the latest one to
-- connect wins). seq orders one node's connects and disconnects of a station.
CREATE TABLE ocpp.cluster_connection (
    identity text PRIMARY KEY,
    node     text NOT NULL,
    address  text NOT NULL,
    account  text NOT NULL,
    seq      bigint NOT NULL,
    since    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_connection_node ON ocpp.cluster_connection (node);

-- The connections held by live nodes: what the station lists show online.
CREATE VIEW ocpp.cluster_live_connection AS
SELECT c.identity, c.node, c.address, c.account, c.since
FROM ocpp.cluster_connection c
JOIN ocpp.cluster_node n ON n.node = c.node
WHERE n.stopped IS NULL AND n.heartbeat > now() - make_interval(secs => n.dead_after);

-- Commands routed to another node: queued by the origin, run by the node
-- holding the station, its outcome (ocppcs/cluster/outcome.py) read and
-- deleted by the origin. Any size of payload (a NOTIFY carries only the id).
CREATE TABLE ocpp.cluster_command (
    id       bigserial PRIMARY KEY,
    origin   text NOT NULL,
    node     text NOT NULL,
    identity text NOT NULL,
    action   text NOT NULL,
    payload  jsonb NOT NULL,
    timeout  double precision NOT NULL,
    state    text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
    outcome  jsonb,
    created  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_command_queued ON ocpp.cluster_command (node) WHERE state = 'queued';
CREATE INDEX cluster_command_done ON ocpp.cluster_command (origin) WHERE state = 'done';

-- The NOTIFY channel a node listens on: 'command ID' (run it), 'reply ID'
-- (its outcome is in), 'close IDENTITY' (the station connected elsewhere).
CREATE FUNCTION ocpp.cluster_channel(p_node text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'ocppcs_' || md5(p_node) $$;

CREATE FUNCTION ocpp.cluster_listen(p_node text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('LISTEN %I', ocpp.cluster_channel(p_node));
END $$;

-- A node (re)starts: it is alive, it holds no connection yet, and the
-- commands it was running before it stopped will never be answered.
CREATE FUNCTION ocpp.cluster_join(p_node text, p_dead_after double precision) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    INSERT INTO ocpp.cluster_node (node, dead_after) VALUES (p_node, p_dead_after)
    ON CONFLICT (node) DO UPDATE
        SET started = now(), heartbeat = now(), dead_after = EXCLUDED.dead_after, stopped = NULL;
    DELETE FROM ocpp.cluster_connection WHERE node = p_node;
    FOR r IN
        UPDATE ocpp.cluster_command
        SET state = 'done', outcome = '{"error": "StationDisconnected", "why": "its node restarted"}'
        WHERE node = p_node AND state = 'running'
        RETURNING id, origin
    LOOP
        PERFORM pg_notify(ocpp.cluster_channel(r.origin), 'reply ' || r.id);
    END LOOP;
END $$;

-- A node stops: not alive any more, and holds no connection.
CREATE FUNCTION ocpp.cluster_leave(p_node text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ocpp.cluster_node SET stopped = now() WHERE node = p_node;
    DELETE FROM ocpp.cluster_connection WHERE node = p_node;
END $$;

-- A station connected to p_node: its connection moves there, and the node
-- it was on before (if another) is told to close its stale connection.
CREATE FUNCTION ocpp.cluster_attach(
    p_identity text, p_node text, p_address text, p_account text, p_seq bigint
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    previous text;
BEGIN
    SELECT node INTO previous FROM ocpp.cluster_connection WHERE identity = p_identity FOR UPDATE;
    INSERT INTO ocpp.cluster_connection (identity, node, address, account, seq)
    VALUES (p_identity, p_node, p_address, p_account, p_seq)
    ON CONFLICT (identity) DO UPDATE
        SET node = EXCLUDED.node, address = EXCLUDED.address, account = EXCLUDED.account,
            seq = EXCLUDED.seq, since = now()
        WHERE ocpp.cluster_connection.node <> EXCLUDED.node
           OR ocpp.cluster_connection.seq < EXCLUDED.seq;
    IF previous IS NOT NULL AND previous <> p_node THEN
        PERFORM pg_notify(ocpp.cluster_channel(previous), 'close ' || p_identity);
    END IF;
    RETURN previous;
END $$;

-- Queue a command for the live node (other than p_origin) holding the
-- station and wake it; no row when no live other node holds it.
CREATE FUNCTION ocpp.cluster_send(
    p_origin text, p_identity text, p_action text, p_payload jsonb, p_timeout double precision
) RETURNS TABLE (command_id bigint, target text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT l.node INTO target FROM ocpp.cluster_live_connection l
    WHERE l.identity = p_identity AND l.node <> p_origin;
    IF target IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO ocpp.cluster_command (origin, node, identity, action, payload, timeout)
    VALUES (p_origin, target, p_identity, p_action, p_payload, p_timeout)
    RETURNING id INTO command_id;
    PERFORM pg_notify(ocpp.cluster_channel(target), 'command ' || command_id);
    RETURN NEXT;
END $$;

-- The node that ran a command stores its outcome and wakes the origin.
CREATE FUNCTION ocpp.cluster_reply(p_id bigint, p_outcome jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    waiting text;
BEGIN
    UPDATE ocpp.cluster_command SET state = 'done', outcome = p_outcome
    WHERE id = p_id AND state = 'running'
    RETURNING origin INTO waiting;
    IF waiting IS NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_notify(ocpp.cluster_channel(waiting), 'reply ' || p_id);
    RETURN true;
END $$;
