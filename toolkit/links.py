"""Links into the frontend: templates holding `{token}` (or other fields), checked once at
start-up."""

import string
from urllib.parse import quote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TOKEN_FIELD = "token"  # noqa: S105 - the placeholder's name, not a secret


def frontend_url(name: str, value: str) -> str:
    """An http(s) URL with a host (a path is allowed), without its trailing slash."""
    url = value.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) URL like https://app.example.com, got {value!r}."
        )
    return url


def link_template(
    name: str, value: str, *, frontend: str, fields: tuple[str, ...] = (TOKEN_FIELD,)
) -> str:
    """A link template: an http(s) URL holding each of `fields` (`{token}` unless said otherwise)
    exactly once; `{FRONTEND_URL}` is replaced by `frontend`. Any other `{...}` field is refused,
    so a typo fails at start-up rather than in the first message sent."""
    template = value.replace("{FRONTEND_URL}", frontend)
    try:
        found = [
            field for _, field, _, _ in string.Formatter().parse(template) if field is not None
        ]
    except ValueError:
        found = ["<unbalanced braces>"]
    if sorted(found) != sorted(fields) or any(f"{{{field}}}" not in template for field in fields):
        wanted = " and ".join(f"{{{field}}}" for field in fields) or "no {...} field"
        exactly = " exactly once and no other {...} field" if fields else ""
        raise ImproperlyConfigured(f"{name} must hold {wanted}{exactly}, got {value!r}.")
    parts = urlsplit(template.format(**dict.fromkeys(fields, "x")))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        example = "".join(f"&{field}={{{field}}}" for field in fields).replace("&", "?", 1)
        raise ImproperlyConfigured(
            f"{name} must be an http(s) URL like https://app.example.com/page{example}, "
            f"got {value!r}."
        )
    return template


def plain_http_warnings(**templates: str) -> list[str]:
    """A start-up warning for each link template (by its setting's name) that is not https."""
    return [
        f"{name} is not https: a token in a link sent over plain HTTP can be read on the way."
        for name, template in templates.items()
        if not template.startswith("https://")
    ]


def link_with_token(template: str, token: str) -> str:
    """The link a message carries: the template with the token (URL-safe already) quoted in."""
    return link_with(template, token=token)


def link_with(template: str, **values: str) -> str:
    """The link a message carries: the template with each value quoted in."""
    for field, value in values.items():
        template = template.replace(f"{{{field}}}", quote(value, safe=""))
    return template


def url_origin(url: str) -> str:
    """The origin of an http(s) URL: `https://app.example.com:8443/x` -> its scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def url_host(url: str) -> str:
    """The host name of an http(s) URL, without port (a WebAuthn relying party id)."""
    return urlsplit(url).hostname or ""
