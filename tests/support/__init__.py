"""Test support shared by every test package: the processes tests start around the service
(PostgreSQL clusters and standbys, an SMTP server, HAProxy, PgBouncer, Redis, a whole cluster of
instances, manage.py), the load they put through them, reading the mail it sent, and the
test-only settings pieces (a cheap hasher, a middleware, URLconfs with slow views).

`make cluster` and `make cluster-bench` run the same code (tests/support/cluster.py), so what
the tests prove is what a newcomer starts."""
