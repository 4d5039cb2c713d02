"""The printed tables: per request, all cores, scale out."""

from bench.load import BURST_SIGNUPS, STORM_CLIENTS, AllCores, Storm
from bench.wrk import Figures, rate_ratio

OTHERS = {
    "production": "production logging and metrics",
    "stock": "FAST_PATH=off",
    "FastAPI": "FastAPI (yardstick)",
    "DRF": "DRF + gunicorn (yardstick)",
}


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def per_request_table(figures: dict[str, dict[str, Figures]]) -> str:
    """Ours in full, every other server as req/s and p99, and our ratio to each."""
    present = [name for name in OTHERS if any(name in row for row in figures.values())]
    headers = ["one worker, pinned", "ours req/s", "p50 ms", "p99 ms"]
    headers += [f"{OTHERS[name]} req/s (p99 ms)" for name in present]
    headers += [f"ours/{name}" for name in present]
    rows = []
    for endpoint, by_server in figures.items():
        ours = by_server["ours"]
        cells, ratios = [], []
        for name in present:
            other = by_server.get(name)
            if other is None:
                cells.append("—")
                ratios.append("—")
                continue
            cells.append(f"{other.rate()} ({other.p99_ms:.0f})")
            ratios.append(f"{rate_ratio(ours, other):.2f}x")
        rows.append([endpoint, *ours.cells(), *cells, *ratios])
    return table(headers, rows)


# What this service set itself with its operations layer on (production settings): the most the
# access log and metrics may cost against logs off, and the least it answers beside each
# yardstick, per endpoint (the yardsticks log no access lines).
TARGETS = {
    "GET /health": {"cost": 0.10, "FastAPI": 0.5},
    "GET /health/ready": {"FastAPI": 1.0, "DRF": 1.5},
    "GET /api/auth/me": {"cost": 0.05, "FastAPI": 1.3, "DRF": 2.0},
}


def production_table(figures: dict[str, dict[str, Figures]]) -> str:
    """Production settings beside logs off and beside the yardsticks, and the targets."""
    rows = []
    for endpoint, by_server in figures.items():
        production = by_server.get("production")
        if production is None:
            continue
        cost = 1 - rate_ratio(production, by_server["ours"])
        targets = TARGETS.get(endpoint, {})
        cells = [endpoint, f"{production.rate()} ({production.p99_ms:.0f})", f"{cost:+.1%}"]
        verdicts = []
        if "cost" in targets:
            verdicts.append(
                f"cost ≤ {targets['cost']:.0%}: {'met' if cost <= targets['cost'] else 'MISSED'}"
            )
        for name in ("FastAPI", "DRF"):
            other = by_server.get(name)
            ratio = rate_ratio(production, other) if other else None
            cells.append(f"{ratio:.2f}x" if ratio else "—")
            if ratio and name in targets:
                verdict = "met" if ratio >= targets[name] else "MISSED"
                verdicts.append(f"≥ {targets[name]}x {name}: {verdict}")
        rows.append([*cells, "; ".join(verdicts) or "—"])
    headers = [
        "as production runs it",
        "req/s (p99 ms)",
        "cost vs logs off",
        "/FastAPI",
        "/DRF",
        "targets",
    ]
    return table(headers, rows)


def answers(statuses: dict[int, int]) -> str:
    return ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))


def p50_p99(figures: Figures) -> str:
    return f"{figures.p50_ms:.1f} / {figures.p99_ms:.1f} ms"


def share(storm: Storm, raw: float) -> str:
    rate = storm.successes_per_second
    return f"{rate:.1f} ({rate / raw:.0%} of raw)"


def all_cores_table(figures: AllCores) -> str:
    raw = figures.raw_hashes_per_second
    storm = f"{STORM_CLIENTS}-client storm"
    burst = f"{BURST_SIGNUPS} concurrent sign-ups"
    return table(
        ["all cores", "figure"],
        [
            ["raw Argon2 rate (Django's parameters, every core)", f"{raw:.1f} hashes/s"],
            [f"sign-ups/s under a {storm}", share(figures.signups, raw)],
            ["storm answers", answers(figures.signups.statuses)],
            ["GET /health during the storm, p50 / p99", p50_p99(figures.signups.health)],
            [f"sign-ins/s under a {storm} (one user)", share(figures.signins, raw)],
            ["sign-in storm answers", answers(figures.signins.statuses)],
            ["GET /health during the sign-in storm, p50 / p99", p50_p99(figures.signins.health)],
            [
                f"sign-ins/s with TOTP on (challenge answers), {STORM_CLIENTS} clients",
                f"{share(figures.totp_signins, raw)}, {answers(figures.totp_signins.statuses)}",
            ],
            [f"{burst}: answers", answers(figures.burst_statuses)],
            [f"{burst}: peak memory (RSS high-water)", f"{figures.burst_peak_mib:.0f} MiB"],
        ],
    )


def scale_out_table(figures: dict[int, list[Figures]]) -> str:
    return table(
        ["scale out", "/health req/s", "p50 ms", "p99 ms", "/me req/s", "p50 ms", "p99 ms"],
        [
            [f"{workers} worker(s), unpinned", *health.cells(), *me.cells()]
            for workers, (health, me) in figures.items()
        ],
    )
