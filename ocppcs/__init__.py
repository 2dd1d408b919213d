"""ocppcs: an OCPP central system and charge-point emulator on Twisted."""

__version__ = "0.1.0"
