"""ocppcs.ocppj."""
