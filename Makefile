# The verbs a newcomer looks for. Everything runs inside .venv, made with a Python >= 3.12.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_FOUND = $(shell scripts/find-python)

.PHONY: install install-dev run worker cluster test test-fast test-pgbouncer lint fmt bench \
	bench-scale cluster-bench deploy-check clean

$(PY):
	@python="$(PYTHON_FOUND)"; test -n "$$python" || exit 1; \
	  echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Serve on HOST:PORT (default 127.0.0.1:8081) with WORKERS processes; reads .env.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m server.serve

# Run the tasks (email) that `make run` enqueues with TASKS_BACKEND=database; reads .env.
# Stop it with Ctrl+C or SIGTERM: it finishes the task in hand first.
worker: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py db_worker --no-reload

# The service as deployed, on this machine (docs/deployment-cluster.md): three instances of what
# `make run` serves (WORKERS processes each) behind HAProxy on CLUSTER_PORT (deploy/haproxy.cfg),
# the task worker, PgBouncer in transaction mode (deploy/pgbouncer.ini) in front of a throwaway
# PostgreSQL (made in /tmp, removed at the end: nothing is kept), Redis for the throttles. Prints
# the URL; Ctrl-C stops everything. Reads .env like `make run`, except DATABASE_URL and REDIS_URL.
CLUSTER_PORT ?= 8080
cluster: install-dev
	@scripts/cluster-tools
	$(PY) -m tests.support.cluster --port $(CLUSTER_PORT) --workers $(or $(WORKERS),1)

# The whole suite. Never reads .env. PostgreSQL: TEST_DATABASE_URL, else a throwaway cluster.
# `make test FAST_PATH=off` runs it on stock Django (no fastpath package in the request path).
FAST_PATH ?= on
test: install-dev
	ENVIRONMENT=test FAST_PATH=$(FAST_PATH) $(PY) -m pytest $(PYTEST_ARGS)

# The edit-test loop: everything but the tests marked slow (schemathesis fuzzing, sign-up storms,
# shutdown, database outages and start-up faults, the server's bounds, mail through a real worker
# and SMTP server, the generated clients and the browser); quick live-server and attack tests stay.
test-fast: install-dev
	ENVIRONMENT=test FAST_PATH=$(FAST_PATH) $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The API, email and second-factor tests again, through PgBouncer in transaction mode (the
# suite's own connections, its live servers and its manage.py commands alike).
PGBOUNCER_TESTS := tests/accounts/test_api.py tests/accounts/flows/test_email_links.py \
	tests/accounts/flows/test_password.py tests/accounts/test_tasks.py \
	tests/accounts/test_worker.py tests/mfa
test-pgbouncer: install-dev
	@scripts/cluster-tools
	ENVIRONMENT=test FAST_PATH=$(FAST_PATH) $(PY) -m pytest --through-pgbouncer $(PGBOUNCER_TESTS) \
	  $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs wrk (installed here when missing) and PostgreSQL server binaries; prints one table.
bench: install-dev
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(PY) bench/run.py $(BENCH_ARGS)

# The costs that only show at scale (bench/scale.py; figures in docs/performance.md): a
# throwaway PostgreSQL seeded in SQL with 1M users, 5M sessions, 10M events, 1M throttle counters
# and 1M task results; the hot requests under wrk, their query plans, and manage.py purge on all
# of it. About 13 minutes and 10 GB of /tmp here; full plans in bench/results/scale-plans.txt.
bench-scale: install-dev
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(PY) bench/scale.py $(BENCH_ARGS)

# /me and sign-ups through HAProxy with one, two and three instances, and a connection through
# PgBouncer against a direct one (bench/cluster.py; figures in docs/deployment-cluster.md).
cluster-bench: install-dev
	@scripts/cluster-tools wrk
	$(PY) bench/cluster.py $(BENCH_ARGS)

# The deployment files, offline: the Kubernetes manifests against the Kubernetes schemas bundled
# in kubernetes-validate, and checkov on deploy/ and the Dockerfile (every finding fixed, or
# skipped in the file with its reason). Their own venv: checkov's dependencies are many.
DEPLOY_VENV := .venv-deploy
$(DEPLOY_VENV)/.installed: requirements-deploy.txt | $(PY)
	@test -x $(DEPLOY_VENV)/bin/python || $(PY) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEPLOY_VENV)/bin/python -m pip install --quiet -r requirements-deploy.txt
	@touch $@

deploy-check: $(DEPLOY_VENV)/.installed
	$(DEPLOY_VENV)/bin/kubernetes-validate --strict --quiet deploy/*.yaml
	$(DEPLOY_VENV)/bin/checkov --quiet --compact --skip-download --framework kubernetes -d deploy
	$(DEPLOY_VENV)/bin/checkov --quiet --compact --skip-download --framework dockerfile -f Dockerfile

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
