"""OCPP-S tests: real SOAP on the wire."""

import ocppcs.soap.compat  # noqa: F401  (Spyne 2.14's fixes, before any spyne import)
