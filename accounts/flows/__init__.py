"""The journeys of an account, one module each (django-allauth's account/internal/flows is the
model): signup, signin, sessions (refresh, sign-out, the user's own sessions, the purge),
password (change, reset, and the checks every password guess goes through), email_links
(verification, address change), reauthentication (a fresh session again), email_code (sign-in
by a code sent by email), export (the account's data) and deletion (its end, its restore, its
erasure); issue opens the sessions they answer, and new_device tells the user of a
sign-in unlike their recent ones.

Each public function is the async service a view calls, keyword-only and typed; the work it does
in one transaction is a private helper beside it. Each change of security interest sends
`auth_event` inside its transaction."""

from accounts.flows import (
    deletion,
    email_code,
    email_links,
    export,
    issue,
    new_device,
    password,
    reauthentication,
    sessions,
    signin,
    signup,
)

__all__ = [
    "deletion",
    "email_code",
    "email_links",
    "export",
    "issue",
    "new_device",
    "password",
    "reauthentication",
    "sessions",
    "signin",
    "signup",
]
