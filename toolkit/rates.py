"""Throttle rates as written in settings: `<count>/<period>`, e.g. `10/h`, `5/15m`, `100/s`."""

import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds

    def __str__(self) -> str:
        return f"{self.count}/{self.period}s"


def parse_rate(name: str, value: str) -> Rate:
    match = RATE_PATTERN.match(value.lower())
    if not match or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ImproperlyConfigured(
            f"{name} must look like <count>/<period> (e.g. 10/m, 5/15m, 100/h), got {value!r}."
        )
    count, multiplier, unit = match.groups()
    return Rate(count=int(count), period=int(multiplier or 1) * PERIOD_SECONDS[unit])
