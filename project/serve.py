"""`make run`: serve `project.asgi:application` with uvicorn on HOST:PORT with WORKERS processes.

Plain `uvicorn project.asgi:application --port 8081 --workers N --no-proxy-headers
--http project.protocol:BoundedHttpToolsProtocol` does the same; this only reads HOST, PORT and
WORKERS from the environment or `.env` first. The protocol bounds request heads (MAX_HEADER_BYTES,
HEADER_TIMEOUT), idle connections (KEEPALIVE_TIMEOUT) and open connections (LIMIT_CONCURRENCY).
"""

import os
import sys
from pathlib import Path

import uvicorn
from django.core.exceptions import ImproperlyConfigured

from toolkit.env import load_dotenv_file


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    load_dotenv_file(Path(__file__).resolve().parent.parent)
    try:
        from django.conf import settings

        host, port, workers = settings.HOST, settings.PORT, settings.WORKERS
        limit_concurrency, keepalive = settings.LIMIT_CONCURRENCY, settings.KEEPALIVE_TIMEOUT
    except ImproperlyConfigured as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    uvicorn.run(
        "project.asgi:application",
        host=host,
        port=port,
        workers=workers,
        # The client address is the TCP peer unless CLIENT_IP_HEADER names a proxy's header:
        # uvicorn must not rewrite it from X-Forwarded-For on its own.
        proxy_headers=False,
        server_header=False,
        # Bounded request heads (size and arrival time): see project/protocol.py. The protocol
        # also applies the two below; they are passed here so uvicorn's own log and state agree.
        http="project.protocol:BoundedHttpToolsProtocol",
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=keepalive,  # type: ignore[arg-type]  # uvicorn accepts seconds as float
    )


if __name__ == "__main__":
    main()
