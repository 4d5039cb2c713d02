"""GET /api/auth/events: the caller's own security events, newest first, paginated."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from accounts.auth import request_session, session_auth
from audit import selectors
from audit.models import AuthEvent
from audit.pagination import EventsPagination
from audit.schemas import AuthEventOut
from toolkit.routes import private_route, summary
from toolkit.schemas import ValidationErrorOut

router = Router(tags=["auth"])


@private_route(
    router.get,
    "/events",
    # 422: a limit or offset out of bounds, a `before` that is no cursor of ours
    {200: list[AuthEventOut], 422: ValidationErrorOut},
    auth=session_auth,
)
@summary("The caller's security events, newest first")
@paginate(EventsPagination)
async def events(request: HttpRequest) -> QuerySet[AuthEvent]:
    return selectors.auth_events_of_user(user_id=request_session(request).user_id)
