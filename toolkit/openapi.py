"""The OpenAPI document as clients need it: string status keys, real media types, headers.

ninja writes response statuses as integers and merges an operation's `openapi_extra` into them
key by key, so a status given twice (once by `response=`, once as a string in the extra)
appears twice in the served JSON: strict parsers (the docs page's YAML parser,
openapi-typescript) refuse such a document. Here every status becomes one string key, an
operation that answers another media type says so with `x-media-type`, and each status gets
the response headers it always carries.
"""

from typing import Any

# Response headers the API sends, declared once and referenced by status.
HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": 'The authentication scheme: `Bearer`, with `error="invalid_token"` when '
        "a token was presented and refused (RFC 6750).",
        "required": True,
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`no-store`: answers carrying tokens or user data are never cached.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Pragma": {
        "description": "`no-cache`, for HTTP/1.0 caches, beside `Cache-Control: no-store`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Where the browser goes next (a redirect).",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    },
    "X-Request-ID": {
        "description": "This request's id, in every log line about it: the client's own "
        "`X-Request-ID` when it sent a valid one (1-128 of `A-Z a-z 0-9 . _ -`), else one made "
        "by the server. Quote it when reporting a problem.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
    },
}
# Sent by the routes that set or clear the session cookies (in cookie mode only), and never
# readable by a page (browsers hide it): documented, and not among the headers CORS exposes.
SET_COOKIE = {
    "description": "In cookie mode (`X-Auth-Transport: cookie`, or a session cookie sent): "
    "`__Host-access` and `__Host-refresh` set (HttpOnly; Secure; SameSite=Lax; Path=/), or "
    "cleared with Max-Age=0 by sign-out and a refused refresh. Sign-in with a provider: "
    "`__Host-provider-flow` (HttpOnly; Secure; SameSite=Lax; Path=/) set by authorize and "
    "cleared by the exchange.",
    "required": False,
    "schema": {"type": "string"},
}
# Sent with every answer of every operation.
HEADERS_ALWAYS = ["X-Request-ID"]
HEADERS_BY_STATUS = {
    "302": ["Location"],
    "401": ["WWW-Authenticate"],
    "429": ["Retry-After"],
    "503": ["Retry-After"],
}
# Operations marked with this extension send `Cache-Control: no-store` on every answer.
NO_STORE = "x-no-store"
MEDIA_TYPE = "x-media-type"


def deep_merge(target: dict[Any, Any], extra: dict[Any, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


def responses_normalize(responses: dict[Any, Any]) -> dict[str, Any]:
    """One string key per status, in ascending order (`200` and `"200"` merged)."""
    merged: dict[str, Any] = {}
    for status, response in responses.items():
        deep_merge(merged.setdefault(str(status), {}), response)
    return dict(sorted(merged.items()))


def operation_finalize(operation: dict[str, Any]) -> None:
    operation["responses"] = responses_normalize(operation["responses"])
    media_type = operation.pop(MEDIA_TYPE, None)
    no_store = operation.pop(NO_STORE, False)
    for status, response in operation["responses"].items():
        content = response.get("content")
        if media_type and content:
            response["content"] = {media_type: next(iter(content.values()))}
        names = list(HEADERS_BY_STATUS.get(status, []))
        if no_store:
            names += ["Cache-Control", "Pragma"]
        headers = response.setdefault("headers", {})
        for name in [*names, *HEADERS_ALWAYS]:
            headers[name] = {"$ref": f"#/components/headers/{name}"}


def schema_finalize(schema: dict[str, Any]) -> dict[str, Any]:
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            operation_finalize(operation)
    schema["components"]["headers"] = {**HEADERS, "Set-Cookie": SET_COOKIE}
    return schema
