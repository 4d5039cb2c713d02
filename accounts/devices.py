"""A readable device label ("Firefox on Windows") from a User-Agent header, without a parser
library: a few ordered patterns cover the browsers and systems people recognise; anything else
is named by what is known, or "Unknown device"."""

import re

# (what it names, the name, its pattern): the first browser and the first system that match
# name the device. Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android
# says "Linux".
PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (kind, name, re.compile(pattern))
    for kind, name, pattern in (
        ("browser", "Edge", r"\bEdg(?:e|A|iOS)?/"),
        ("browser", "Opera", r"\b(?:OPR|Opera)/"),
        ("browser", "Samsung Internet", r"\bSamsungBrowser/"),
        ("browser", "Firefox", r"\b(?:Firefox|FxiOS)/"),
        ("browser", "Chrome", r"\b(?:Chrome|CriOS|Chromium)/"),
        ("browser", "Safari", r"\bVersion/[\d.]+.*\bSafari/"),
        ("browser", "curl", r"^curl/"),
        ("browser", "Python", r"^(?:python-requests|python-httpx|Python-urllib)/"),
        ("system", "iPhone", r"\biPhone\b"),
        ("system", "iPad", r"\biPad\b"),
        ("system", "Android", r"\bAndroid\b"),
        ("system", "ChromeOS", r"\bCrOS\b"),
        ("system", "Windows", r"\bWindows\b"),
        ("system", "macOS", r"\bMac OS X\b|\bMacintosh\b"),
        ("system", "Linux", r"\bLinux\b"),
    )
)


def first_match(kind: str, text: str) -> str | None:
    return next(
        (name for what, name, pattern in PATTERNS if what == kind and pattern.search(text)), None
    )


def device_label(user_agent: str) -> str:
    browser = first_match("browser", user_agent)
    system = first_match("system", user_agent)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"
