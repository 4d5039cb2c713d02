"""Request and response bodies of the second-factor API."""

from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from accounts.schemas import Credential, PresentedPassword

# Six digits, or a recovery code (20 hex digits in groups); bounded before anything is hashed.
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CodeIn(Schema):
    code: Code


class TotpDisableIn(Schema):
    current_password: PresentedPassword
    code: Code


MfaToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MfaVerifyIn(Schema):
    """The challenge's token and one answer: a code (TOTP or recovery), or a passkey's
    credential for the options of /api/auth/mfa/webauthn/options."""

    mfa_token: MfaToken
    code: Code | None = None
    credential: Credential | None = None

    @model_validator(mode="after")
    def one_answer(self) -> "MfaVerifyIn":
        if (self.code is None) == (self.credential is None):
            raise PydanticCustomError("one_answer", "Send either code or credential")
        return self


class MfaTokenIn(Schema):
    mfa_token: MfaToken


class WebAuthnOptionsOut(Schema):
    options: dict[str, Any] = Field(
        description="For `PublicKeyCredential.parseRequestOptionsFromJSON`."
    )


class TotpSetupOut(Schema):
    secret: str = Field(description="Base32; shown this once, for typing into an app.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an inline SVG element.")


class RecoveryCodesOut(Schema):
    recovery_codes: list[str] = Field(description="Single use; shown this once.")
