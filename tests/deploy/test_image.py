"""The container image (Dockerfile, .dockerignore) carries every package the service runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Packages that never run in the service: the suite, the benchmarks, and the example frontend.
NOT_SERVED = {"tests", "bench", "examples"}


def served_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SERVED
    }


def test_every_package_of_the_service_is_copied_into_the_image():
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    packages = served_packages()
    assert {"accounts", "passkeys", "social", "project", "server"} <= packages
    missing_copy = {name for name in packages if f"COPY {name}/ {name}/" not in dockerfile}
    ignored = {name for name in packages if f"!{name}/" not in dockerignore}
    assert (missing_copy, ignored) == (set(), set())
