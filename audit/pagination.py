"""The pages of GET /api/auth/events: `limit` and `offset` as ninja's LimitOffsetPagination has
them (and API.md says), `count` of all the caller's events, and a cursor for reading far back:
each page's `next`, passed back as `before`, starts the next page right after this one's last
event, one index range away whatever the depth (an offset has to skip every event before it)."""

import base64
import binascii
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import AsyncPaginationBase, LimitOffsetPagination
from pydantic import field_validator

from audit import selectors
from audit.models import AuthEvent

# PostgreSQL's OFFSET is a bigint: a larger offset would be a database error (a 500), not a 422.
MAX_OFFSET = 2**31 - 1
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


def cursor_of(event: AuthEvent) -> str:
    """The position of `event` in the newest-first order (its time, then its id), opaque."""
    text = f"{event.at.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def position_of(cursor: str) -> tuple[datetime, int]:
    """What cursor_of encoded; ValueError for anything it could not have made."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, pk = text.partition("|")
        position = datetime.fromisoformat(at), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor this API gave (a page's `next`)") from None
    if position[0].tzinfo is None:
        raise ValueError("not a cursor this API gave (a page's `next`)")
    return position


class EventsPagination(AsyncPaginationBase):
    """ninja's limit/offset with the offset bounded (422 beyond), and the `before` cursor."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
        before: str | None = Field(
            None,
            pattern=CURSOR_PATTERN,
            description="A page's `next`: the events after that page (then `offset` counts "
            "from there). Cheap at any depth, where a large offset is not.",
        )

        @field_validator("before")
        @classmethod
        def before_is_a_cursor(cls, value: str | None) -> str | None:
            if value is not None:
                position_of(value)
            return value

    class Output(Schema):
        items: list[Any]
        count: int
        next: str | None = Field(
            description="The cursor of the page after this one, for `before`; null on the last."
        )

    def paginate_queryset(
        self, queryset: QuerySet[AuthEvent], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        raise NotImplementedError("GET /api/auth/events is an async view")

    async def apaginate_queryset(
        self,
        queryset: QuerySet[AuthEvent],
        pagination: Input,
        request: HttpRequest,
        **params: Any,
    ) -> dict[str, Any]:
        window = queryset
        if pagination.before is not None:
            at, pk = position_of(pagination.before)
            window = selectors.auth_events_after(queryset, at=at, pk=pk)
        # One more than asked: whether there is a next page, without counting what is left.
        page = await selectors.auth_events_slice(
            window, offset=pagination.offset, limit=pagination.limit + 1
        )
        items = page[: pagination.limit]
        return {
            "items": items,
            "count": await selectors.auth_events_count(queryset),
            "next": cursor_of(items[-1]) if len(page) > pagination.limit else None,
        }
