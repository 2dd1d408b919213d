"""ocppcs.web."""
