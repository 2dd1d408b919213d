"""
The PostgreSQL backend: the connection pool (L{pool}), the versioned schema
(C{sql/NNNN_*.sql}, applied by L{migrate}) and a throwaway server for tests
and benchmarks (L{throwaway}).
"""
