"""
The PostgreSQL backend (C{[backend] type = postgres}): the record
(L{record}, with the REST API's queries in L{operator} and the batched frame
log in L{framelog}) and the decider (L{decider}, its calls batched by
L{batches}) over the node's connections (L{database}, L{pool}); the
versioned schema (C{sql/NNNN_*.sql}, applied by L{migrate}) and a throwaway
server for tests and benchmarks (L{throwaway}).
"""
