"""Request and response bodies of the passkeys API."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, StringConstraints

from accounts.schemas import ChallengeToken, Credential

PasskeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class PasskeyOptionsOut(Schema):
    challenge_token: str = Field(description="Send it back with the browser's credential.")
    options: dict[str, Any] = Field(
        description="For `PublicKeyCredential.parseCreationOptionsFromJSON` (registration) or "
        "`parseRequestOptionsFromJSON` (sign-in, re-authentication)."
    )


class PasskeyRegisterIn(Schema):
    challenge_token: ChallengeToken
    credential: Credential
    name: PasskeyName | None = None


class PasskeyRenameIn(Schema):
    name: PasskeyName


class PasskeySigninIn(Schema):
    challenge_token: ChallengeToken
    credential: Credential


class PasskeyOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backup_eligible: bool = Field(description="A synced passkey (it may be backed up).")
    backed_up: bool = Field(description="Backed up (synced) when last seen.")
