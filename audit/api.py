"""GET /api/auth/events: the caller's own security events, newest first, paginated."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router
from ninja.decorators import decorate_view
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.api import ANY, PRIVATE, UNAUTHORIZED, bearer
from accounts.models import AuthSession
from audit import selectors
from audit.models import AuthEvent
from audit.schemas import AuthEventOut
from toolkit.http import no_store
from toolkit.schemas import ValidationErrorOut

router = Router(tags=["auth"])
# PostgreSQL's OFFSET is a bigint: a larger offset would be a database error (a 500), not a 422.
MAX_OFFSET = 2**31 - 1


class EventsPagination(LimitOffsetPagination):
    """ninja's limit/offset pagination with the offset bounded (422 beyond)."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get(
    "/events",
    auth=bearer,
    response={200: list[AuthEventOut], 422: ValidationErrorOut, **UNAUTHORIZED, **ANY},
    summary="The caller's security events, newest first",
    openapi_extra=PRIVATE,
)
@decorate_view(no_store)
@paginate(EventsPagination)
async def events(request: HttpRequest) -> QuerySet[AuthEvent]:
    caller: AuthSession = request.auth  # type: ignore[attr-defined]
    return selectors.auth_events_of_user(user_id=caller.user_id)
