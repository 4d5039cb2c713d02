"""The exception reporter filter: what error pages and error e-mails may show of settings."""

import dataclasses
import re
from typing import Any
from urllib.parse import urlsplit

from django.views.debug import SafeExceptionReporterFilter

# Django's own list (API, AUTH, TOKEN, KEY, SECRET, PASS, SIGNATURE, HTTP_COOKIE), plus names
# whose value is a connection string: DATABASE_URL, REDIS_URL, TEST_DATABASE_URL, any *_DSN.
HIDDEN_NAMES = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|REDIS_URL|TEST_URL|DSN",
    flags=re.IGNORECASE,
)
# scheme://user:password@host or scheme://:password@host, anywhere in a string.
CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s@]*:[^/\s@]*@", flags=re.IGNORECASE)


def holds_credentials(value: str) -> bool:
    """A URL with a password, or text that contains one (a DSN in an error message)."""
    if CREDENTIAL_URL.search(value):
        return True
    try:
        return urlsplit(value).password is not None
    except ValueError:
        return False


class CredentialMaskingFilter(SafeExceptionReporterFilter):
    """Mask every setting that can carry a credential, whatever its name or nesting.

    Django masks by name only, and only inside dicts, lists and tuples: `DATABASE_URL`,
    `REDIS_URL` and the `DATABASE` object (whose `settings` dict holds the `PASSWORD`) were shown
    in full. Here a string is masked when its name says secret or its value is a URL with a
    password, and dataclass settings are cleansed field by field.
    """

    hidden_settings = HIDDEN_NAMES

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        if isinstance(value, str) and holds_credentials(value):
            return self.cleansed_substitute
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {item.name: getattr(value, item.name) for item in dataclasses.fields(value)}
            return {name: self.cleanse_setting(name, item) for name, item in fields.items()}
        return super().cleanse_setting(key, value)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        # A local variable holding a DSN or a secret is as telling as the setting it came from.
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_setting(name, value)) for name, value in variables]
