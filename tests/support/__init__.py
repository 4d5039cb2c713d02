"""Test support shared by every test package: the processes tests start around the service
(PostgreSQL clusters, an SMTP server, manage.py), reading the mail it sent, and the test-only
settings pieces (a cheap hasher, a middleware, URLconfs with slow views)."""
