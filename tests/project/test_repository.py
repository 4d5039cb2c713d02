"""The repository holds sources only: no tool cache, build output or local secret is tracked."""

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

NEVER_TRACKED = (
    ".schemathesis/",
    ".hypothesis/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".import_linter_cache/",
    "staticfiles/",
    "node_modules/",
    ".venv/",
    ".env",
)


def matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):  # a folder, anywhere in the tree
        return f"/{pattern}" in f"/{path}"
    return f"/{path}".endswith(f"/{pattern}")


def test_no_tool_cache_or_build_output_is_tracked():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    offending = [path for path in tracked for pattern in NEVER_TRACKED if matches(path, pattern)]
    assert offending == []


def test_tool_caches_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for pattern in NEVER_TRACKED:
        assert pattern in ignored, pattern
