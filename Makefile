# Portico: `make run` serves the demo merchants, `make test` runs the whole suite.
# Everything installs into .venv; `make test` also installs Debian's Chromium
# for the browser tests when it can (root), and says so when it cannot.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The lock files: every package with its exact version and hashes. `make lock` renews them
# on purpose (uv resolves; plain pip installs, so a fresh machine needs nothing but Python).
UV_VERSION := 0.13.9
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BUILD_STAMP := $(VENV)/.installed-build

.PHONY: run test lint typecheck lock lock-upgrade translations translations-check screenshots clean browser fuzz soak bench wrk

# A new venv first gets the locked build tools: the lock holds packages published only as
# source (localstripe), which pip builds with the venv's own setuptools (--no-build-isolation).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BUILD_STAMP): requirements/build.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/build.txt
	touch $@

# Serving needs requirements/run.txt only; tests, lint, fuzzing and benchmarks the superset.
$(RUN_STAMP): requirements/run.txt pyproject.toml $(BUILD_STAMP)
	$(BIN)/pip install --quiet --require-hashes --no-deps --no-build-isolation -r requirements/run.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TEST_STAMP): requirements/test.txt pyproject.toml $(BUILD_STAMP)
	$(BIN)/pip install --quiet --require-hashes --no-deps --no-build-isolation -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(RUN_STAMP)

# `make lock` adds what pyproject.toml asks for and keeps every other pin;
# `make lock-upgrade` moves every package to its newest version (then run make test).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra test --extra bench \
		$(LOCK_FLAGS) $(UPGRADE) -o requirements/test.txt
	$(BIN)/uv pip compile pyproject.toml requirements/build.in -c requirements/test.txt \
		$(LOCK_FLAGS) -o requirements/run.txt
	$(BIN)/uv pip compile requirements/build.in -c requirements/test.txt \
		$(LOCK_FLAGS) -o requirements/build.txt

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

locales/.compiled: $(RUN_STAMP) $(wildcard locales/*/LC_MESSAGES/messages.po)
	$(BIN)/pybabel -q compile -D messages -d locales
	touch $@

run: $(RUN_STAMP) locales/.compiled
	$(BIN)/portico serve --host $(HOST) --port $(PORT)

browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is not installed and cannot be installed here: browser tests will skip"; fi

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund; \
	else echo "npm is not installed: the accessibility (axe-core) tests will skip"; fi

# The suite runs on every core (pytest-xdist); tests that must not share the machine with
# another load (gunicorn load, scale-out, fuzzers) form one xdist group and run in turn.
PYTEST_WORKERS ?= auto
test: $(TEST_STAMP) locales/.compiled browser node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

# Coverage-guided fuzzing (atheris) of the YAML loader and of order posts, time-boxed;
# a failing input is kept as instance/fuzz/crash-<sha> (replay: python tests/fuzz/fuzz_yaml.py FILE).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -artifact_prefix=instance/fuzz/
fuzz: $(TEST_STAMP)
	@mkdir -p instance/fuzz
	$(BIN)/python tests/fuzz/fuzz_yaml.py $(FUZZ_FLAGS) -dict=tests/fuzz/yaml.dict
	$(BIN)/python tests/fuzz/fuzz_form.py $(FUZZ_FLAGS)

# The reliability tests for longer: each gunicorn load and crash run SOAK_SECONDS, and
# ten times the hypothesis examples.
SOAK_SECONDS ?= 600
soak: $(TEST_STAMP) locales/.compiled
	PORTICO_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest -s tests/reliability

# Benchmarks against baselines measured in the same run; writes bench/results.md (about
# 15 minutes; BENCH_FLAGS=--quick for a smoke run). Never part of `make test`.
BENCH_FLAGS ?=
bench: $(TEST_STAMP) locales/.compiled wrk
	$(BIN)/python -m bench.run $(BENCH_FLAGS)

wrk:
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "wrk is not installed and cannot be installed here: a Python driver makes the load"; fi

translations: $(TEST_STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k "ngettext:1,2" \
		--project Portico --copyright-holder Portico -o locales/messages.pot .
	$(BIN)/pybabel -q update -D messages -i locales/messages.pot \
		-d locales --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -D messages -d locales --statistics
	touch locales/.compiled

screenshots: $(TEST_STAMP) locales/.compiled browser
	$(BIN)/python -m tests.browser.screenshots screenshots

clean:
	rm -rf $(VENV) instance/ .pytest_cache .ruff_cache screenshots
