-- Charging profiles a station accepted (SetChargingProfile answered
-- Accepted), for the follow-up bookkeeping of commands: kept as the OCPP
-- csChargingProfiles object. As a station does (OCPP 1.6 section 3.13.2), a
-- profile replaces the one with the same chargingProfileId, and the one with
-- the same stackLevel and purpose on the same connector.

CREATE FUNCTION ocpp.SetChargingProfile(identity text, connector_id integer, profile jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    v_id integer := (profile->>'chargingProfileId')::integer;
    v_stack integer := (profile->>'stackLevel')::integer;
    v_purpose text := profile->>'chargingProfilePurpose';
BEGIN
    IF v_id IS NULL OR v_stack IS NULL OR v_purpose IS NULL THEN
        RAISE EXCEPTION 'a charging profile needs chargingProfileId, stackLevel and chargingProfilePurpose'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM ocpp.charging_profile AS c
    WHERE c.identity = identity AND c.charging_profile_id <> v_id
      AND c.connector_id = connector_id AND c.stack_level = v_stack AND c.purpose = v_purpose;
    INSERT INTO ocpp.charging_profile AS c (identity, connector_id, charging_profile_id,
        stack_level, purpose, transaction_id, profile)
    VALUES (identity, connector_id, v_id, v_stack, v_purpose,
        (profile->>'transactionId')::bigint, profile)
    ON CONFLICT ON CONSTRAINT charging_profile_pkey DO UPDATE SET
        connector_id = excluded.connector_id, stack_level = excluded.stack_level,
        purpose = excluded.purpose, transaction_id = excluded.transaction_id,
        profile = excluded.profile, created = now();
END
$$;

-- A station cleared profiles (ClearChargingProfile answered Accepted): those
-- matching every criterion given (NULL: any). Returns how many were deleted.
CREATE FUNCTION ocpp.ClearChargingProfile(identity text, profile_id integer,
    connector_id integer, purpose text, stack_level integer) RETURNS integer
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    n integer;
BEGIN
    DELETE FROM ocpp.charging_profile AS c
    WHERE c.identity = identity
      AND (profile_id IS NULL OR c.charging_profile_id = profile_id)
      AND (connector_id IS NULL OR c.connector_id = connector_id)
      AND (purpose IS NULL OR c.purpose = purpose)
      AND (stack_level IS NULL OR c.stack_level = stack_level);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- A station's profiles, by connector, purpose and stack level: an array of
-- {"connector_id", "profile", "created"}.
CREATE FUNCTION ocpp.ChargingProfileList(identity text) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
#variable_conflict use_variable
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('connector_id', c.connector_id,
            'profile', c.profile, 'created', ocpp.iso(c.created))
            ORDER BY c.connector_id, c.purpose, c.stack_level), '[]')
        FROM ocpp.charging_profile AS c WHERE c.identity = identity);
END
$$;
