"""The example frontend's API types: the committed file is what openapi-typescript makes of the
served OpenAPI document, and the example compiles strict against it."""

import difflib
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import NEXTJS_DIR
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]

SCHEMA = NEXTJS_DIR / "src" / "api" / "schema.d.ts"


def run(command: list[str], what: str) -> None:
    result = subprocess.run(
        command, cwd=NEXTJS_DIR, capture_output=True, text=True, timeout=180, check=False
    )
    # openapi-typescript prints the whole document with a parse error: keep the start.
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[:3000]}\n{result.stderr[:3000]}"


def test_committed_types_are_those_of_the_served_document_and_the_example_compiles(
    module_live_server, nextjs_modules: Path, tmp_path: Path
):
    server = module_live_server()
    generated = tmp_path / "schema.d.ts"
    tools = nextjs_modules / ".bin"
    run(
        [str(tools / "openapi-typescript"), f"{server.url}/api/openapi.json", "-o", str(generated)],
        "openapi-typescript",
    )
    committed, served = SCHEMA.read_text(), generated.read_text()
    drift = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            served.splitlines(keepends=True),
            "committed",
            "served",
        )
    )
    assert committed == served, (
        "examples/nextjs/src/api/schema.d.ts is out of date: run `npm run generate` there with "
        f"the API running (OPENAPI_URL=<url>/api/openapi.json to point elsewhere).\n{drift[:4000]}"
    )
    run([str(tools / "tsc"), "--noEmit", "-p", "tsconfig.json"], "tsc --noEmit")
