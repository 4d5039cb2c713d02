"""Refresh-token rotation under wrk: every request presents a refresh token never used before.

A rotation spends its token (presented again, it is theft), so each server gets its own user and
as many refresh tokens as the run can spend, minted straight into its database over many
sessions (as sign-ins would have issued them, only many at once), and each wrk run sends the
next unused ones in order. Only this service has the route: the yardsticks have none.
"""

import tempfile
from pathlib import Path

from bench.servers import Server, django_shell, session_for
from bench.wrk import LUA_HEADERS, Figures, median_figures, wrk

# More than one worker can rotate in a second on this kind of machine, so no run runs out.
TOKENS_PER_SECOND = 3000

MINT = """
import secrets
from accounts.models import AuthSession, RefreshToken, RefreshTokenChain
from django.utils import timezone
from toolkit.tokens import token_digest

signed_in = AuthSession.objects.filter(user__email=EMAIL).latest("created_at")
now = timezone.now()
sessions = AuthSession.objects.bulk_create(
    [
        AuthSession(user_id=signed_in.user_id, expires_at=signed_in.expires_at,
                    client_ip=signed_in.client_ip, user_agent=signed_in.user_agent)
        for _ in range(SESSIONS)
    ]
)
chains = RefreshTokenChain.objects.bulk_create(
    [RefreshTokenChain(session=session, created_at=now, proved_at=now) for session in sessions]
)
tokens = [secrets.token_urlsafe(32) for _ in range(COUNT)]
RefreshToken.objects.bulk_create(
    [
        RefreshToken(session_id=chains[number % SESSIONS].session_id,
                     chain=chains[number % SESSIONS], token_hash=token_digest(token),
                     created_at=now, expires_at=signed_in.expires_at)
        for number, token in enumerate(tokens)
    ],
    batch_size=5000,
)
print("\\n".join("token " + token for token in tokens))
"""
# Tokens spread over this many sessions of the user, as many users' browsers would send them:
# rotations of one session take turns (its row is locked while a token of it is spent).
SESSIONS = 1000

ROTATE_LUA = (
    LUA_HEADERS
    + """wrk.method = "POST"
tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
next_token = 0
request = function()
  next_token = next_token + 1
  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. tokens[next_token] .. '"}')
end
"""
)


def refresh_tokens_mint(database_url: str, email: str, count: int) -> list[str]:
    """`count` unused refresh tokens of `email`'s latest session, made in its database."""
    code = (
        MINT.replace("EMAIL", repr(email))
        .replace("COUNT", str(count))
        .replace("SESSIONS", str(SESSIONS))
    )
    printed = django_shell(database_url, code)
    # Django's start-up may say things on standard output too: only the marked lines count.
    return [line.split()[1] for line in printed.splitlines() if line.startswith("token ")]


def refresh_in_turns(
    servers: dict[str, Server], database_url: str, *, rounds: int, seconds: int, connections: int
) -> dict[str, Figures]:
    """Each server's median round of rotations, the servers taking turns as in load.in_turns."""
    per_run = TOKENS_PER_SECOND * seconds
    tokens = {
        name: refresh_tokens_mint(
            database_url,
            session_for(server, f"refresher-{name}@example.com")["user"]["email"],
            per_run * rounds,
        )
        for name, server in servers.items()
    }
    runs: dict[str, list[Figures]] = {name: [] for name in servers}
    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(rounds):
            for name, server in servers.items():
                batch = Path(directory) / f"{name}-{round_number}.txt"
                start = round_number * per_run
                batch.write_text("\n".join(tokens[name][start : start + per_run]) + "\n")
                runs[name].append(
                    wrk(
                        f"{server.url}/api/auth/refresh",
                        duration=seconds,
                        connections=connections,
                        script=ROTATE_LUA % batch,
                        pin=True,
                    )
                )
    return {name: median_figures(figures) for name, figures in runs.items()}
