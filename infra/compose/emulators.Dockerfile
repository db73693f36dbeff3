# syntax=docker/dockerfile:1
# Build from the repository root: docker build -f infra/compose/emulators.Dockerfile .
# The Stripe and Twilio emulators of development (compose profile `dev`); one image, two
# commands: nudges-stripe-emulator (12111) and nudges-twilio-emulator (12112).
# Same template as services/*/Dockerfile. Never deployed.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY . .
# The root project's dev group carries the code generators (grpcio-tools, mypy-protobuf).
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen
# What `make generate` runs: gRPC code into nudges_kit/_generated, compiled .mo catalogs.
RUN for gen in scripts/generate-*.sh; do bash "$gen" || exit 1; done
# hatchling leaves out of wheels what .gitignore lists, and that includes the generated code.
RUN rm -f .gitignore
ENV UV_PROJECT_ENVIRONMENT=/app/.venv
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --reinstall --package nudges-emulators

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin nudges \
 && install -d -o nudges -g nudges /var/lib/nudges
COPY --from=build /app/.venv /app/.venv
# The one place a service writes (the settings' relative paths, e.g. .nudges/jwt-keys.json).
WORKDIR /var/lib/nudges
# The root filesystem may be read-only (compose, ECS): these stay writable. On Fargate a task
# volume at a path the image declares a VOLUME starts with the image's owner and mode.
VOLUME ["/tmp", "/var/lib/nudges"]
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 HTTP_PORT=12111
USER 10001:10001
EXPOSE 12111 12112
# Whichever emulator the container runs answers on HTTP_PORT (compose sets it per service).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=10 \
  CMD ["python", "-c", "import os, socket; socket.create_connection(('127.0.0.1', int(os.environ['HTTP_PORT'])), timeout=2).close()"]
CMD ["nudges-stripe-emulator"]
