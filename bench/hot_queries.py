"""The scale bench's hot queries, explained: run inside Django (bench/scale.py starts it with the
bench database), each request path's own code runs once under CaptureQueriesContext and each
SELECT it ran is then run again under EXPLAIN (ANALYZE, BUFFERS). Prints one JSON object:
{name: [plan text, ...]}.

    DATABASE_URL=... python bench/hot_queries.py '{"heavy": "<user id>", ...}'
"""

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import selectors  # noqa: E402
from accounts.models import RefreshToken, User  # noqa: E402
from audit import selectors as audit_selectors  # noqa: E402
from toolkit.tokens import token_digest  # noqa: E402

PAGE = 50  # the events' default page (NINJA_PAGINATION_PER_PAGE)


def explained(run: Callable[[], object]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT that `run` makes, run once before to warm up."""
    with CaptureQueriesContext(connection) as captured:
        run()
    found = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with transaction.atomic():  # FOR UPDATE needs one
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                lines = [row[0] for row in cursor.fetchall()]
            found.append(sql + "\n" + "\n".join(lines))
    return found


def main() -> None:
    ids = json.loads(sys.argv[1])
    now = timezone.now()
    events = audit_selectors.auth_events_of_user(user_id=ids["heavy"])
    deep = ids["deep_offset"]
    # As audit.pagination asks: one more than the page, to know whether there is a next one.
    page = PAGE + 1
    at, pk = events.values_list("at", "id")[deep - 1]  # the last event before the deep page
    after_deep = audit_selectors.auth_events_after(events, at=at, pk=pk)
    window = async_to_sync(audit_selectors.auth_events_slice)
    paths: dict[str, Callable[[], object]] = {
        "GET /api/auth/me (session and user by primary key)": lambda: (
            selectors.session_with_user_lookup.get(ids["session"])
        ),
        "GET /api/auth/sessions (the user's live sessions)": lambda: async_to_sync(
            selectors.auth_sessions_live
        )(user_id=ids["reader"], now=now),
        "GET /api/auth/events, first page": lambda: window(events, offset=0, limit=page),
        f"GET /api/auth/events, offset {deep:,}": lambda: window(events, offset=deep, limit=page),
        f"GET /api/auth/events, before= the cursor at {deep:,}": lambda: window(
            after_deep, offset=0, limit=page
        ),
        "GET /api/auth/events, count": lambda: async_to_sync(audit_selectors.auth_events_count)(
            events
        ),
        "POST /api/auth/signin (user by email)": lambda: User.objects.filter(
            email=ids["email"]
        ).first(),
        "POST /api/auth/refresh (token, session and user, locked)": lambda: _locked_refresh(
            ids["refresh_token"]
        ),
    }
    print(json.dumps({name: explained(run) for name, run in paths.items()}))


def _locked_refresh(token: str) -> object:
    with transaction.atomic():
        return (
            RefreshToken.objects.select_for_update()
            .select_related("session__user")
            .filter(token_hash=token_digest(token))
            .first()
        )


if __name__ == "__main__":
    main()
