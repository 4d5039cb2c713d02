"""Start-up against a broken database: the server starts anyway (so it can say why it is not
ready), logs exactly one clear line without the password, and spams no tracebacks."""

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings

from tests.support.markers import LIVE
from tests.support.pgcluster import Cluster, free_port, start_cluster

pytestmark = [*LIVE, pytest.mark.slow]
SECRET = "pw-that-must-never-show"


@pytest.fixture(scope="module")
def cluster_without_tls() -> Iterator[Cluster]:
    cluster = start_cluster(ssl=False)
    yield cluster
    cluster.remove()


def suite_server(password: str = SECRET, host: str | None = None, query: str = "") -> str:
    db = settings.DATABASES["default"]
    suffix = f"?{query}" if query else ""
    return (
        f"postgresql://{db['USER']}:{quote(password)}@{host or db['HOST']}:{db['PORT']}"
        f"/{db['NAME']}{suffix}"
    )


def start(live_server_factory, url: str):
    # A short pool wait keeps these tests quick; the diagnosis connects directly anyway.
    return live_server_factory(TEST_SERVER_DATABASE_URL=url, DB_POOL_TIMEOUT="1")


def assert_one_clear_line(server, *fragments: str) -> None:
    log = server.output()
    lines = [line for line in log.splitlines() if "Database not ready" in line]
    assert len(lines) == 1, log
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert SECRET not in log
    assert "Traceback" not in log
    assert "Application startup complete." in log
    assert httpx.get(f"{server.url}/health").status_code == 200
    ready = httpx.get(f"{server.url}/health/ready", timeout=30)
    assert ready.status_code == 503
    assert SECRET not in ready.text


def test_wrong_password(live_server_factory):
    server = start(live_server_factory, suite_server())
    assert_one_clear_line(server, "password authentication failed")


def test_unknown_host(live_server_factory):
    server = start(live_server_factory, suite_server(host="no-such-host.invalid"))
    assert_one_clear_line(server, "failed to resolve host 'no-such-host.invalid'")


def test_database_down_at_boot(live_server_factory):
    url = f"postgresql://app:{SECRET}@127.0.0.1:{free_port()}/app"
    server = start(live_server_factory, url)
    assert_one_clear_line(server, "Connection refused")


def test_ssl_required_by_the_client_but_refused_by_the_server(
    live_server_factory, cluster_without_tls
):
    url = cluster_without_tls.url(query="sslmode=require").replace(
        cluster_without_tls.password, SECRET
    )
    server = start(live_server_factory, url)
    assert_one_clear_line(server, "server does not support SSL")


def test_certificate_verification_refused(live_server_factory):
    server = start(live_server_factory, suite_server(query="sslmode=verify-full"))
    assert_one_clear_line(server, "root certificate file")


def test_malformed_database_url_stops_with_one_line(live_server_factory):
    server = live_server_factory(
        wait_ready=False, TEST_SERVER_DATABASE_URL=f"postgresql://u:{SECRET}@db:5432"
    )
    assert server.process is not None
    assert server.process.wait(timeout=30) == 2
    log = server.output()
    assert "Configuration error: DATABASE_URL names no database" in log
    assert SECRET not in log
    assert "Traceback" not in log
