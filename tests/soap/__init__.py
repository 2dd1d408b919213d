"""OCPP-S tests: real SOAP on the wire."""
