"""Request and response bodies of the second-factor API."""

from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from accounts.schemas import PresentedPassword

# Six digits, or a recovery code (20 hex digits in groups); bounded before anything is hashed.
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CodeIn(Schema):
    code: Code


class TotpDisableIn(Schema):
    current_password: PresentedPassword
    code: Code


class MfaVerifyIn(Schema):
    mfa_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    code: Code


class TotpSetupOut(Schema):
    secret: str = Field(description="Base32; shown this once, for typing into an app.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an inline SVG element.")


class RecoveryCodesOut(Schema):
    recovery_codes: list[str] = Field(description="Single use; shown this once.")
