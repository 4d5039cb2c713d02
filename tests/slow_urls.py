"""A URLconf for handler tests: a view whose sync work takes a while and names its thread."""

import threading
import time

from asgiref.sync import sync_to_async
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


urlpatterns = [path("slow", slow)]
