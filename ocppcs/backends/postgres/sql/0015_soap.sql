-- SOAP extension points (OCPP 1.6 over SOAP 1.2): reference implementations
-- a SOAP transport can call, kept small. They map an OCPP SOAP body to the
-- JSON payload of the same fields and back:
--   * an element with child elements is an object; a leaf is a string (the
--     rules cast fields, so "5" works where the JSON schema has 5);
--   * meterValue, sampledValue, transactionData, configurationKey,
--     unknownKey, key, chargingSchedulePeriod and localAuthorizationList are
--     always arrays (repeated elements), whatever their number;
--   * namespaces and prefixes are ignored on the way in; on the way out a
--     *Response element is in the central system's namespace
--     urn://Ocpp/Cs/2015/10/, any other (a request to a station) in the
--     station's urn://Ocpp/Cp/2015/10/; elements come in jsonb key order.
-- An operator replaces them (CREATE OR REPLACE) for a stricter mapping.

CREATE FUNCTION ocpp.xml_text(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
$$;

-- The text of an xpath() string result, which PostgreSQL answers XML-escaped.
CREATE FUNCTION ocpp.xml_unescape(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(s, '&lt;', '<'), '&gt;', '>'),
        '&quot;', '"'), '&apos;', ''''), '&amp;', '&')
$$;

-- The children of an element as a jsonb object (see above).
CREATE FUNCTION ocpp.xml_to_jsonb(node xml) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    child xml;
    v_name text;
    v_value jsonb;
    v_result jsonb := '{}';
BEGIN
    FOREACH child IN ARRAY xpath('/*/*', node) LOOP
        v_name := (xpath('local-name(/*)', child))[1]::text;
        IF (xpath('count(/*/*)', child))[1]::text::integer > 0 THEN
            v_value := ocpp.xml_to_jsonb(child);
        ELSE
            v_value := to_jsonb(ocpp.xml_unescape((xpath('string(/*)', child))[1]::text));
        END IF;
        IF v_name IN ('meterValue', 'sampledValue', 'transactionData', 'configurationKey',
                      'unknownKey', 'key', 'chargingSchedulePeriod', 'localAuthorizationList') THEN
            v_result := v_result || jsonb_build_object(v_name,
                coalesce(v_result->v_name, '[]') || jsonb_build_array(v_value));
        ELSE
            v_result := v_result || jsonb_build_object(v_name, v_value);
        END IF;
    END LOOP;
    RETURN v_result;
END
$$;

-- A jsonb object's fields as XML elements (arrays: the element repeated).
CREATE FUNCTION ocpp.jsonb_to_xml(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    e record;
    item jsonb;
    out text := '';
BEGIN
    FOR e IN SELECT key, value FROM jsonb_each(j) LOOP
        IF e.key !~ '^[A-Za-z_][A-Za-z0-9_.-]*$' THEN
            RAISE EXCEPTION 'not an XML element name: %', e.key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR item IN SELECT x FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.value) = 'array'
                THEN e.value ELSE jsonb_build_array(e.value) END) AS x LOOP
            CONTINUE WHEN jsonb_typeof(item) = 'null';
            out := out || '<' || e.key || '>'
                || CASE WHEN jsonb_typeof(item) = 'object' THEN ocpp.jsonb_to_xml(item)
                        ELSE ocpp.xml_text(item #>> '{}') END
                || '</' || e.key || '>';
        END LOOP;
    END LOOP;
    RETURN out;
END
$$;

CREATE FUNCTION ocpp.soap_envelope(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT '<?xml version="1.0" encoding="UTF-8"?>'
        || '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
        || '<soap:Body>' || body || '</soap:Body></soap:Envelope>'
$$;

-- A JSON payload as a SOAP envelope. action: 'BootNotificationResponse'
-- (element bootNotificationResponse) or 'RemoteStartTransaction' (a request:
-- remoteStartTransactionRequest). version: '1.6' (the only one).
CREATE FUNCTION ocpp.JSONToSOAP(action text, payload jsonb, version text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    v_element text := lower(left(action, 1)) || substr(action, 2);
BEGIN
    IF action IS NULL OR action !~ '^[A-Za-z]+$' THEN
        RAISE EXCEPTION 'not an OCPP action: %', coalesce(action, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_element !~ '(Request|Response)$' THEN
        v_element := v_element || 'Request';
    END IF;
    RETURN ocpp.soap_envelope('<' || v_element || ' xmlns="'
        || CASE WHEN v_element LIKE '%Response' THEN 'urn://Ocpp/Cs/2015/10/'
                ELSE 'urn://Ocpp/Cp/2015/10/' END
        || '">' || ocpp.jsonb_to_xml(coalesce(payload, '{}')) || '</' || v_element || '>');
END
$$;

-- The payload of a SOAP message (the Body's element; a bare element is taken
-- as is) as jsonb. action and version are for replacements; this one ignores them.
CREATE FUNCTION ocpp.SOAPToJSON(action text, xml text, version text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    doc xml := XMLPARSE(DOCUMENT xml);
    body xml := (xpath('/*[local-name()="Envelope"]/*[local-name()="Body"]/*', doc))[1];
BEGIN
    RETURN ocpp.xml_to_jsonb(coalesce(body, doc));
END
$$;

-- A CallError as a SOAP 1.2 Fault (Sender, the OCPP error code as subcode).
CREATE FUNCTION ocpp.soap_fault(error jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ocpp.soap_envelope('<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value>'
        || '<soap:Subcode><soap:Value>' || ocpp.xml_text(error->>'errorCode')
        || '</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="en">'
        || ocpp.xml_text(coalesce(error->>'errorDescription', '')) || '</soap:Text>'
        || '</soap:Reason></soap:Fault>')
$$;

-- One station-initiated SOAP call: the body's payload goes through
-- ocpp.Parse; the answer is the SOAP response (or a Fault for a CallError).
-- identity, unique_id and action may be NULL: they are then read from the
-- header's chargeBoxIdentity and MessageID, and the body element's name
-- (authorizeRequest -> Authorize).
CREATE FUNCTION ocpp.ParseXML(identity text, unique_id text, action text, xml text,
    account text, version text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    doc xml;
    body xml;
    v_action text := action;
    v_reply jsonb;
BEGIN
    BEGIN
        doc := XMLPARSE(DOCUMENT xml);
    EXCEPTION WHEN invalid_xml_document OR invalid_xml_content OR data_exception THEN
        RETURN ocpp.soap_fault(ocpp.call_error('FormationViolation', 'not an XML document'));
    END;
    body := (xpath('/*[local-name()="Envelope"]/*[local-name()="Body"]/*', doc))[1];
    IF body IS NULL THEN
        RETURN ocpp.soap_fault(ocpp.call_error('FormationViolation', 'no SOAP Body element'));
    END IF;
    IF v_action IS NULL THEN
        v_action := regexp_replace((xpath('local-name(/*)', body))[1]::text, 'Request$', '');
        v_action := upper(left(v_action, 1)) || substr(v_action, 2);
    END IF;
    v_reply := ocpp.Parse(
        coalesce(identity, nullif(ocpp.xml_unescape((xpath(
            'string(/*/*[local-name()="Header"]/*[local-name()="chargeBoxIdentity"])', doc))[1]::text),
            '')),
        coalesce(unique_id, ocpp.xml_unescape((xpath(
            'string(/*/*[local-name()="Header"]/*[local-name()="MessageID"])', doc))[1]::text)),
        v_action, ocpp.xml_to_jsonb(body), account, version);
    IF v_reply->>'messageTypeId' = '4' THEN
        RETURN ocpp.soap_fault(v_reply);
    END IF;
    RETURN ocpp.JSONToSOAP(v_action || 'Response', v_reply, version);
END
$$;
