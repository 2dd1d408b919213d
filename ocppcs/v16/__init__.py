"""ocppcs.v16."""
