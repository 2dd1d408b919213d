# -*- test-case-name: tests.backends -*-
"""
The embedded backend: the record of every deployment, in a local SQLite
store, and the C{[central]} policy deciding in it.

L{ocppcs.backends.embedded.record.EmbeddedRecord} is the record (with
L{ocppcs.backends.embedded.copies}, the copies of calls another decider
answered); L{ocppcs.backends.embedded.decider.EmbeddedDecider} the decider;
L{ocppcs.backends.embedded.store.SQLiteStore} the database written by one
worker process (L{ocppcs.backends.embedded.worker}) with group commit;
L{ocppcs.backends.embedded.schema} its schema and bulk statements;
L{ocppcs.backends.embedded.policy} what each CALL answers and stores;
L{ocppcs.backends.embedded.admin} the operator jobs and queries.
"""
