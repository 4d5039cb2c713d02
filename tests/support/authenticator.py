"""A software WebAuthn authenticator for tests: P-256 keys, `none` attestation, and flags that
say the user was present AND verified (0x01 | 0x04), as a platform passkey does. It answers the
WebAuthn JSON options the API hands out with the JSON a browser's `toJSON()` gives, and lets a
test lie about anything (origin, RP ID, counter, flags, challenge)."""

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT, BE, BS = 0x01, 0x04, 0x40, 0x08, 0x10
ORIGIN = "http://localhost:3000"  # the default FRONTEND_URL's origin; its host is the RP ID
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class StoredCredential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    backed_up: bool = False  # a synced passkey (BE and BS set)
    counting: bool = True  # False: the counter stays 0, as many platform authenticators do
    credentials: dict[bytes, StoredCredential] = field(default_factory=dict)

    def _flags(self, extra: int, uv: bool) -> int:
        flags = UP | extra | (UV if uv else 0)
        return flags | (BE | BS if self.backed_up else 0)

    def create(
        self,
        options: dict,
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        challenge: str | None = None,
        uv: bool = True,
    ) -> dict:
        """navigator.credentials.create(): a new resident credential for options["user"]."""
        rp_id = rp_id or options["rp"]["id"]
        credential_id = secrets.token_bytes(16)
        key = ec.generate_private_key(ec.SECP256R1())
        stored = StoredCredential(credential_id, key, rp_id, unb64url(options["user"]["id"]))
        self.credentials[credential_id] = stored
        numbers = key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = AAGUID + struct.pack(">H", len(credential_id)) + credential_id + cose_key
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(AT, uv)])
            + struct.pack(">I", stored.sign_count)
            + attested
        )
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict,
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        credential_id: bytes | None = None,
        sign_count: int | None = None,
        uv: bool = True,
        challenge: str | None = None,
    ) -> dict:
        """navigator.credentials.get(): an assertion by the credential for the RP (the one
        allowed, or the only one held when the options allow any)."""
        stored = self._pick(options, credential_id)
        if sign_count is None:
            if self.counting:
                stored.sign_count += 1
            sign_count = stored.sign_count
        rp_id = rp_id or options.get("rpId") or stored.rp_id
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(0, uv)])
            + struct.pack(">I", sign_count)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = stored.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(stored.credential_id),
            "rawId": b64url(stored.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(stored.user_handle),
            },
        }

    def _pick(self, options: dict, credential_id: bytes | None) -> StoredCredential:
        if credential_id is not None:
            return self.credentials[credential_id]
        allowed = [unb64url(c["id"]) for c in options.get("allowCredentials") or []]
        held = [c for c in self.credentials.values() if not allowed or c.credential_id in allowed]
        assert held, "no credential for these options"
        return held[-1]

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(body).encode()

    def only_credential_id(self) -> bytes:
        (credential_id,) = self.credentials
        return credential_id
