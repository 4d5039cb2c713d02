"""Request and response bodies of sign-in with another provider."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import StringConstraints

Opaque = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ProviderOut(Schema):
    id: str
    name: str


class AuthorizeIn(Schema):
    # `link`: add the provider to the signed-in user (a fresh session); `signin`: sign in or up.
    process: Literal["signin", "link"]


class AuthorizeOut(Schema):
    authorization_url: str


class ExchangeIn(Schema):
    code: Opaque


class IdTokenIn(Schema):
    id_token: Annotated[str, StringConstraints(min_length=1, max_length=16_384)]
    # The nonce the app gave the provider: when sent, the token must carry it.
    nonce: Opaque | None = None


class IdentityOut(Schema):
    id: int
    provider: str
    email: str
    created_at: datetime
