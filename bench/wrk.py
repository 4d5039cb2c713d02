"""wrk runs, their Lua request scripts, and the figures they give."""

import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, replace

from bench.servers import PASSWORD

LOAD_CPU = "1"


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    # Every round's rate, in the order the servers took turns (median_figures keeps them): a
    # ratio of two servers is taken round by round, between runs made a few seconds apart.
    round_rates: tuple[float, ...] = ()

    def rate(self) -> str:
        rate = f"{self.requests_per_second:,.0f}"
        if self.errors:  # a figure made of error answers is no figure: say so in the cell
            rate += f" ({self.errors} non-2xx!)"
        return rate

    def cells(self) -> list[str]:
        return [self.rate(), f"{self.p50_ms:.2f}", f"{self.p99_ms:.2f}"]


def parse_wrk(output: str) -> Figures:
    def milliseconds(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Figures(rps, p50, p99, int(errors.group(1)) if errors else 0)


LUA_HEADERS = 'wrk.headers["Content-Type"] = "application/json"\n'
SIGNUP_LUA = (
    LUA_HEADERS
    + 'wrk.method = "POST"\ncounter = 0\nprefix = "%s"\n'
    + "request = function()\n  counter = counter + 1\n"
    + '  return wrk.format(nil, nil, nil, string.format(\'{"email":"%%s%%d@example.com",'
    + '"password":"'
    + PASSWORD
    + "\"}', prefix, counter))\nend\n"
)


def post_script(body: str) -> str:
    """A Lua script that POSTs the same JSON body on every request."""
    return LUA_HEADERS + f"wrk.method = \"POST\"\nwrk.body = '{body}'\n"


def wrk(
    url: str, *, duration: int, connections: int, script: str = "", header: str = "", pin: bool
) -> Figures:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    if script:
        command += ["-s", lua.name]
    if header:
        command += ["-H", header]
    if pin:
        command = ["taskset", "-c", LOAD_CPU, *command]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    return parse_wrk(output)


def median_figures(runs: list[Figures]) -> Figures:
    """The run with the median rate (its latencies with it): one noisy run moves nothing."""
    ranked = sorted(runs, key=lambda figures: figures.requests_per_second)
    median = ranked[len(ranked) // 2]
    return replace(median, round_rates=tuple(run.requests_per_second for run in runs))


def rate_ratio(first: Figures, second: Figures) -> float:
    """first's rate over second's: the median of the rounds' ratios when both ran the same
    rounds in turns (drift between rounds cancels out), else the ratio of their medians."""
    if (
        first.round_rates
        and len(first.round_rates) == len(second.round_rates)
        and all(second.round_rates)
    ):
        pairs = zip(first.round_rates, second.round_rates, strict=True)
        return statistics.median(a / b for a, b in pairs)
    return first.requests_per_second / second.requests_per_second
