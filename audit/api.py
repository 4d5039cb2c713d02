"""GET /api/auth/events: the caller's own security events, newest first, paginated."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.auth import request_session, session_auth
from audit import selectors
from audit.models import AuthEvent
from audit.schemas import AuthEventOut
from toolkit.routes import private_route, summary
from toolkit.schemas import ValidationErrorOut

router = Router(tags=["auth"])
# PostgreSQL's OFFSET is a bigint: a larger offset would be a database error (a 500), not a 422.
MAX_OFFSET = 2**31 - 1


class EventsPagination(LimitOffsetPagination):
    """ninja's limit/offset pagination with the offset bounded (422 beyond)."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


@private_route(
    router.get,
    "/events",
    {200: list[AuthEventOut], 422: ValidationErrorOut},  # 422: a limit or offset out of bounds
    auth=session_auth,
)
@summary("The caller's security events, newest first")
@paginate(EventsPagination)
async def events(request: HttpRequest) -> QuerySet[AuthEvent]:
    return selectors.auth_events_of_user(user_id=request_session(request).user_id)
