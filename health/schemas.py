"""Bodies of the health endpoints."""

from typing import Any, Literal

from ninja import Schema


class LivenessOut(Schema):
    status: Literal["healthy"]
    environment: str


class ReadinessOut(Schema):
    """The IETF health-check draft format (application/health+json)."""

    status: Literal["pass", "fail"]
    checks: dict[str, list[dict[str, Any]]]
