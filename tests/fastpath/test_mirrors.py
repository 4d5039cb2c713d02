"""Each fast-path piece names the upstream source it mirrors; an upgrade that changes that
source fails here with what to re-port."""

import sys

import pytest

from fastpath.mirrors import MIRRORED, fingerprint


@pytest.mark.parametrize("mirror", MIRRORED, ids=lambda mirror: mirror.source)
def test_the_mirrored_upstream_source_is_unchanged(mirror):
    assert fingerprint(mirror.source) == mirror.fingerprint, (
        f"{mirror.source} changed upstream (Django, psycopg_pool or uvicorn was upgraded): re-port "
        f"{mirror.ours} against the new source, run the fast path's tests, then record the "
        f"new fingerprint {fingerprint(mirror.source)!r} in fastpath/mirrors.py."
    )


def test_a_changed_source_is_noticed(tmp_path, monkeypatch):
    upstream = tmp_path / "mirrored_upstream.py"
    upstream.write_text("class Handler:\n    def send(self):\n        return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mirrored_upstream", raising=False)
    before = fingerprint("mirrored_upstream.Handler.send")
    assert fingerprint("mirrored_upstream.Handler.send") == before  # stable while unchanged
    upstream.write_text("class Handler:\n    def send(self):\n        return 1 + 1\n")
    del sys.modules["mirrored_upstream"]
    assert fingerprint("mirrored_upstream.Handler.send") != before
