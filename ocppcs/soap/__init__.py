"""OCPP-S: OCPP 1.5 and 1.6 over SOAP 1.2."""
