"""ocppcs.transports."""
