"""Look-alike accounts: one canonical email form (NFKC, case-folded, IDNA domain) decides
uniqueness, new local parts must be ASCII, and stored rows migrate without failing on collisions."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts.managers import UserManager
from accounts.models import User
from tests.accounts.helpers import signin, signup
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import POSTGRESQL

pytestmark = [*POSTGRESQL, pytest.mark.attack]

FULLWIDTH_A = "\uff41"
CYRILLIC_A = "\u0430"
DOTLESS_I = "\u0131"
DOTTED_CAPITAL_I = "\u0130"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (f"{FULLWIDTH_A}na@example.com", "ana@example.com"),
        ("ANA@Example.COM", "ana@example.com"),
        ("stra\u00dfe@example.com", "strasse@example.com"),
        ("ana@xn--bcher-kva.example", "ana@b\u00fccher.example"),
        ("ana@B\u00dcCHER.example", "ana@b\u00fccher.example"),
    ],
)
def test_normalize_email_gives_one_canonical_form(given, canonical):
    assert UserManager.normalize_email(given) == canonical


async def test_fullwidth_lookalike_of_an_existing_email_is_409(api):
    await signup(api, "ana@example.com")
    response = await api.post(
        "/api/auth/signup",
        json={"email": f"{FULLWIDTH_A}na@example.com", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 409
    assert await User.objects.acount() == 1


@pytest.mark.parametrize(
    "local_part",
    [f"{CYRILLIC_A}na", f"an{DOTLESS_I}", f"an{DOTTED_CAPITAL_I}", f"{CYRILLIC_A}n{CYRILLIC_A}"],
)
async def test_non_ascii_local_parts_are_refused_with_422(api, local_part):
    await signup(api, "ana@example.com")
    body = {"email": f"{local_part}@example.com", "password": DEFAULT_PASSWORD}
    response = await api.post("/api/auth/signup", json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "email_local_part_not_ascii",
            "loc": ["body", "email"],
            "msg": "The part before @ must use ASCII letters, digits and punctuation only",
        }
    ]
    assert await User.objects.acount() == 1


async def test_signin_with_a_fullwidth_spelling_finds_the_account(api):
    created = await signup(api, "ana@example.com")
    session = await signin(api, f"{FULLWIDTH_A}NA@EXAMPLE.com")
    assert session["user"]["id"] == created["user"]["id"]


async def test_international_domains_are_one_account_in_either_spelling(api):
    await signup(api, "ana@b\u00fccher.example")
    body = {"email": "ana@xn--bcher-kva.example", "password": DEFAULT_PASSWORD}
    response = await api.post("/api/auth/signup", json=body)
    assert response.status_code == 409


def legacy_rows(model: type[User] = User) -> dict[str, User]:
    """Rows as the old rule (lowercase only) stored them, bypassing today's normalisation;
    `model` may be a migration's historical User, for a schema older than today's."""
    emails = [
        "ana@example.com",
        f"{FULLWIDTH_A}na@example.com",  # collides with ana@example.com
        f"b{FULLWIDTH_A}b@example.com",  # alone: becomes bab@example.com
        "straße@example.com",  # alone: becomes strasse@example.com
        f"{CYRILLIC_A}na@example.com",  # canonical already (refused only for new sign-ups)
    ]
    return {email: model.objects.create(email=email) for email in emails}


def emails_stored() -> set[str]:
    return set(User.objects.values_list("email", flat=True))


def test_normalize_emails_dry_run_lists_changes_and_collisions_and_changes_nothing(capsys):
    rows = legacy_rows()
    with pytest.raises(CommandError, match="1 canonical email"):
        call_command("normalize_emails")
    output = capsys.readouterr().out
    assert "Would rewrite 2 email(s)." in output
    first = rows["ana@example.com"].pk
    assert f"Collision on 'ana@example.com': 'ana@example.com' (user {first})" in output
    assert emails_stored() == set(rows)


def test_normalize_emails_apply_rewrites_only_rows_without_collisions(capsys):
    rows = legacy_rows()
    with pytest.raises(CommandError):
        call_command("normalize_emails", "--apply")
    assert emails_stored() == {
        "ana@example.com",
        f"{FULLWIDTH_A}na@example.com",
        "bab@example.com",
        "strasse@example.com",
        f"{CYRILLIC_A}na@example.com",
    }
    assert "Rewrote 2 email(s)." in capsys.readouterr().out
    User.objects.filter(pk=rows[f"{FULLWIDTH_A}na@example.com"].pk).delete()  # a person decided
    call_command("normalize_emails", "--apply")  # nothing left: no error


def test_data_migration_rewrites_what_it_safely_can_and_leaves_collisions():
    call_command("migrate", "accounts", "0001", verbosity=0)
    try:
        # The User of migration 0001: today's model has columns that schema lacks.
        state = MigrationLoader(connection).project_state(("accounts", "0001_initial"))
        legacy_rows(state.apps.get_model("accounts", "User"))
        call_command("migrate", "accounts", verbosity=0)
    finally:
        call_command("migrate", verbosity=0)
    assert "bab@example.com" in emails_stored()
    assert {"ana@example.com", f"{FULLWIDTH_A}na@example.com"} <= emails_stored()
