"""The account itself: who is signed in (GET /me), its data (export) and its deletion (with a
grace period to restore). One module, since ninja serves one path from one router."""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from accounts import flows
from accounts.auth import fresh_session_auth, request_session, session_auth
from accounts.client import ClientInfo
from accounts.schemas import (
    AccountDeletionOut,
    AccountExportOut,
    EmailTokenIn,
    MessageOut,
    UserOut,
)
from accounts.transport import (
    session_transport_closing,
    transport_openapi,
)
from toolkit.routes import private_route, summary

router = Router(tags=["auth"])


@private_route(router.get, "/me", {200: UserOut}, auth=session_auth)
@summary("The signed-in user")
async def me(request: HttpRequest) -> object:
    return request_session(request).user


@private_route(router.get, "/me/export", {200: AccountExportOut}, auth=fresh_session_auth)
@summary(
    "Download everything the service keeps about the caller (fresh session)",
    description="Sent as a download (`Content-Disposition: attachment; "
    'filename="account.json"`): the account, its sessions (live and revoked), events, '
    "passkeys, linked identities and second factor; never a secret, a hash or a token. "
    "Recorded as a `data_exported` event.",
)
async def me_export(request: HttpRequest, response: HttpResponse) -> dict[str, object]:
    response["Content-Disposition"] = 'attachment; filename="account.json"'
    return await flows.export.user_data_export(
        session=request_session(request), client=ClientInfo.from_request(request)
    )


@private_route(
    router.delete,
    "/me",
    {202: AccountDeletionOut},
    auth=fresh_session_auth,
    openapi=transport_openapi(202),
)
@summary(
    "Delete the caller's account (fresh session)",
    description="Every session ends at once and the account can no longer sign in; a link to "
    "restore it is mailed, working until `delete_after` (ACCOUNT_DELETION_GRACE_DAYS), after "
    "which `manage.py purge` erases it (with a grace of 0, at once). Cookie mode: both "
    "cookies are cleared.",
)
@session_transport_closing
async def me_delete(request: HttpRequest) -> tuple[int, dict[str, object]]:
    delete_after = await flows.deletion.user_deletion_request(
        session=request_session(request), client=ClientInfo.from_request(request)
    )
    return 202, {"message": "Account scheduled for deletion", "delete_after": delete_after}


@private_route(router.post, "/me/restore", {200: MessageOut}, body=True)
@summary("Restore an account scheduled for deletion with its restore link's token")
async def me_restore(request: HttpRequest, payload: EmailTokenIn) -> dict[str, str]:
    await flows.deletion.user_restore(token=payload.token, client=ClientInfo.from_request(request))
    return {"message": "Account restored"}
