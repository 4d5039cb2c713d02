"""The scale bench's requests: wrk against one worker pinned to core 0 (wrk on core 1), as
`make bench` measures, on the seeded data. Access tokens come from refreshing seeded sessions
(no hashing); the refresh rows rotate a fresh seeded session's token on every request."""

import json
from dataclasses import dataclass

import httpx

from bench.load import HASHING_CONNECTIONS, in_turns
from bench.seed import PASSWORD, USERS, session_id
from bench.servers import Server
from bench.wrk import LUA_HEADERS, Figures, median_figures, post_script, wrk

HEAVY_USER, READER, SIGNER = 1, 2, 3
# Sessions 5 * n are live and belong to user n + 1; the refresh rows use users from here on.
REFRESH_FROM_USER = 1_000
REFRESH_TOKENS_PER_ROUND = 20_000
DEEP_OFFSET = 100_000


@dataclass
class Tokens:
    heavy: str  # an access token of the heavy user (events)
    reader: str  # of an ordinary user (me, sessions)
    cursor: str | None  # the events' keyset cursor after DEEP_OFFSET, if the API gives one


def seeded_refresh_token(user: int) -> str:
    return f"refresh-{session_id(5 * (user - 1))}"


def access_token(server: Server, user: int) -> str:
    response = httpx.post(
        f"{server.url}/api/auth/refresh",
        json={"refresh_token": seeded_refresh_token(user)},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def tokens(server: Server) -> Tokens:
    heavy = access_token(server, HEAVY_USER)
    page = httpx.get(
        f"{server.url}/api/auth/events",
        params={"offset": DEEP_OFFSET - 50, "limit": 50},
        headers={"Authorization": f"Bearer {heavy}"},
        timeout=60,
    ).json()
    return Tokens(heavy, access_token(server, READER), page.get("next"))


def refresh_script(first_user: int, count: int) -> str:
    """POST /api/auth/refresh with a different live session's token each time."""
    listed = ",".join(
        json.dumps(seeded_refresh_token(user)) for user in range(first_user, first_user + count)
    )
    return (
        LUA_HEADERS
        + 'wrk.method = "POST"\n'
        + f"tokens = {{{listed}}}\nn = 0\n"
        + "request = function()\n  n = n % #tokens + 1\n"
        + "  return wrk.format(nil, nil, nil, '{\"refresh_token\":\"' .. tokens[n] .. '\"}')\nend\n"
    )


def rows(server: Server, *, rounds: int, seconds: int, connections: int) -> dict[str, Figures]:
    """Figures per request: the median of `rounds` wrk runs of `seconds`."""
    found = tokens(server)
    servers = {"ours": server}

    def get(path: str, token: str) -> Figures:
        figures = in_turns(
            servers,
            path,
            rounds=rounds,
            seconds=seconds,
            connections=connections,
            headers={"ours": f"Authorization: Bearer {token}"},
        )
        return figures["ours"]

    table = {
        "GET /api/auth/me": get("/api/auth/me", found.reader),
        "GET /api/auth/sessions": get("/api/auth/sessions", found.reader),
        "GET /api/auth/events (first page)": get("/api/auth/events", found.heavy),
        f"GET /api/auth/events?offset={DEEP_OFFSET}": get(
            f"/api/auth/events?offset={DEEP_OFFSET}", found.heavy
        ),
    }
    if found.cursor:
        table[f"GET /api/auth/events?before=… ({DEEP_OFFSET:,} deep)"] = get(
            f"/api/auth/events?before={found.cursor}", found.heavy
        )
    refreshes = []
    for turn in range(rounds):
        first = REFRESH_FROM_USER + turn * REFRESH_TOKENS_PER_ROUND
        assert first + REFRESH_TOKENS_PER_ROUND < USERS
        refreshes.append(
            wrk(
                f"{server.url}/api/auth/refresh",
                script=refresh_script(first, REFRESH_TOKENS_PER_ROUND),
                duration=seconds,
                connections=connections,
                pin=True,
            )
        )
    table["POST /api/auth/refresh"] = median_figures(refreshes)
    body = f'{{"email":"user{SIGNER}@example.com","password":"{PASSWORD}"}}'
    table[f"POST /api/auth/signin (-c{HASHING_CONNECTIONS})"] = wrk(
        f"{server.url}/api/auth/signin",
        script=post_script(body),
        duration=seconds * rounds,
        connections=HASHING_CONNECTIONS,
        pin=True,
    )
    return table
