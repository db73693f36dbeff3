# The everyday commands of Nudges. `make dev` and `make test` do all set-up themselves.
SHELL := /bin/bash
UV_VERSION := 0.13.8
# uv from the PATH, else the one `make uv` installs with pip beside python3 (run as a module, so
# it works wherever pip put it). Recursive (=): it is looked up again after `make uv` ran.
UV ?= $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
RUN = $(UV) run --frozen
PYTEST = $(RUN) pytest

.PHONY: test-all help uv install conformance-deps generate dev web-deps dev-check infra migrate topics test test-fast test-slow \
        lint fmt typecheck images tf-fmt tf-validate clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: uv ## install every package from the lock file and generate code
	$(UV) sync --all-packages --frozen
	$(MAKE) --no-print-directory generate
	$(MAKE) --no-print-directory conformance-deps

conformance-deps: ## the reference composition and Apollo Gateway the conformance tests compare with (npm ci)
	@if command -v npm >/dev/null 2>&1; then for dir in services/registry/tests/conformance/js bench/apollo; do \
	  (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) || exit 1; done; \
	  else echo "npm is not installed: the conformance tests will be skipped"; fi

generate: ## generated code: gRPC stubs from proto/, compiled message catalogs
	@for gen in $$(ls scripts/generate-*.sh 2>/dev/null); do UV="$(UV)" bash $$gen || exit 1; done

dev: install web-deps ## the whole platform on this machine, UIs included (Ctrl-C stops it)
	$(RUN) nudges-dev up

web-deps: ## the UIs' packages (npm ci of the web/ workspace) and the gateway's GraphiQL page, when npm is installed
	@if command -v npm >/dev/null 2>&1; then \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  (cd gateway/graphiql && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) || exit 1; \
	  else echo "npm is not installed: the UIs and GraphiQL will not run"; fi

dev-check: install ## start the whole platform, wait until every service is healthy, stop
	$(RUN) nudges-dev up --check

infra: install ## only PostgreSQL, Redis and the broker, migrated and with topics
	$(RUN) nudges-dev infra

migrate: ## migrate every service database (POSTGRES_URL)
	$(RUN) nudges migrate

topics: ## create every declared topic and its dead-letter topic
	$(RUN) nudges topics create

lint: ## ruff and mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/nudges-kit/src libs/nudges-devstack/src libs/nudges-emulators/src $(wildcard services/*/src) gateway/src

fmt:
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck:
	$(RUN) mypy libs/nudges-kit/src libs/nudges-devstack/src libs/nudges-emulators/src $(wildcard services/*/src) gateway/src

test: install lint ## lint, then every suite but the slow ones (those: make test-slow)
	$(PYTEST) -m "not slow"

test-all: install lint ## lint, then every suite, the slow ones included
	$(PYTEST)

test-fast: install ## every suite but the slow ones, without lint
	$(PYTEST) -m "not slow"

test-slow: install ## only the slow suites: the platform as processes (e2e), the UIs in Chromium, faults
	$(PYTEST) -m slow

images: ## container images of every service (needs a Docker engine)
	docker compose build

tf-fmt: ## terraform fmt (needs the terraform binary)
	terraform -chdir=infra/terraform fmt -check -recursive

tf-validate: ## terraform validate of each environment (needs terraform and providers)
	for env in infra/terraform/environments/*/; do terraform -chdir=$$env init -backend=false && terraform -chdir=$$env validate || exit 1; done

clean:
	rm -rf .nudges .pytest_cache .mypy_cache .ruff_cache

# Message catalogs of LocalizationApi (gettext, managed with Babel; see services/localization).
L10N_DIR := services/localization/src/nudges_localization/locales
L10N_KEYS := libs/nudges-kit/src/nudges_kit/localization.py
.PHONY: l10n-extract l10n-update l10n-compile l10n-init

l10n-extract: ## message keys declared in nudges_kit.localization -> messages.pot
	$(RUN) pybabel extract --no-default-keywords -k message -k plural_message:1,1 \
	  --add-comments=TRANSLATORS: --strip-comment-tags --no-location --width=100 \
	  --project=Nudges --version=1 --copyright-holder=Nudges \
	  -o $(L10N_DIR)/messages.pot $(L10N_KEYS)

l10n-update: l10n-extract ## merge messages.pot into every locale's messages.po (new keys empty)
	$(RUN) pybabel update --domain messages --input-file $(L10N_DIR)/messages.pot \
	  --output-dir $(L10N_DIR) --no-fuzzy-matching --ignore-obsolete --width=100

l10n-compile: ## compile every messages.po into the messages.mo the service loads
	bash scripts/generate-catalogs.sh

l10n-init: l10n-extract ## start a new locale's messages.po: make l10n-init LOCALE=it
	@test -n "$(LOCALE)" || { echo "usage: make l10n-init LOCALE=it" >&2; exit 2; }
	$(RUN) pybabel init --domain messages --input-file $(L10N_DIR)/messages.pot \
	  --output-dir $(L10N_DIR) --locale $(LOCALE) --width=100

.PHONY: bench-warpcache
bench-warpcache: install ## WarpCache get/set throughput and p99 next to Redis on this machine
	$(RUN) python bench/warpcache_vs_redis.py $(BENCH_ARGS)

.PHONY: bench-gateway
bench-gateway: install ## gateway throughput, p99 and CPU per request on a 3-subgraph query next to Apollo Gateway and Hive Gateway (Node)
	@if command -v npm >/dev/null 2>&1; then for dir in bench/apollo bench/hive; do \
	  (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) \
	  || echo "npm ci failed in $$dir: that gateway will not be measured"; done; \
	  else echo "npm is not installed: Apollo Gateway and Hive Gateway will not be measured"; fi
	$(RUN) python bench/gateway_vs_apollo.py $(BENCH_ARGS)

.PHONY: bench-fanout
bench-fanout: install ## fan-out of one announcement to 100,000 subscribers next to the Twilio emulator alone
	$(RUN) python bench/fanout.py $(BENCH_ARGS)

.PHONY: bench-otp
bench-otp: install ## OTP request-to-token latency of 200 users at 100 logins/s
	$(RUN) python bench/otp_latency.py $(BENCH_ARGS)

.PHONY: web
web: web-deps ## the Admin and Signup UIs: npm ci of the workspace, a production build of each (web/*/dist)
	cd web && npm run build --workspace admin --workspace signup

.PHONY: web-codegen
web-codegen: web-deps ## web/schema.graphql from the subgraphs, then the UIs' operation types (GraphQL Code Generator)
	$(RUN) python scripts/web_schema.py
	cd web && npm run codegen

.PHONY: test-reliability
test-reliability: install ## faults, soak smoke, bad input and security over the platform as processes; prints the figures
	$(PYTEST) tests/reliability -m "reliability"

.PHONY: bench-soak
bench-soak: install ## a minute of mixed traffic over the whole platform: requests, errors, p99 and memory per service
	$(RUN) python bench/soak.py $(BENCH_ARGS)

.PHONY: prod-check
prod-check: install ## the platform as production runs it (secrets generated, no echo), then the demo against it
	$(RUN) nudges-dev prod-check

.PHONY: demo
demo: install ## the whole story against a running `make dev`: sign-up, plan, subscribers, CONFIRM, counts
	$(RUN) python scripts/demo.py
