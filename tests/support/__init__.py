"""Test support: the processes tests start around the service (HAProxy, PgBouncer, Redis, a
PostgreSQL standby, a whole cluster of instances) and the load they put through them.

`make cluster` and `make cluster-bench` run the same code, so what the tests prove is what a
newcomer starts. PostgreSQL clusters themselves come from `tests.pgcluster`.
"""
