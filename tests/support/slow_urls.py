"""A URLconf for handler tests: a view whose sync work takes a while and names its thread, one
that waits until it is cancelled, and one that counts the pool's lent connections around a query."""

import asyncio
import threading
import time

from asgiref.sync import sync_to_async
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import path


def slow_sync_work(seconds: float) -> int:
    time.sleep(seconds)
    return threading.get_ident()


async def slow(request: HttpRequest) -> JsonResponse:
    seconds = float(request.GET.get("seconds", "0"))
    first = await sync_to_async(slow_sync_work)(seconds)
    second = await sync_to_async(slow_sync_work)(0)
    return JsonResponse({"threads": [first, second]})


cancelled_views: list[str] = []


async def waits(request: HttpRequest) -> JsonResponse:
    """Sleeps until cancelled, and records that it was."""
    try:
        await asyncio.sleep(float(request.GET.get("seconds", "10")))
    except asyncio.CancelledError:
        cancelled_views.append(request.path)
        raise
    return JsonResponse({"slept": True})


def borrowed_connections() -> int:
    stats = connections["default"].pool.get_stats()  # type: ignore[attr-defined]
    return int(stats["pool_size"] - stats["pool_available"])


def query_and_count() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return borrowed_connections()


async def pool(request: HttpRequest) -> JsonResponse:
    """Counts the pool's lent connections before, during and after one query on the thread."""
    before = borrowed_connections()
    during = await sync_to_async(query_and_count)()
    return JsonResponse(
        {"before": before, "during_query": during, "after_query": borrowed_connections()}
    )


urlpatterns = [path("slow", slow), path("waits", waits), path("pool", pool)]
