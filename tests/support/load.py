"""Steady load through the balancer, as clients see it: each simulated client signs up, reads
/me, refreshes, reads /me, signs in again and reads /me, over and over, on its own kept-alive
connection. Every request is recorded with when it started and ended and what came back, so a
test can count what clients saw and compare it with what the database holds."""

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx

PASSWORD = "correct horse battery staple"

# What each step answers when all is well.
EXPECTED = {"signup": 201, "signin": 200, "refresh": 200, "me": 200}


@dataclass
class Outcome:
    step: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all (the connection failed or was cut)
    email: str = ""
    detail: str = ""
    retry_after: str | None = None
    resent: bool = False  # sent again after the connection closed before any answer

    @property
    def ok(self) -> bool:
        return self.status == EXPECTED[self.step]


@dataclass
class Load:
    """Run `clients` journeys at once against `url` in a thread of its own until stopped."""

    url: str
    clients: int = 4
    prefix: str = "load"
    pause: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "Load":
        self._thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=60)
        return self.outcomes

    async def run(self) -> None:
        await asyncio.gather(*(self.client(number) for number in range(self.clients)))

    async def client(self, number: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            journey = 0
            while not self._stop.is_set():
                journey += 1
                await self.journey(http, f"{self.prefix}-{number}-{journey}@example.com")

    async def journey(self, http: httpx.AsyncClient, email: str) -> None:
        credentials = {"email": email, "password": PASSWORD}
        session = await self.call(http, "signup", "POST", "/api/auth/signup", email, credentials)
        for step in ("me", "refresh", "me", "signin", "me"):
            if session is None or self._stop.is_set():
                return
            if step == "me":
                headers = {"Authorization": f"Bearer {session['access_token']}"}
                await self.call(http, "me", "GET", "/api/auth/me", email, headers=headers)
            elif step == "refresh":
                body = {"refresh_token": session["refresh_token"]}
                session = await self.call(http, step, "POST", "/api/auth/refresh", email, body)
            else:
                session = await self.call(
                    http, step, "POST", "/api/auth/signin", email, credentials
                )
            await asyncio.sleep(self.pause)

    async def call(
        self,
        http: httpx.AsyncClient,
        step: str,
        method: str,
        path: str,
        email: str,
        body: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, str] | None:
        started = time.monotonic()
        resent = False
        try:
            try:
                response = await http.request(method, path, json=body, headers=headers)
            except httpx.RemoteProtocolError:
                # The kept-alive connection closed before a single byte of an answer: what
                # HAProxy does when the instance closed the idle connection it reused for this
                # request (an instance shutting down closes its idle ones), so that the client
                # sends it again, as browsers do for any method on a reused connection. The
                # request reached no instance; a second failure counts.
                resent = True
                response = await http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as error:
            self.outcomes.append(
                Outcome(step, started, time.monotonic(), 0, email, repr(error), resent=resent)
            )
            return None
        outcome = Outcome(
            step,
            started,
            time.monotonic(),
            response.status_code,
            email,
            response.text[:200],
            response.headers.get("Retry-After"),
            resent,
        )
        self.outcomes.append(outcome)
        return response.json() if outcome.ok and step != "me" else None


def summary(outcomes: list[Outcome]) -> str:
    """`412 requests: signup 201 x70, me 200 x205, ...` for the test's output."""
    counts: dict[tuple[str, int], int] = {}
    for outcome in outcomes:
        counts[outcome.step, outcome.status] = counts.get((outcome.step, outcome.status), 0) + 1
    parts = [f"{step} {status} x{count}" for (step, status), count in sorted(counts.items())]
    resent = sum(outcome.resent for outcome in outcomes)
    return f"{len(outcomes)} requests ({resent} sent again): " + ", ".join(parts)


def signed_up(outcomes: list[Outcome]) -> set[str]:
    """The emails whose sign-up was answered 201."""
    return {o.email for o in outcomes if o.step == "signup" and o.status == 201}
