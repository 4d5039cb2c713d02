"""The one NinjaAPI: its routers, JSON parsing and rendering, and every error handler."""

import json
import logging
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from accounts.api import router as accounts_router
from accounts.exceptions import (
    AccountsError,
    NotAuthenticated,
    Unauthorized,
    WeakPassword,
)
from audit.api import router as audit_router
from health.api import router as health_router
from mfa.api import router as mfa_router
from passkeys.api import router as passkeys_router
from social.api import router as social_router
from toolkit.http import JSON_CONTENT_TYPE, json_error
from toolkit.openapi import schema_finalize
from toolkit.request_context import request_route

logger = logging.getLogger("project.api")
DATABASE_RETRY_AFTER = "5"


class BodyNotJson(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class UnsupportedMediaType(Exception):
    pass


class BodyNotObject(Exception):
    """The body is JSON, but `null`, an array, a number or a string instead of an object."""

    def __init__(self, is_null: bool) -> None:
        super().__init__()
        self.is_null = is_null


BODY_MISSING = {"type": "missing", "loc": ["body"], "msg": "Field required"}
BODY_NOT_OBJECT = {
    "type": "model_attributes_type",
    "loc": ["body"],
    "msg": "Input should be a valid dictionary or object to extract fields from",
}


class JsonBodyParser(Parser):
    """Bodies must be JSON, declared as such: 415 for another content type, 422 when malformed."""

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType
        try:
            data = json.loads(request.body.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise BodyNotJson(error.start, "Request body is not valid UTF-8") from None
        except json.JSONDecodeError as error:
            raise BodyNotJson(error.pos, f"JSON decode error: {error.msg}") from None
        except RecursionError:
            raise BodyNotJson(0, "JSON is nested too deeply") from None
        if not isinstance(data, dict):
            raise BodyNotObject(data is None)
        return data


class CompactJSONRenderer(JSONRenderer):
    """`{"status":"healthy"}`, as FastAPI writes it; datetimes ISO 8601 with `Z`."""

    encoder_class = NinjaJSONEncoder
    json_dumps_params = {"separators": (",", ":"), "ensure_ascii": False}


class ServiceAPI(NinjaAPI):
    """NinjaAPI with one JSON content type for every answer and a document strict parsers
    accept (see toolkit.openapi)."""

    def get_content_type(self) -> str:
        # Errors built outside ninja say `application/json` too: one type for every JSON answer
        # (JSON is UTF-8 by definition, RFC 8259, so no charset parameter).
        return JSON_CONTENT_TYPE

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return schema_finalize(super().get_openapi_schema(**kwargs))

    def get_openapi_operation_id(self, operation: Any) -> str:
        # Generated clients name their functions after these: `signup`, `me`, `readiness`.
        return str(operation.view_func.__name__)


api = ServiceAPI(
    title="Accounts and health API",
    version="1.0.0",
    description="Drop-in replacement for the FastAPI accounts backend.",
    openapi_url="/api/openapi.json",
    docs_url="/api/docs",
    renderer=CompactJSONRenderer(),
    parser=JsonBodyParser(),
)
api.add_router("/health", health_router)
api.add_router("/api/auth", accounts_router)
api.add_router("/api/auth", audit_router)
api.add_router("/api/auth/mfa", mfa_router)
api.add_router("/api/auth", social_router)
api.add_router("/api/auth", passkeys_router)


def error_location(loc: tuple[Any, ...] | list[Any]) -> list[Any]:
    """ninja says ["body", "payload", "email"]; FastAPI (our contract) says ["body", "email"]."""
    location = list(loc)
    if location and location[0] == "body" and len(location) >= 2:
        del location[1]  # the view's parameter name
    return location


def unprocessable(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    """422 in FastAPI's shape: `{"detail": [{"type", "loc", "msg", "ctx"?}, ...]}`."""
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(ValidationError)
def validation_failed(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if not request.body and any(error["loc"][:1] == ("body",) for error in exc.errors):
        # An empty body is one missing body, as FastAPI says, not a list of missing fields.
        return unprocessable(request, [BODY_MISSING])
    errors = []
    for error in exc.errors:
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": error_location(error["loc"]),
            "msg": error["msg"],
        }
        if error.get("ctx"):
            item["ctx"] = {key: str(value) for key, value in error["ctx"].items()}
        errors.append(item)
    return unprocessable(request, errors)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, UnsupportedMediaType):
        return json_error(415, "Content-Type must be application/json")
    if isinstance(cause, BodyNotObject):
        return unprocessable(request, [BODY_MISSING if cause.is_null else BODY_NOT_OBJECT])
    if isinstance(cause, BodyNotJson):
        invalid = {"type": "json_invalid", "loc": ["body", cause.offset], "msg": cause.message}
        return unprocessable(request, [invalid])
    if isinstance(exc, AuthenticationError):
        return accounts_error(request, NotAuthenticated())
    return json_error(exc.status_code, str(exc))


@api.exception_handler(WeakPassword)
def weak_password(request: HttpRequest, exc: WeakPassword) -> HttpResponse:
    return unprocessable(
        request,
        [{"type": code, "loc": ["body", exc.field], "msg": msg} for code, msg in exc.errors],
    )


@api.exception_handler(AccountsError)
def accounts_error(request: HttpRequest, exc: AccountsError) -> HttpResponse:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = exc.challenge
    # A Throttled refusal was logged as a security event where it was decided (throttles).
    return json_error(exc.status, exc.detail, headers=headers)


@api.exception_handler(DatabaseError)
def database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error(
            "Database unavailable on %s %s: %s",
            request.method,
            request_route(request),
            exc,
            extra={"path": request.path},
        )
        return json_error(
            503,
            "Service temporarily unavailable: the database is not reachable",
            headers={"Retry-After": DATABASE_RETRY_AFTER},
        )
    return unexpected_error(request, exc)


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The request body may hold a password: log the route and the error, never the input. The
    # path is a field the formatters escape (server.logging): a client chose it.
    logger.error(
        "Unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request_route(request),
        exc_info=exc,
        extra={"path": request.path},
    )
    return json_error(500, "Internal server error")
