"""py_webauthn behind two questions: what options to hand a browser, and does what it answered
verify. The relying party comes from settings (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS); attestation
is `none`: the service trusts the user's choice of authenticator and keeps no vendor roots."""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from passkeys.models import Passkey

TIMEOUT_MS = 300_000  # the browser's prompt; the challenge's own life is WEBAUTHN_CHALLENGE_TTL


class CeremonyFailed(Exception):
    """What the browser sent does not verify, or is not a credential at all."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CeremonyFailed("not base64url") from None


def descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {transport.value for transport in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=b64url_decode(passkey.credential_id),
            transports=[AuthenticatorTransport(t) for t in passkey.transports if t in known],
        )
        for passkey in passkeys
    ]


def registration_options(
    *, challenge: bytes, user_handle: str, user_name: str, exclude: list[Passkey]
) -> dict[str, Any]:
    """Resident key and user verification required (a passkey, not a second factor only),
    the user's own passkeys excluded (no second registration on one authenticator)."""
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=b64url_decode(user_handle),
        user_name=user_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=descriptors(exclude),
    )
    return dict(options_to_json_dict(options))


def authentication_options(*, challenge: bytes, allow: list[Passkey]) -> dict[str, Any]:
    """With `allow` empty, no allowCredentials: the browser offers the discoverable passkeys
    it holds for the relying party (and conditional UI can list them)."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=descriptors(allow),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return dict(options_to_json_dict(options))


def credential_id_of(credential: dict[str, Any]) -> str:
    """The credential id a browser's answer names (base64url), checked for shape only."""
    raw_id = credential.get("rawId", credential.get("id"))
    if not isinstance(raw_id, str) or not 0 < len(raw_id) <= 1400:
        raise CeremonyFailed("no credential id")
    return b64url_encode(b64url_decode(raw_id))


def challenge_of(credential: dict[str, Any]) -> bytes:
    """The challenge the browser signed, read from its clientDataJSON (verified later)."""
    response = credential.get("response")
    client_data = response.get("clientDataJSON") if isinstance(response, dict) else None
    if not isinstance(client_data, str):
        raise CeremonyFailed("no clientDataJSON")
    try:
        challenge = json.loads(b64url_decode(client_data))["challenge"]
    except (ValueError, TypeError, KeyError):
        raise CeremonyFailed("clientDataJSON is not JSON with a challenge") from None
    if not isinstance(challenge, str):
        raise CeremonyFailed("clientDataJSON has no challenge")
    return b64url_decode(challenge)


def user_handle_of(credential: dict[str, Any]) -> str | None:
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    return b64url_encode(b64url_decode(handle)) if isinstance(handle, str) and handle else None


@dataclass(frozen=True)
class Registered:
    credential_id: str
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    transports: list[str]


def registration_verify(*, credential: dict[str, Any], challenge: bytes) -> Registered:
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
            require_user_verification=True,
        )
    # Untrusted input through a parser with many ways to fail (base64, CBOR, COSE, ASN.1):
    # each is a refusal, never a 500.
    except Exception as error:
        raise CeremonyFailed(str(error)) from None
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    return Registered(
        credential_id=b64url_encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        transports=[t for t in transports or [] if isinstance(t, str)][:8],
    )


@dataclass(frozen=True)
class Asserted:
    sign_count: int
    backed_up: bool


def assertion_verify(*, credential: dict[str, Any], challenge: bytes, passkey: Passkey) -> Asserted:
    """The signature, challenge, origin, RP ID and user verification. The counter is the
    caller's to judge (accounts' clone rule): py_webauthn is given 0, so it never refuses one."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as error:  # untrusted input, as for registration_verify
        raise CeremonyFailed(str(error)) from None
    return Asserted(sign_count=verified.new_sign_count, backed_up=verified.credential_backed_up)
