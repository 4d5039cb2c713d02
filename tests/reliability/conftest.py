"""The reliability suite attacks a live uvicorn server (or the in-process app) on PostgreSQL."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path):
            item.add_marker(pytest.mark.postgresql)
