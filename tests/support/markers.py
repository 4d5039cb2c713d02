"""The module-level marker combinations the test files share (`pytestmark = [*LIVE, ...]`)."""

import pytest

# Real PostgreSQL, each test committing for real (other processes and connections see its rows).
POSTGRESQL = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]
# The same, with the service (or servers around it) started for real.
LIVE = [*POSTGRESQL, pytest.mark.live]
