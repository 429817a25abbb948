# Handoff: `make run` starts everything with a demo program; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every package the services import, put on the virtualenv's path once (handoff.pth).
PACKAGE_DIRS := $(CURDIR) $(CURDIR)/gateway $(addprefix $(CURDIR)/services/,identity directory referrals sharing billing notify)

.PHONY: install migrate run test unit lint bench performance-report reliability-report security-report clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	printf '%s\n' $(PACKAGE_DIRS) > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/handoff.pth"
	touch $(STAMP)

migrate: install
	$(PY) -m shared.migrations upgrade

run: install
	$(PY) -m shared.devstack

test: install lint
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check --select F,E9 --exclude .venv .

unit: install
	$(PY) -m pytest -m "not integration and not system"

bench: install
	for script in $(filter-out bench/measure.py bench/report.py,$(wildcard bench/*.py)) bench/load/run.py; do $(PY) $$script || exit 1; done

# docs/performance.md: every benchmark at modest sizes (bench/report.py), each beside its in-run baseline.
performance-report: install
	$(PY) bench/report.py --run

# docs/reliability.md: the fault suite's table (kills, broker and database restarts under load).
reliability-report: install
	$(PY) -m pytest tests/faults -q -s --reliability-report docs/reliability.md

# docs/security.md: the attack suite (tests/security) and the walks it builds on in tests/system.
security-report: install
	$(PY) tests/security/report.py docs/security.md

clean:
	rm -rf $(VENV) .pytest_cache
