"""The charge-point emulator: OCPP 1.6 stations from C{conf/cp/*/configuration.json}."""
