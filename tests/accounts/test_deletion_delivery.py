"""Account deletion through the real parts: a uvicorn server that only enqueues, the real
`manage.py db_worker`, and the aiosmtpd server (the fixtures of test_email_delivery). The restore
link comes from the real message; `manage.py purge` then leaves no row naming the user, the
queue's own table included."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from tests.accounts.flows.test_deletion import NOTICE, grace_over, purge, rows_naming
from tests.accounts.test_email_delivery import (
    api,
    bearer,
    db_worker,
    link_token,
    mail_server,
    wait_until,
)
from tests.factories import DEFAULT_PASSWORD
from tests.support.mail import parts
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.slow]
__all__ = ["api", "mail_server"]  # the fixtures this module shares


# Its own worker and server, for this test only: the worker stops before the test database is
# flushed (a worker polling its queue while the flush truncates the tables can deadlock it).
@pytest.fixture
def worker(mail_server, tmp_path) -> Iterator[Path]:
    with db_worker(mail_server, tmp_path / "worker.log") as log:
        yield log


@pytest.fixture
def server(live_server_factory, worker):
    return live_server_factory(TASKS_BACKEND="database")


def test_delete_restore_by_the_mailed_link_delete_again_then_purge(
    api, server, mail_server, worker
):
    email = "deleted.for.real@example.com"
    created = api.post("/signup", json={"email": email, "password": DEFAULT_PASSWORD})
    assert created.status_code == 201
    session = created.json()
    user_id = session["user"]["id"]
    mail_server.wait_for(email, "Confirm your email address")

    deleted = api.delete("/me", headers=bearer(session))
    assert deleted.status_code == 202, deleted.text
    notice = mail_server.wait_for(email, NOTICE)
    assert notice.over_tls and notice.login == b"mailer"
    assert "http://localhost:3000/restore-account?token=" in parts(notice.message)["text/plain"]
    token = link_token(notice)
    refused = api.post("/signin", json={"email": email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid email or password"}

    assert api.post("/me/restore", json={"token": token}).status_code == 200
    again = api.post("/signin", json={"email": email, "password": DEFAULT_PASSWORD})
    assert again.status_code == 200
    assert api.delete("/me", headers=bearer(again.json())).status_code == 202
    mail_server.wait_for(email, NOTICE, count=2)
    wait_until(lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists())
    # The queue's table names the user (task arguments) until the purge.
    assert any(user_id in str(task.args_kwargs) for task in DBTaskResult.objects.all())

    async_to_sync(grace_over)(email)
    assert "1 erased account(s)" in purge()
    assert rows_naming(user_id, email) == []
    assert not User.objects.filter(email=email).exists()
    anew = api.post("/signup", json={"email": email, "password": DEFAULT_PASSWORD})
    assert anew.status_code == 201
    assert token not in server.output() + worker.read_text()
