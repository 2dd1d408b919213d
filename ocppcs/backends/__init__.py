"""ocppcs.backends."""
