"""A worker's life as the apps see it: the draining flag, and what runs when it starts serving
and when it stops.

The server sets the flag (server.draining, on SIGTERM; its lifespan shutdown) and runs the hooks
(its lifespan); the apps read the flag and the wiring registers the hooks (project.lifespan), so
that the server imports no app and no app imports the server.
"""

import threading
from collections.abc import Awaitable, Callable

Hook = Callable[[], Awaitable[None]]

# Set once the process is shutting down: readiness fails, so load balancers stop sending to it.
draining = threading.Event()

startup_hooks: list[Hook] = []
shutdown_hooks: list[Hook] = []


def on_startup(hook: Hook) -> Hook:
    """Run `hook` when a worker starts serving, after the hooks registered before it."""
    startup_hooks.append(hook)
    return hook


def on_shutdown(hook: Hook) -> Hook:
    """Run `hook` when a worker stops, before the hooks registered before it: what was set up
    last is taken down first."""
    shutdown_hooks.append(hook)
    return hook


async def startup() -> None:
    for hook in startup_hooks:
        await hook()


async def shutdown() -> None:
    for hook in reversed(shutdown_hooks):
        await hook()
