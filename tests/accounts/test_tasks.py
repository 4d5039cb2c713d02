"""Email tasks: enqueued with the change they belong to (or not at all), retried with back-off
when the mail server does not answer, visible in the admin; purge drops dead links, old results."""

import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import tasks
from accounts.client import ClientInfo
from accounts.exceptions import EmailAlreadyRegistered
from accounts.flows.signup import _user_create
from accounts.models import EmailToken, User
from tests.accounts.helpers import ask_email_change, bearer, change_password, confirm_reset, signup
from tests.accounts.test_admin import admin_login
from tests.factories import UserFactory
from tests.support.mail import link_token, only_message_to, sent_to
from tests.support.pgcluster import free_port
from toolkit.tasks import enqueue_with_transaction, retry_delay

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT = ClientInfo(ip="127.0.0.1", user_agent="test")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def database_tasks(settings):
    """Tasks kept in the database, as in production (nothing runs them unless a test does)."""
    settings.TASKS = DATABASE_TASKS
    return settings


@pytest.fixture
def mail_server_down(settings):
    """A real SMTP backend pointed at a port where nothing listens."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    settings.EMAIL_RETRY_DELAY = 30.0
    return settings


class Rollback(Exception):
    pass


def create_then_roll_back(email: str) -> None:
    try:
        with transaction.atomic():
            user = User.objects.create(email=email)
            enqueue_with_transaction(tasks.email_verification_send, user_id=str(user.pk))
            raise Rollback
    except Rollback:
        pass


async def test_signup_with_the_database_backend_only_enqueues_its_message(api, database_tasks):
    session = await signup(api, "queued@example.com")
    queued = [row async for row in DBTaskResult.objects.all()]
    assert [row.task_path for row in queued] == ["accounts.tasks.email_verification_send"]
    assert queued[0].args_kwargs["kwargs"] == {"user_id": session["user"]["id"]}
    assert queued[0].status == "READY"
    assert mail.outbox == []
    assert not await EmailToken.objects.aexists()  # the token is made by the task


async def test_a_rolled_back_change_enqueues_nothing_with_the_database_backend(database_tasks):
    await sync_to_async(create_then_roll_back)("rolled.back@example.com")
    assert not await DBTaskResult.objects.aexists()


async def test_a_rolled_back_change_sends_nothing_with_the_immediate_backend():
    await sync_to_async(create_then_roll_back)("rolled.back@example.com")
    assert mail.outbox == []


async def test_a_sign_up_that_loses_a_race_enqueues_nothing(database_tasks):
    await sync_to_async(_user_create)(email="race@example.com", encoded_password="!", client=CLIENT)
    with pytest.raises(EmailAlreadyRegistered):
        await sync_to_async(_user_create)(
            email="race@example.com", encoded_password="!", client=CLIENT
        )
    assert await DBTaskResult.objects.acount() == 1


async def test_task_arguments_hold_no_token(api, database_tasks):
    await UserFactory().create("argument@example.com")
    await api.post("/api/auth/password/reset", json={"email": "argument@example.com"})
    row = await DBTaskResult.objects.aget()
    assert row.args_kwargs == {"args": [], "kwargs": {"email": "argument@example.com"}}


async def test_a_failed_send_is_enqueued_again_with_back_off_and_leaves_no_token(
    database_tasks, mail_server_down
):
    await UserFactory().create("patient@example.com")
    with pytest.raises(ConnectionRefusedError):
        await sync_to_async(tasks.password_reset_send.call)(email="patient@example.com")
    retry = await DBTaskResult.objects.aget()
    assert retry.status == "READY"
    assert retry.args_kwargs["kwargs"] == {"email": "patient@example.com", "attempt": 2}
    delay = (retry.run_after - timezone.now()).total_seconds()
    assert 25 < delay <= 30
    assert not await EmailToken.objects.aexists()


async def test_the_last_attempt_is_not_enqueued_again(database_tasks, mail_server_down):
    mail_server_down.EMAIL_SEND_ATTEMPTS = 3
    await UserFactory().create("hopeless@example.com")
    with pytest.raises(ConnectionRefusedError):
        await sync_to_async(tasks.password_reset_send.call)(email="hopeless@example.com", attempt=3)
    assert not await DBTaskResult.objects.aexists()


def test_back_off_doubles_up_to_an_hour():
    delays = [retry_delay(n, first_delay=30, longest_delay=3600) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_the_worker_records_a_failed_attempt_and_queues_the_next(database_tasks, mail_server_down):
    # Synchronous: the worker installs signal handlers, which only the main thread may do.
    User.objects.create_user("worked@example.com", "a passphrase of some length")
    tasks.password_reset_send.enqueue(email="worked@example.com")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=StringIO())
    failed = DBTaskResult.objects.get(status="FAILED")
    assert failed.exception_class_path == "builtins.ConnectionRefusedError"
    queued = DBTaskResult.objects.get(status="READY")
    assert queued.args_kwargs["kwargs"] == {"email": "worked@example.com", "attempt": 2}
    assert queued.run_after > timezone.now()


async def test_with_the_immediate_backend_a_dead_mail_server_still_answers_202(
    api, mail_server_down
):
    await UserFactory().create("dev@example.com")
    response = await api.post("/api/auth/password/reset", json={"email": "dev@example.com"})
    assert response.status_code == 202


async def test_queued_and_failed_tasks_are_visible_in_the_admin(api, database_tasks):
    await User.objects.acreate_user(
        "ops@example.com", "operator-passphrase", is_staff=True, is_superuser=True
    )
    await UserFactory().create("stuck@example.com")
    await api.post("/api/auth/password/reset", json={"email": "stuck@example.com"})
    await api.post("/api/auth/password/reset", json={"email": "stuck.too@example.com"})
    first = await DBTaskResult.objects.order_by("enqueued_at").afirst()
    assert first is not None
    await sync_to_async(first.set_failed)(ConnectionRefusedError(111, "Connection refused"))
    assert (await admin_login(api, "ops@example.com", "operator-passphrase")).status_code == 302
    listing = await api.get("/admin/django_tasks_database/dbtaskresult/")
    assert listing.status_code == 200
    assert "password_reset_send" in listing.text
    assert "Failed" in listing.text and "Ready" in listing.text
    failed = await DBTaskResult.objects.aget(status="FAILED")
    page = await api.get(f"/admin/django_tasks_database/dbtaskresult/{failed.pk}/change/")
    assert "ConnectionRefusedError" in page.text


async def test_admin_user_list_shows_verification_state(api):
    await User.objects.acreate_user(
        "ops2@example.com", "operator-passphrase", is_staff=True, is_superuser=True
    )
    await signup(api, "unverified.one@example.com")
    assert (await admin_login(api, "ops2@example.com", "operator-passphrase")).status_code == 302
    listing = await api.get("/admin/accounts/user/", params={"email_verified__exact": "0"})
    assert listing.status_code == 200
    assert "Email verified" in listing.text
    assert "unverified.one@example.com" in listing.text


async def test_purge_deletes_used_and_expired_email_tokens(api):
    await signup(api, "purged@example.com")
    await signup(api, "kept@example.com")
    await signup(api, "expired@example.com")
    now = timezone.now()
    await EmailToken.objects.filter(user__email="purged@example.com").aupdate(used_at=now)
    await EmailToken.objects.filter(user__email="expired@example.com").aupdate(
        expires_at=now - timedelta(seconds=1)
    )
    out = StringIO()
    await sync_to_async(call_command)("purge", stdout=out)
    assert "2 email token(s)" in out.getvalue()
    remaining = [t.email async for t in EmailToken.objects.all()]
    assert remaining == ["kept@example.com"]


def test_requeue_stuck_tasks_puts_back_what_a_dead_worker_left_running(database_tasks):
    tasks.password_reset_send.enqueue(email="stuck.long@example.com")
    tasks.password_reset_send.enqueue(email="in.hand@example.com")
    long_ago, just_now = DBTaskResult.objects.order_by("enqueued_at")
    long_ago.claim("dead-worker")
    DBTaskResult.objects.filter(pk=long_ago.pk).update(
        started_at=timezone.now() - timedelta(minutes=11)
    )
    just_now.claim("live-worker")
    out = StringIO()
    call_command("requeue_stuck_tasks", stdout=out)
    assert out.getvalue().strip() == "Requeued 1 stuck task(s)."
    assert DBTaskResult.objects.get(pk=long_ago.pk).status == "READY"
    assert DBTaskResult.objects.get(pk=just_now.pk).status == "RUNNING"
    assert [row.pk for row in DBTaskResult.objects.ready()] == [long_ago.pk]


def test_purge_drops_task_results_finished_long_ago_only(database_tasks):
    for email in ("sent.long.ago@example.com", "failed.long.ago@example.com", "sent@example.com"):
        tasks.password_reset_send.enqueue(email=email)
    tasks.password_reset_send.enqueue(email="waiting@example.com")
    sent_long_ago, failed_long_ago, sent_recently, waiting = DBTaskResult.objects.order_by(
        "enqueued_at"
    )
    now = timezone.now()
    for row, status, finished in (
        (sent_long_ago, "SUCCESSFUL", now - timedelta(days=15)),
        (failed_long_ago, "FAILED", now - timedelta(days=15)),
        (sent_recently, "SUCCESSFUL", now - timedelta(days=13)),
    ):
        DBTaskResult.objects.filter(pk=row.pk).update(status=status, finished_at=finished)
    out = StringIO()
    call_command("purge", stdout=out)
    assert " 2 task result(s)" in out.getvalue()
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert remaining == {sent_recently.pk, waiting.pk}


async def test_password_change_commits_its_notice_with_the_new_password(api, database_tasks):
    session = await signup(api, "notified@example.com")
    response = await api.post(
        "/api/auth/password",
        json={
            "current_password": "correct horse battery staple",
            "new_password": "new passphrase!",
        },
        headers=bearer(session),
    )
    assert response.status_code == 200
    notice = await DBTaskResult.objects.aget(task_path="accounts.tasks.security_notice_send")
    assert notice.args_kwargs["kwargs"] == {
        "user_id": session["user"]["id"],
        "kind": "password_changed",
        "to": "notified@example.com",
    }


async def run_queued(task) -> None:
    """Run the queued rows of `task` with their stored arguments, as a worker would."""
    path = f"{task.func.__module__}.{task.func.__qualname__}"
    rows = [row async for row in DBTaskResult.objects.filter(task_path=path, status="READY")]
    assert rows, f"nothing queued for {path}"
    for row in rows:
        await sync_to_async(task.call)(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])


async def test_a_password_change_notice_goes_to_the_address_it_concerned(api, database_tasks):
    session = await signup(api, "before.move@example.com")
    response = await change_password(api, session, "new passphrase!")
    assert response.status_code == 200
    # The address moves before a worker gets to the notice.
    await User.objects.filter(pk=session["user"]["id"]).aupdate(email="after.move@example.com")
    await run_queued(tasks.security_notice_send)
    only_message_to("before.move@example.com", "Your password was changed")
    assert sent_to("after.move@example.com") == []


async def test_a_password_reset_notice_goes_to_the_address_that_was_reset(api, database_tasks):
    await UserFactory().create("reset.before.move@example.com")
    await api.post("/api/auth/password/reset", json={"email": "reset.before.move@example.com"})
    await run_queued(tasks.password_reset_send)
    confirmed = await confirm_reset(api, "reset.before.move@example.com", "a brand new passphrase")
    assert confirmed.status_code == 200
    await User.objects.filter(email="reset.before.move@example.com").aupdate(
        email="reset.after.move@example.com"
    )
    await run_queued(tasks.security_notice_send)
    only_message_to("reset.before.move@example.com", "Your password was reset")
    assert sent_to("reset.after.move@example.com") == []


def test_a_notice_without_a_recipient_is_refused():
    without_to: dict[str, Any] = {"user_id": str(uuid.uuid4()), "kind": "password_changed"}
    with pytest.raises(TypeError):
        tasks.security_notice_send.call(**without_to)
    with pytest.raises(ValueError, match="without a recipient"):
        tasks.security_notice_send.call(user_id=str(uuid.uuid4()), kind="password_changed", to="")


async def test_an_address_change_link_queued_before_a_password_change_is_never_made(
    api, database_tasks
):
    session = await signup(api, "slow.worker@example.com")
    asked = await ask_email_change(api, session, "too.late@example.com")
    assert asked.status_code == 202
    changed = await change_password(api, session, "new passphrase!")
    assert changed.status_code == 200
    # Only now does a worker get to the link.
    await run_queued(tasks.email_change_send)
    assert sent_to("too.late@example.com") == []
    assert not await EmailToken.objects.filter(purpose="email_change").aexists()


async def test_an_address_change_link_is_made_while_the_asking_session_lives(api, database_tasks):
    session = await signup(api, "quick.worker@example.com")
    await ask_email_change(api, session, "in.time@example.com")
    await run_queued(tasks.email_change_send)
    only_message_to("in.time@example.com", "Confirm your new email address")


async def test_a_confirmed_change_commits_its_notice_to_the_old_address(api, database_tasks):
    session = await signup(api, "committed.old@example.com")
    await ask_email_change(api, session, "committed.new@example.com")
    await run_queued(tasks.email_change_send)
    token = link_token(
        only_message_to("committed.new@example.com", "Confirm your new email address")
    )
    confirmed = await api.post("/api/auth/email/change/confirm", json={"token": token})
    assert confirmed.status_code == 200
    notices = [
        row.args_kwargs["kwargs"]
        async for row in DBTaskResult.objects.filter(
            task_path="accounts.tasks.security_notice_send"
        ).order_by("enqueued_at")
    ]
    assert notices[-1] == {
        "user_id": session["user"]["id"],
        "kind": "email_changed_notice",
        "to": "committed.old@example.com",
    }
