# billing-gateway: the API, the job worker and `migrate`, one image (see README, Deploying).
# Build: docker build -t billing-gateway .   Run: compose.yaml shows every process.

# --- builder: a venv with the locked dependencies, then the project as a wheel -------------
FROM python:3.11.14-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv

# The lock first: this layer is rebuilt only when a dependency changes, not on every edit.
COPY requirements/app.lock requirements/app.lock
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements/app.lock

COPY pyproject.toml README.md ./
COPY adapters adapters
COPY admin admin
COPY audit audit
COPY gateway gateway
COPY settings settings
# A compiler for the fraud matcher's C screen (gateway/fraud/native/), in this stage only: the
# runtime stage gets the compiled module in the wheel. Debian's security updates move these
# versions, so they follow the base image rather than a pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# The build backend from its own lock, then no build isolation (which would fetch an unpinned
# hatchling); --no-deps: everything the wheel needs came from the lock above, hash-checked.
COPY requirements/build.lock requirements/build.lock
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --require-hashes -r requirements/build.lock \
    && /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /wheels/billing_gateway-*.whl

# --- runtime: slim, no compiler, no sources, not root ------------------------------------
FROM python:3.11.14-slim-bookworm

# tini as PID 1: forwards SIGTERM to the gateway (which then drains) and reaps zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so volume and secret file permissions can be set from the host.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home \
        --home-dir /var/lib/billing-gateway --shell /usr/sbin/nologin gateway \
    && install -d -o gateway -g gateway -m 0750 /var/lib/billing-gateway

COPY --from=builder /opt/venv /opt/venv

# Production by default: without its keys and DATABASE_URL the gateway refuses to start.
# Secrets come from files (BG_SECRETS_DIR=/run/secrets, set by compose), never this image.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BG_MODE=production \
    BG_LOG_FORMAT=json \
    BG_DATA_DIR=/var/lib/billing-gateway

WORKDIR /var/lib/billing-gateway
USER 10001:10001
EXPOSE 8000
# The gateway stops taking requests on SIGTERM and finishes those in flight; the worker
# finishes its running jobs. Give it the grace period compose.yaml sets (stop_grace_period).
STOPSIGNAL SIGTERM
# No curl in a slim image: Python asks the API process; workers override it (compose.yaml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]

ENTRYPOINT ["tini", "--", "billing-gateway"]
CMD ["serve", "--host", "0.0.0.0"]
