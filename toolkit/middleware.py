"""The base of async-native middleware: called on the event loop, never through a thread."""

from collections.abc import Awaitable, Callable

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

GetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class AsyncMiddleware:
    """Subclasses define `async def __call__(self, request)`. Django sees an async-only
    middleware and calls it without adapting it (no `sync_to_async` hop per request)."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # type: ignore[type-var]  # Django checks the instance
