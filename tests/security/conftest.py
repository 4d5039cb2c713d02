"""The security suite pins the fixes of issue 11 against the real stack on PostgreSQL."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.path):
            item.add_marker(pytest.mark.postgresql)
