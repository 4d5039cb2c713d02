"""RFC 6238 codes (pyotp), the enrolment URI and its QR code (segno, inline SVG)."""

import hmac
import re
import secrets
import time

import pyotp
import segno

from toolkit.tokens import token_digest

STEP_SECONDS = 30
# A code of the previous, current or next step is accepted: clocks drift, people type slowly.
WINDOW_STEPS = 1
TOTP_CODE = re.compile(r"^\d{6}$")
RECOVERY_CODE_BYTES = 10  # 80 bits: SHA-256 is enough against a stolen table (see docs/api.md)


def clock() -> float:
    """Now, in seconds; tests replace it to stand at a step's edge without sleeping."""
    return time.time()


def secret_new() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended length


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def code_normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def is_totp_code(code: str) -> bool:
    return bool(TOTP_CODE.match(code))


def matching_step(secret: str, code: str, *, at: float, after: int | None) -> int | None:
    """The time step within the window whose code is `code`, if any and later than `after`
    (the step of the last accepted code: replays are refused)."""
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(at // STEP_SECONDS)
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def recovery_code_new() -> str:
    raw = secrets.token_hex(RECOVERY_CODE_BYTES)
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


def recovery_code_hash(code: str) -> str:
    return token_digest(code_normalize(code))
