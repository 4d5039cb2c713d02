"""The journeys of the second factor, one module each (as accounts.flows): enrolment (TOTP set
up, confirmed and turned off, recovery codes, the staff's reset), challenge (the sign-in's second
step, which the API and the admin login both answer) and admin_login (the admin's own login);
codes holds what every code check shares: the budgets, the device lock and the check itself.

Every wrong code spends the code budgets (per user and client address, RATE_LIMIT_MFA_FAILED;
per user, RATE_LIMIT_MFA_FAILED_USER; counted before the check, given back by a right code) and
records `mfa_failed`; each change records its event in its transaction."""

from mfa.flows import admin_login, challenge, codes, enrolment

__all__ = ["admin_login", "challenge", "codes", "enrolment"]
