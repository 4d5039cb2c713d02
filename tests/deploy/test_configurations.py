"""The deploy/ examples as the cluster tests render them (only addresses change), and what a
missing program does to a cluster test: a skip on a laptop, a failure under CI=true."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.deploy.conftest import cluster_start
from tests.support import haproxy, pgbouncer
from tests.support.cluster import ClusterOptions, ServiceCluster, served_module


def test_haproxy_rendering_changes_only_addresses():
    example = haproxy.DEPLOY_CONFIG.read_text()
    rendered = haproxy.render(example, port=9001, servers=[9101, 9102], socket_path=Path("/x.s"))
    assert "    bind 127.0.0.1:9001" in rendered.splitlines()
    assert "    server app1 127.0.0.1:9101 check" in rendered.splitlines()
    assert "    server app2 127.0.0.1:9102 check" in rendered.splitlines()
    assert "server app3" not in rendered
    assert "    stats socket /x.s mode 600 level admin" in rendered.splitlines()
    addresses = ("bind ", "server ", "stats socket ")

    def kept(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.strip().startswith(addresses)]

    assert kept(rendered) == kept(example)


def test_the_haproxy_example_is_valid_as_written(tmp_path):
    try:
        binary = haproxy.haproxy_binary()
    except haproxy.HAProxyUnavailable as error:
        missing_tool(str(error))
    config = tmp_path / "haproxy.cfg"
    example = haproxy.DEPLOY_CONFIG.read_text()
    config.write_text(example.replace("/run/haproxy/admin.sock", str(tmp_path / "admin.sock")))
    check = subprocess.run(
        [binary, "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_pgbouncer_rendering_changes_only_where_things_are():
    example = pgbouncer.DEPLOY_CONFIG.read_text()
    rendered = pgbouncer.render(
        example,
        databases={"accounts": "host=127.0.0.1 port=5999 dbname=accounts"},
        settings={"listen_port": "7000", "auth_file": "/tmp/u.txt", "server_round_robin": "1"},
    )
    settings = pgbouncer.settings_of(rendered)
    assert settings["listen_port"] == "7000"
    assert settings["server_round_robin"] == "1"  # not in the example: appended
    assert "accounts = host=127.0.0.1 port=5999 dbname=accounts" in rendered.splitlines()
    assert "accounts = host=127.0.0.1 port=5432 dbname=accounts" not in rendered
    unchanged = {"listen_port", "auth_file", "server_round_robin"}
    example_settings = pgbouncer.settings_of(example)
    assert {k: v for k, v in settings.items() if k not in unchanged} == {
        k: v for k, v in example_settings.items() if k not in unchanged
    }
    assert example_settings["pool_mode"] == "transaction"


@pytest.mark.parametrize(
    "missing",
    [
        haproxy.HAProxyUnavailable("haproxy is not installed"),
        pgbouncer.PgBouncerUnavailable("pgbouncer is not installed"),
    ],
)
@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_program_fails_a_cluster_test_under_ci(monkeypatch, missing, ci, outcome):
    def start(self: ServiceCluster, *args: object, **kwargs: object) -> ServiceCluster:
        raise missing

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(ServiceCluster, "start", start)
    with pytest.raises(outcome, match="not installed"):
        cluster_start(ClusterOptions())


def test_the_instances_run_what_make_run_serves():
    assert importlib.util.find_spec(served_module()) is not None
