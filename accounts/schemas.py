"""Request and response bodies of the accounts API."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import EmailStr, Field, StringConstraints

from accounts.models import EMAIL_MAX_LENGTH

Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH)]
# New passwords are judged by Django's validators (422 with their codes), not by the schema;
# the bounds here only document them.
NewPassword = Annotated[str, Field(json_schema_extra={"minLength": 8, "maxLength": 128})]
# Passwords presented for checking: generous, but bounded before any hashing.
PresentedPassword = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class SignupIn(Schema):
    email: Email
    password: NewPassword


class SigninIn(Schema):
    email: Email
    password: PresentedPassword


class RefreshIn(Schema):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordChangeIn(Schema):
    current_password: PresentedPassword
    new_password: NewPassword


class UserOut(Schema):
    id: uuid.UUID
    email: str
    created_at: datetime


class SessionOut(Schema):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int = Field(description="Seconds until the access token expires.")


class MessageOut(Schema):
    message: str
