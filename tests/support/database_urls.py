"""DATABASE_URL parsing as the settings do it, and how a refused URL must read."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.database import PoolSettings, database_config_from_url

BASE = Path("/srv/app")
POOL = PoolSettings(min_size=0, max_size=4, timeout=2, connect_timeout=3, statement_timeout=30)


def parse(url: str):
    return database_config_from_url(url, base_dir=BASE, pool=POOL)


def assert_refused_in_one_sentence(url: str, message: str, *hidden: str) -> None:
    """`url` is refused with `message`, in one line without the password ("hunter2", and any
    part of it in `hidden`)."""
    with pytest.raises(ImproperlyConfigured) as raised:
        parse(url)
    text = str(raised.value)
    assert text.startswith("DATABASE_URL ")
    assert message in text
    assert "hunter2" not in text
    for fragment in hidden:
        assert fragment not in text
    assert "\n" not in text
    # Nothing chained: urllib's own message could quote the URL, password and all.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__
