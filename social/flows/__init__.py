"""The journeys of sign-in with another provider: authorization (the browser's trip to the
provider and back), linking (who an identity signs in), signin (sessions from the callback's
code or a native app's ID token), identities (removal, purge)."""

from social.flows import authorization, identities, linking, signin

__all__ = ["authorization", "identities", "linking", "signin"]
