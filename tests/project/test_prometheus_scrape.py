"""A real Prometheus (Debian's package) scrapes a live server with its bearer token."""

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing_tool
from tests.support.markers import POSTGRESQL
from tests.support.pgcluster import free_port

pytestmark = [*POSTGRESQL, pytest.mark.slow]

TOKEN = "prometheus-scrape-token-0123456789"


def scrape_config(target: str, token_file: Path, wrong_token_file: Path) -> str:
    return f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: accounts
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["{target}"]
  - job_name: accounts-wrong-token
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {wrong_token_file}
    static_configs:
      - targets: ["{target}"]
"""


def query(prometheus: str, expression: str) -> list[dict]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def test_prometheus_scrapes_the_metrics_with_the_bearer_token_from_a_file(serve_factory, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        missing_tool("prometheus (apt-get install prometheus)")
    assert binary is not None
    server = serve_factory(METRICS_TOKEN=TOKEN)
    token_file, wrong_token_file = tmp_path / "token", tmp_path / "wrong-token"
    token_file.write_text(TOKEN)
    wrong_token_file.write_text("not-the-token")
    token_file.chmod(0o600)
    config = tmp_path / "prometheus.yml"
    config.write_text(scrape_config(f"127.0.0.1:{server.port}", token_file, wrong_token_file))
    port = free_port()
    prometheus = f"http://127.0.0.1:{port}"
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(7):
            assert httpx.get(f"{server.url}/health").status_code == 200
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                counted = query(
                    prometheus, 'accounts_http_requests_total{route="/health",status="200"}'
                )
                up = {r["metric"]["job"]: r["value"][1] for r in query(prometheus, "up")}
            except httpx.HTTPError:
                counted, up = [], {}
            if counted and float(counted[0]["value"][1]) >= 7 and len(up) == 2:
                break
            assert time.monotonic() < deadline, (counted, up)
            time.sleep(0.5)
        assert counted[0]["metric"]["method"] == "GET"
        # The job with the wrong token is refused (401): Prometheus marks its target down.
        assert up == {"accounts": "1", "accounts-wrong-token": "0"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
