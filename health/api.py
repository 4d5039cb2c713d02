"""The probe routes: /health (liveness, no database) and /health/ready (readiness)."""

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router

from health import checks
from health.schemas import LivenessOut, ReadinessOut
from toolkit.http import JSON_CONTENT_TYPE, compact_json
from toolkit.openapi import MEDIA_TYPE

HEALTH_JSON = "application/health+json"
READINESS_RETRY_AFTER = "5"

router = Router(tags=["health"])


@functools.cache
def liveness_body(environment: str) -> bytes:
    """The liveness answer depends on the environment alone: encoded once per environment."""
    answer = LivenessOut(status="healthy", environment=environment)
    return compact_json(answer.model_dump()).encode()


@router.get("", response=LivenessOut, summary="Liveness: the process answers")
async def liveness(request: HttpRequest) -> HttpResponse:
    # Returned as a response, so ninja skips validating a body it would validate identically
    # on every probe; LivenessOut still documents it, and tests pin the exact body.
    return HttpResponse(liveness_body(settings.ENVIRONMENT), content_type=JSON_CONTENT_TYPE)


@router.get(
    "/ready",
    response={200: ReadinessOut, 503: ReadinessOut},
    summary="Readiness: the database answers and no migration is pending",
    openapi_extra={MEDIA_TYPE: HEALTH_JSON},
)
async def readiness(request: HttpRequest) -> HttpResponse:
    report = await checks.readiness()
    response = HttpResponse(
        compact_json(report.as_health_json()),
        status=200 if report.ready else 503,
        content_type=HEALTH_JSON,
    )
    response["Cache-Control"] = "no-store"
    if not report.ready:
        response["Retry-After"] = READINESS_RETRY_AFTER
    return response
