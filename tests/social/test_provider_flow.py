"""Sign-in with another provider against a real OpenID Connect provider (oidc-provider 9): the
browser flow over HTTP, linking rules, identities, native apps' ID tokens."""

from accounts.models import User
from audit.models import AuthEvent
from social.models import Identity
from tests.accounts.helpers import bearer, signup, verified_signup
from tests.social.helpers import (
    AUTH,
    BINDING_COOKIE,
    authorize,
    binding_cookie,
    cookies_set,
    exchange,
    provider_code,
    provider_signin,
    signed_in,
)
from tests.support.mail import html_part, sent_to
from tests.support.markers import LIVE
from tests.support.oidc_provider import provider_login

pytestmark = [*LIVE]


async def test_providers_are_listed_by_id_and_name(api, providers):
    response = await api.get(f"{AUTH}/providers")
    assert response.status_code == 200
    assert response.json() == [{"id": "acme", "name": "Acme"}]


async def test_a_new_identity_signs_up_a_verified_account_without_a_usable_password(api, providers):
    session = await signed_in(api, "newcomer@example.com")
    assert session["user"]["email"] == "newcomer@example.com"
    assert session["user"]["email_verified"] is True
    user = await User.objects.aget(email="newcomer@example.com")
    assert not user.has_usable_password()
    me = await api.get(f"{AUTH}/me", headers=bearer(session))
    assert me.json()["email"] == "newcomer@example.com"
    types = [e.type async for e in AuthEvent.objects.filter(user_id=user.pk).order_by("id")]
    assert types == ["signup", "identity_linked", "signin"]
    signin = await AuthEvent.objects.aget(user_id=user.pk, type="signin")
    assert signin.detail == {"method": "acme"}


async def test_the_same_identity_signs_in_the_same_user_again(api, providers):
    first = await signed_in(api, "again@example.com")
    second = await signed_in(api, "again@example.com")
    assert first["user"]["id"] == second["user"]["id"]
    assert await Identity.objects.filter(user_id=first["user"]["id"]).acount() == 1


async def test_an_unverified_email_makes_an_unverified_account(api, providers):
    session = await signed_in(api, "unverified:maybe@example.com")
    assert session["user"]["email_verified"] is False


async def test_no_email_at_all_is_an_error_for_the_frontend(api, providers):
    assert await provider_signin(api, "noemail:someone") == {"error": "email_missing"}


async def test_a_verified_email_links_to_the_verified_account_with_that_address(
    api, providers, users
):
    user = await users.create(email="owner@example.com", email_verified=True)
    session = await signed_in(api, "owner@example.com")
    assert session["user"]["id"] == str(user.pk)
    identity = await Identity.objects.aget(user_id=user.pk)
    assert identity.provider == "acme"


async def test_an_unverified_account_with_that_address_is_account_exists(api, providers, users):
    await users.create(email="squatted@example.com")
    assert await provider_signin(api, "squatted@example.com") == {"error": "account_exists"}
    assert not await Identity.objects.filter(email="squatted@example.com").aexists()


async def test_an_email_the_provider_does_not_verify_never_links(api, providers, users):
    await users.create(email="victim@example.com", email_verified=True)
    query = await provider_signin(api, "unverified:victim@example.com")
    assert query == {"error": "account_exists"}


async def test_the_exchange_answers_the_cookie_transport(api, providers):
    handed = await provider_code(api, "cookies@example.com")
    response = await exchange(api, handed.code, handed.binding, **{"X-Auth-Transport": "cookie"})
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookies = cookies_set(response)
    assert set(cookies) == {"__Host-access", "__Host-refresh", BINDING_COOKIE}
    assert "Max-Age=0" in cookies[BINDING_COOKIE]  # the flow is over: its cookie cleared


async def test_the_callback_keeps_the_binding_cookie_for_the_exchange(api, providers):
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "kept@example.com")
    response = await api.get(back, headers=binding_cookie(started.binding))
    assert response.status_code == 302
    assert "?code=" in response.headers["location"]
    assert BINDING_COOKIE not in cookies_set(response)


async def test_a_refused_callback_clears_the_binding_cookie(api, providers):
    started = await authorize(api)
    back = await provider_login(started.authorization_url, "noemail:cleared")
    response = await api.get(back, headers=binding_cookie(started.binding))
    assert "?error=email_missing" in response.headers["location"]
    assert "Max-Age=0" in cookies_set(response)[BINDING_COOKIE]


async def test_a_totp_user_gets_the_second_factor_challenge(api, providers, clock):
    from tests.mfa.helpers import totp_on

    session = await signed_in(api, "twofactor@example.com")
    await totp_on(api, session, clock)
    handed = await provider_code(api, "twofactor@example.com")
    answer = (await exchange(api, handed.code, handed.binding)).json()
    assert answer["mfa_required"] is True
    assert "access_token" not in answer


async def test_the_exchange_code_works_once(api, providers):
    handed = await provider_code(api, "once@example.com")
    assert (await exchange(api, handed.code, handed.binding)).status_code == 200
    again = await exchange(api, handed.code, handed.binding)
    assert again.status_code == 400
    assert again.json() == {"detail": "Invalid or expired code"}


async def test_identities_are_listed_and_linking_adds_one_to_a_password_account(api, providers):
    session = await verified_signup(api, "linker@example.com")
    query = await provider_signin(api, "elsewhere@example.com", "link", bearer(session))
    assert query == {"linked": "acme"}
    listed = (await api.get(f"{AUTH}/identities", headers=bearer(session))).json()
    assert [(i["provider"], i["email"]) for i in listed] == [("acme", "elsewhere@example.com")]
    # The linked identity now signs in the password account.
    assert (await signed_in(api, "elsewhere@example.com"))["user"]["id"] == session["user"]["id"]


async def test_linking_needs_a_session(api, providers):
    response = await api.post(f"{AUTH}/providers/acme/authorize", json={"process": "link"})
    assert response.status_code == 401


async def test_linking_an_identity_of_another_user_is_refused(api, providers):
    await signed_in(api, "taken@example.com")
    session = await verified_signup(api, "other-linker@example.com")
    query = await provider_signin(api, "taken@example.com", "link", bearer(session))
    assert query == {"error": "identity_in_use"}


async def test_removing_the_only_way_in_is_409_and_with_a_password_it_is_204(api, providers):
    session = await signed_in(api, "only@example.com")
    [identity] = (await api.get(f"{AUTH}/identities", headers=bearer(session))).json()
    refused = await api.delete(f"{AUTH}/identities/{identity['id']}", headers=bearer(session))
    assert refused.status_code == 409
    assert refused.json() == {"detail": "This is your only way to sign in"}

    owner = await verified_signup(api, "two-ways@example.com")
    await provider_signin(api, "two-ways-at-acme@example.com", "link", bearer(owner))
    [linked] = (await api.get(f"{AUTH}/identities", headers=bearer(owner))).json()
    removed = await api.delete(f"{AUTH}/identities/{linked['id']}", headers=bearer(owner))
    assert removed.status_code == 204
    assert (await api.get(f"{AUTH}/identities", headers=bearer(owner))).json() == []
    assert await AuthEvent.objects.filter(type="identity_unlinked").aexists()


async def test_another_users_identity_is_404(api, providers):
    await signed_in(api, "mine@example.com")
    identity = await Identity.objects.aget(email="mine@example.com")
    stranger = await signup(api, "stranger@example.com")
    response = await api.delete(f"{AUTH}/identities/{identity.pk}", headers=bearer(stranger))
    assert response.status_code == 404


async def test_a_provider_only_user_sets_a_password_through_the_reset_flow(api, providers):
    from tests.accounts.helpers import confirm_reset, signin

    await signed_in(api, "resetter@example.com")
    asked = await api.post(f"{AUTH}/password/reset", json={"email": "resetter@example.com"})
    assert asked.status_code == 202
    confirmed = await confirm_reset(api, "resetter@example.com", "a brand new passphrase 42")
    assert confirmed.status_code == 200, confirmed.text
    await signin(api, "resetter@example.com", "a brand new passphrase 42")


async def test_a_native_app_signs_in_with_the_providers_id_token(api, providers):
    token = providers.mint(
        {"sub": "native-1", "email": "native@example.com", "email_verified": True, "nonce": "n1"},
        header={},
    )
    body = {"id_token": token, "nonce": "n1"}
    response = await api.post(f"{AUTH}/providers/acme/token", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == "native@example.com"


async def test_a_native_token_for_the_native_client_id_is_accepted(api, providers):
    from tests.support.oidc_provider import NATIVE_CLIENT_ID

    token = providers.mint(
        {"sub": "native-2", "aud": NATIVE_CLIENT_ID, "email": "n2@example.com"},
    )
    response = await api.post(f"{AUTH}/providers/acme/token", json={"id_token": token})
    assert response.status_code == 200, response.text


async def test_the_account_export_lists_the_identities_without_their_subject(api, providers):
    session = await signed_in(api, "exported@example.com")
    response = await api.get(f"{AUTH}/me/export", headers=bearer(session))
    assert response.status_code == 200, response.text
    [identity] = response.json()["identities"]
    assert (identity["provider"], identity["email"]) == ("acme", "exported@example.com")
    assert "subject" not in identity


LINKED = "A sign-in provider was linked to your account"


def linked_notices(email: str) -> list:
    return [message for message in sent_to(email) if message.subject == LINKED]


async def test_linking_mails_a_notice_with_a_link_to_the_sessions(api, providers, settings):
    session = await verified_signup(api, "told.linker@example.com")
    await provider_signin(api, "told.elsewhere@example.com", "link", bearer(session))
    [notice] = linked_notices("told.linker@example.com")
    for part in (notice.body, html_part(notice)):
        assert "Acme" in part
        assert settings.FRONTEND_SESSIONS_URL in part
    assert linked_notices("told.elsewhere@example.com") == []


async def test_a_link_by_matching_address_is_told_and_a_new_account_is_not(api, providers, users):
    await users.create(email="matched@example.com", email_verified=True)
    await signed_in(api, "matched@example.com")
    assert len(linked_notices("matched@example.com")) == 1
    await signed_in(api, "matched@example.com")  # signs in with it: nothing new is linked
    assert len(linked_notices("matched@example.com")) == 1
    await signed_in(api, "brand.new@example.com")
    assert linked_notices("brand.new@example.com") == []
