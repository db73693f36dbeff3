# syntax=docker/dockerfile:1
# Build from the repository root: docker build -f infra/docker/ops.Dockerfile .
# The operator image: the `nudges` command (migrate, topics, dlq) with every service that
# declares database migrations installed, so that one `nudges migrate` migrates them all.
# Run once per deployment (compose: the `migrate` and `topics` services; AWS: the
# `migrate` and `topics` one-off ECS tasks). Same template as services/*/Dockerfile.
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
# Every package with a `nudges.migrations` entry point (infra/tests checks this list).
ENV UV_PROJECT_ENVIRONMENT=/app/.venv
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --reinstall \
      --package nudges-user --package nudges-product --package nudges-payment \
      --package nudges-consumers --package nudges-registry

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin nudges \
 && install -d -o nudges -g nudges /var/lib/nudges
COPY --from=build /app/.venv /app/.venv
# The one place a service writes (the settings' relative paths, e.g. .nudges/jwt-keys.json).
WORKDIR /var/lib/nudges
# The root filesystem may be read-only (compose, ECS): these stay writable. On Fargate a task
# volume at a path the image declares a VOLUME starts with the image's owner and mode.
VOLUME ["/tmp", "/var/lib/nudges"]
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
# A one-shot job: it exits when done, there is nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["nudges"]
CMD ["migrate"]
