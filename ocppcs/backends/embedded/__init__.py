# -*- test-case-name: tests.backends -*-
"""
The embedded backend: the C{[central]} policy with a local SQLite store.

L{ocppcs.backends.embedded.backend.EmbeddedBackend} is the backend;
L{ocppcs.backends.embedded.store.SQLiteStore} the database written by one
worker process (L{ocppcs.backends.embedded.worker}) with group commit;
L{ocppcs.backends.embedded.schema} its schema and bulk statements;
L{ocppcs.backends.embedded.policy} what each CALL answers and stores;
L{ocppcs.backends.embedded.admin} the operator jobs and queries.
"""
