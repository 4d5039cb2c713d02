"""TypeScript types from openapi-typescript and an openapi-fetch client, compiled strict, run."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.project.clients.conftest import CLIENTS_DIR
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]

SOURCES = CLIENTS_DIR / "typescript"


@pytest.fixture(scope="module")
def server(module_live_server):
    return module_live_server(RATE_LIMITS="off")


def run(command: list[str], cwd: Path, what: str) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    # openapi-typescript prints the whole document with a parse error: keep the start.
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[:3000]}\n{result.stderr[:3000]}"
    return result.stdout


def test_typescript_client_from_the_live_url_compiles_strict_and_runs_a_typed_flow(
    server, node_modules, tmp_path
):
    # A build directory of its own: the committed flow and tsconfig, the generated schema.
    for name in ("flow.ts", "tsconfig.json"):
        shutil.copy(SOURCES / name, tmp_path / name)
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    (tmp_path / "node_modules").symlink_to(node_modules)
    tools = node_modules / ".bin"

    run(
        [str(tools / "openapi-typescript"), f"{server.url}/api/openapi.json", "-o", "schema.d.ts"],
        tmp_path,
        "openapi-typescript",
    )
    run([str(tools / "tsc"), "--strict", "-p", "tsconfig.json"], tmp_path, "tsc --strict")
    output = run(
        ["node", "out/flow.js", server.url, "Lin@Example.com"], tmp_path, "node out/flow.js"
    )

    result = json.loads(output)
    assert result["signup"]["status"] == 201
    assert result["signup"]["tokenType"] == "bearer"
    assert result["me"] == {
        "status": 200,
        "id": result["signup"]["userId"],
        "email": "lin@example.com",
    }
    assert result["denied"]["status"] == 401
    assert result["denied"]["detail"]
    assert result["denied"]["challenge"].startswith("Bearer")
