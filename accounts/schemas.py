"""Request and response bodies of the accounts API."""

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    ConfigDict,
    EmailStr,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from accounts.managers import email_local_part_allowed
from accounts.models import EMAIL_MAX_LENGTH
from accounts.validators import password_problems

Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH)]


def email_local_part_ascii(email: str) -> str:
    if not email_local_part_allowed(email):
        raise PydanticCustomError(
            "email_local_part_not_ascii",
            "The part before @ must use ASCII letters, digits and punctuation only",
        )
    return email


# An address for a new account: no look-alike local parts (see accounts.managers).
NewEmail = Annotated[Email, AfterValidator(email_local_part_ascii)]
# New passwords are judged by Django's validators (422 with their codes), not by the schema;
# the bounds here only document them.
NewPassword = Annotated[str, Field(json_schema_extra={"minLength": 8, "maxLength": 128})]
# Passwords presented for checking: generous, but bounded before any hashing.
PresentedPassword = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class NewPasswordIn(Schema):
    """A body with a new password: when the schema refuses the body, the new password's
    problems (Django's validators) are listed in the same 422, so a form shows every error at
    once, as FastAPI does. A body the schema accepts is judged by the service, which knows the
    user (the similarity validator compares against their email)."""

    checked_field: ClassVar[str]  # the new password's field

    @model_validator(mode="wrap")
    @classmethod
    def password_problems_with_schema_errors(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any]
    ) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            errors: list[InitErrorDetails] = [
                {
                    "type": PydanticCustomError(item["type"], item["msg"], item.get("ctx")),
                    "loc": item["loc"],
                    "input": item["input"],
                }
                for item in error.errors()
            ]
            field = cls.checked_field
            password = data.get(field) if isinstance(data, dict) else None
            refused = any(item["loc"][:1] == (field,) for item in errors)
            if isinstance(password, str) and not refused:
                email = data.get("email")
                # Offline: no network validator on the event loop; a breached password is
                # answered once the body is otherwise valid.
                for code, message in password_problems(
                    password, email=email if isinstance(email, str) else "", offline=True
                ):
                    errors.append(
                        {
                            "type": PydanticCustomError(code, message),
                            "loc": (field,),
                            "input": password,
                        }
                    )
            raise ValidationError.from_exception_data(error.title, errors) from None


class SignupIn(NewPasswordIn):
    checked_field = "password"

    email: NewEmail
    password: NewPassword


class SigninIn(Schema):
    email: Email
    password: PresentedPassword


class RefreshIn(Schema):
    # Cookie mode (accounts.transport): absent, the `__Host-refresh` cookie carries it.
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


# A browser's PublicKeyCredential as its toJSON() gives it (WebAuthn JSON); checked by the app
# that keeps passkeys, never trusted for its shape here.
Credential = Annotated[
    dict[str, Any], Field(description="A PublicKeyCredential's `toJSON()` (WebAuthn JSON).")
]
# A passkey challenge's token, as the options route answered it.
ChallengeToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ReauthenticateIn(Schema):
    """One proof: the password, a second-factor code (TOTP or recovery), or a passkey (the
    challenge_token of /api/auth/reauthenticate/options and the browser's credential)."""

    password: PresentedPassword | None = None
    code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    challenge_token: ChallengeToken | None = None
    credential: Credential | None = None

    @model_validator(mode="after")
    def one_proof(self) -> "ReauthenticateIn":
        proofs = [self.password, self.code, self.credential]
        if sum(proof is not None for proof in proofs) != 1 or (
            (self.credential is None) != (self.challenge_token is None)
        ):
            raise PydanticCustomError(
                "one_proof", "Send either password, code, or challenge_token and credential"
            )
        return self


class ReauthenticatedOut(Schema):
    reauthenticated_at: datetime


class PasswordChangeIn(NewPasswordIn):
    checked_field = "new_password"

    current_password: PresentedPassword
    new_password: NewPassword


class PasswordResetIn(Schema):
    email: Email


# The token of a link sent by email, as the frontend page read it from the link.
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class EmailTokenIn(Schema):
    token: LinkToken


class PasswordResetConfirmIn(NewPasswordIn):
    checked_field = "new_password"

    token: LinkToken
    new_password: NewPassword


class EmailChangeIn(Schema):
    new_email: NewEmail
    current_password: PresentedPassword


class EmailCodeIn(Schema):
    email: Email


class EmailCodeConfirmIn(Schema):
    email: Email
    # As typed: `ABCD-EFGH`, `abcdefgh`, blanks around (accounts.tokens.email_code_normalize).
    code: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class UserOut(Schema):
    id: uuid.UUID
    email: str
    email_verified: bool
    created_at: datetime


class SessionOut(Schema):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]  # the OAuth token type, always sent
    expires_in: int = Field(description="Seconds until the access token expires.")


class SessionCookieOut(Schema):
    """A session answer in cookie mode: the refresh token is in the `__Host-refresh` cookie."""

    model_config = ConfigDict(extra="forbid")

    user: UserOut
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the access token expires.")


class MessageOut(Schema):
    message: str


class SigninChallengeOut(Schema):
    """The sign-in's answer for a user with a second factor: no session yet."""

    mfa_required: Literal[True]
    mfa_token: str = Field(description="Single use; send it to /api/auth/mfa/verify.")
    methods: list[Literal["totp", "recovery_code", "webauthn"]]
    expires_in: int = Field(description="Seconds until mfa_token expires.")


class AuthSessionOut(Schema):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str
    device: str = Field(
        description="A readable label from the user agent, e.g. Firefox on Windows."
    )
    current: bool = Field(description="The session of the access token that asked.")


class RevokedCountOut(Schema):
    revoked: int


class AccountDeletionOut(Schema):
    message: str
    delete_after: datetime = Field(
        description="When the account is erased; until then the mailed link restores it."
    )


class ExportedSessionOut(Schema):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    reauthenticated_at: datetime | None
    ip: str | None
    user_agent: str
    device: str


class ExportedEventOut(Schema):
    type: str
    at: datetime
    ip: str | None
    user_agent: str
    session_id: uuid.UUID | None
    detail: dict[str, Any] = Field(description="Context (how, which fields changed), no secrets.")


class ExportedMfaOut(Schema):
    totp: bool = Field(description="Whether an authenticator app is on.")
    recovery_codes_left: int


class AccountExportOut(Schema):
    """Everything the service keeps about the account, never a secret, a hash or a token."""

    exported_at: datetime
    user: UserOut
    sessions: list[ExportedSessionOut] = Field(description="Live and revoked, newest first.")
    events: list[ExportedEventOut] = Field(description="Security events, newest first.")
    passkeys: list[dict[str, Any]]
    identities: list[dict[str, Any]] = Field(description="Linked sign-in providers.")
    mfa: ExportedMfaOut
