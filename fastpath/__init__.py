"""The fast path: every piece of this service that copies or replaces a Django internal for
speed, behind one setting, `FAST_PATH` (on by default; `FAST_PATH=off` runs stock Django: its
`ASGIHandler`, its middleware classes, the ORM's lookup and psycopg_pool's own check).

What each piece replaces, and why (measured figures in docs/performance.md):

- `handlers.WarmThreadASGIHandler` replaces `django.core.handlers.asgi.ASGIHandler`. Django
  starts a new thread for each request (and another to join it); this one lends each request a
  warm thread from a free list, hands pooled connections back after every piece of work, sends
  the request signals on the event loop when only Django's receivers listen, and cancels a
  request whose client left without a TaskGroup (whose exception left cyclic garbage).
- `middleware`: async-native stand-ins for Django's SecurityMiddleware and
  XFrameOptionsMiddleware (hooks run on the event loop), and admin-only stand-ins for the
  session, CSRF, authentication and messages middleware, which the bearer-token API does not
  need. `MiddlewareMixin` would cost two thread hops per middleware per request. And
  django-cors-headers' middleware without its per-request work for requests with no `Origin`.
- `routes.request_resolve`: URL resolution remembered per path (Django walks the patterns,
  recording each one it passes, on every request).
- `lookups.CompiledPkLookup`: the session+user lookup of every authenticated request, its SQL
  compiled once per connection instead of on every call.
- `pool.connection_check`: the pool's check skips the round trip for a connection lent less
  than two seconds ago.
- `gc_freeze_after_startup`: start-up objects leave the cyclic collector's generations.

Each copied piece names the Django source it mirrors in `mirrors.MIRRORED`, with a fingerprint:
tests/fastpath/test_mirrors.py fails on a Django upgrade that changes any of them, saying what
to re-port. `checks` proves the stand-ins are installed (Django's own security.W001-W003 look
for its exact classes, so they are silenced only while this path is on).
"""

import gc

# Each Django middleware the fast path replaces, and its stand-in, which takes the same place in
# MIDDLEWARE (project.settings applies this to its one list).
MIDDLEWARE_STAND_INS = {
    "django.middleware.security.SecurityMiddleware": "fastpath.middleware.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware": (
        "fastpath.middleware.AdminOnlySessionMiddleware"
    ),
    "django.middleware.csrf.CsrfViewMiddleware": "fastpath.middleware.AdminOnlyCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware": (
        "fastpath.middleware.AdminOnlyAuthenticationMiddleware"
    ),
    "django.contrib.messages.middleware.MessageMiddleware": (
        "fastpath.middleware.AdminOnlyMessageMiddleware"
    ),
    "django.middleware.clickjacking.XFrameOptionsMiddleware": (
        "fastpath.middleware.XFrameOptionsMiddleware"
    ),
    "corsheaders.middleware.CorsMiddleware": "fastpath.middleware.CorsMiddleware",
}


def gc_freeze_after_startup() -> None:
    """Everything loaded at start-up (Django, the apps, URL patterns, schemas) lives as long as
    the process: freezing it takes it out of the cyclic collector's generations, so each
    collection scans only what was made since (measured: +20-25% requests/s)."""
    gc.freeze()
