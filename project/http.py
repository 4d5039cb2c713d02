"""JSON error responses in the one shape every client parses: `{"detail": "<sentence>"}`."""

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

JSON_CONTENT_TYPE = "application/json"


def compact_json(data: Any) -> str:
    """JSON as FastAPI writes it: no spaces after separators."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def json_error(
    status: int, detail: Any = None, *, headers: dict[str, str] | None = None
) -> HttpResponse:
    """An error response; `detail` defaults to the status's standard phrase."""
    if detail is None:
        detail = HTTPStatus(status).phrase
    return HttpResponse(
        compact_json({"detail": detail}),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )


def is_json_response(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == JSON_CONTENT_TYPE or content_type.endswith("+json")
