# The accounts service's image: `python -m server.serve` (what `make run` serves) as a non-root
# user, the runtime requirements only (no compilers, no test or lint tools), static files
# collected at build time, `manage.py healthcheck` as the health check.
#
#   docker build -t accounts-backend:1.0.0 .
#   docker run --env-file production.env -p 8081:8081 accounts-backend:1.0.0
#
# Configuration comes from the environment at run time (docs/configuration.md); nothing secret
# is baked in. Kubernetes manifests: deploy/. Checked offline by `make deploy-check` (checkov).
# --- build: a virtual environment with the pinned runtime requirements -------------------------
# The base image by tag (pin it by digest, or point it at your registry's mirror, in both stages).
FROM python:3.12-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Binary wheels only (psycopg[binary] bundles libpq, argon2-cffi its C code): no compiler needed.
RUN /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt

WORKDIR /app
COPY manage.py ./
COPY accounts/ accounts/
COPY audit/ audit/
COPY fastpath/ fastpath/
COPY health/ health/
COPY mfa/ mfa/
COPY passkeys/ passkeys/
COPY project/ project/
COPY server/ server/
COPY social/ social/
COPY toolkit/ toolkit/
# Production's static files (hashed names and a manifest, as ENVIRONMENT=production serves them).
# Settings refuse to load in production without these variables: throwaway values, made here and
# gone with this build step's shell (never in a layer's environment).
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    JWT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    ENVIRONMENT=production \
    DATABASE_URL=postgresql://build@localhost/build \
    ALLOWED_HOSTS=build.invalid \
    /opt/venv/bin/python manage.py collectstatic --noinput -v0 \
 && /opt/venv/bin/python -m compileall -q /app /opt/venv

# --- runtime: the venv, the code, a user without a shell or a home to write to ------------------
FROM python:3.12-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8081 \
    LOG_FORMAT=json
# The code and the venv stay root's: the service cannot rewrite itself. It writes only to the
# temporary directory (the metrics' multiprocess files), so the root filesystem may be read-only.
USER 10001:10001
EXPOSE 8081
# Exit 0 when the database answers and no migration is pending (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD ["python", "manage.py", "healthcheck"]
# uvicorn drains on SIGTERM: readiness fails at once, requests in flight get SHUTDOWN_TIMEOUT.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "server.serve"]
