"""Test-only middleware: tells which worker process answered (for multi-worker tests)."""

import os

from asgiref.sync import markcoroutinefunction


class WorkerPidMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        response = await self.get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response
