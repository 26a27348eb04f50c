# pocketcloud — two commands: `make quickstart` and `make test`.
# Each installs what it needs (apt-get as root, a virtualenv holding exactly
# requirements/lock.txt) and then runs. `make lock` re-resolves the lock.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := openssh-client rsync git debootstrap debian-archive-keyring gpgv uidmap iproute2 procps nftables
# only the tests need a browser (the web console's, headless), wrk (bench smoke runs) and a
# compiler with the Python headers (a wheelhouse test builds a C extension here)
TEST_APT_PACKAGES := chromium wrk gcc python3-dev
export POCKETCLOUD_HOME ?= /var/lib/pocketcloud
export POCKETCLOUD_IMAGE_CACHE ?= /var/cache/pocketcloud/images

.PHONY: quickstart test check lint typecheck unit deps system-deps bench lock clean

quickstart: deps
	$(VENV)/bin/pocketcloud init
	$(VENV)/bin/pocketcloud up
	$(VENV)/bin/pocketcloud image build
	$(VENV)/bin/pocketcloud quickstart

test: deps
	$(MAKE) system-deps APT_PACKAGES="$(TEST_APT_PACKAGES)"
	$(MAKE) check

# exactly what CI runs
check: lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider

# the pure tests alone: no cloud, no instances (the few marked needs_root skip unless root)
unit: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not live"

lint:
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

typecheck:
	$(VENV)/bin/mypy

deps: system-deps $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "need root to install:$$missing" >&2; exit 1; fi; \
	fi

# the venv holds exactly the locked packages (hash-checked), whatever PyPI released since
$(STAMP): requirements/lock.txt pyproject.toml tools/locked_venv.py
	python3 tools/locked_venv.py sync $(VENV)
	touch $(STAMP)

# re-resolve the lock to the newest releases; commit the result alone, after `make test`
lock: $(STAMP)
	$(PY) tools/locked_venv.py lock $(VENV)
	$(MAKE) deps

bench: deps
	@dpkg -s wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PY) bench/api.py
	$(PY) bench/deploy.py
	$(PY) bench/network.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .mypy_cache .ruff_cache
