"""Passkeys (WebAuthn): registration, passwordless sign-in, and proofs for other journeys."""
