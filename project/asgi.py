"""The ASGI entry point: `uvicorn project.asgi:application`, Django's handler (the fast path's, or
stock Django's) inside the server's ASGI layer, and what a worker does when it starts and stops.

A configuration error is one line on stderr and exit status 2: no traceback, no secret.
"""

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from toolkit.env import entry_environment_prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
entry_environment_prepare(Path(__file__).resolve().parent.parent)

try:
    import django
    from django.conf import settings

    from server.metrics_directory import worker_directory_export

    # Before the apps import prometheus_client, which reads it once.
    metrics_directory = worker_directory_export(metrics_on=bool(settings.METRICS_TOKEN))
    django.setup(set_prefix=False)
    from django.core.handlers.asgi import ASGIHandler

    from project.lifespan import lifespan_register
    from server.application import ServiceApplication

    lifespan_register(metrics_directory)
    if settings.FAST_PATH:
        from fastpath import gc_freeze_after_startup
        from fastpath.handlers import WarmThreadASGIHandler

        application = ServiceApplication(WarmThreadASGIHandler())
        gc_freeze_after_startup()
    else:
        application = ServiceApplication(ASGIHandler())
except ImproperlyConfigured as error:
    print(f"Configuration error: {error}", file=sys.stderr)
    raise SystemExit(2) from None
