"""Several nodes on one PostgreSQL as one central system: see L{ocppcs.cluster.node}."""
