# balancing-sim: every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint format viz browser-setup bench figures figures-check calibrate clean

setup: $(STAMP)

# A Python >= 3.12 interpreter is found by scripts/find_python.sh (clear error if none).
$(STAMP): pyproject.toml scripts/find_python.sh
	@PYBIN=$$(scripts/find_python.sh) || exit 1; \
	if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  echo "removing $(VENV): it was built with a Python older than 3.12"; rm -rf $(VENV); fi; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$PYBIN"; $$PYBIN -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## run: the baseline scenario (one run folder) and a comparison of all named scenarios
run: setup
	$(PY) -m sim scenario=baseline seed=0
	$(PY) -m experiments.compare_scenarios --seeds 100 --calibration article
	$(PY) -m experiments.compare_scenarios --seeds 100 --calibration corrected

## test: the whole test suite
test: setup browser-setup
	$(PY) -m pytest

## test-fast: skip pattern checks over many seeds and browser tests
test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

browser-setup: setup
	@bash scripts/setup_browser.sh

## lint: ruff (lint and format), the import contracts ([tool.importlinter]) and mypy on sim/
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m mypy

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .mypy_cache

## viz: the Solara app on http://127.0.0.1:8765 (PORT=... to change)
viz: setup
	@bash scripts/run_viz.sh

## figures: regenerate every paper figure, its data, MANIFEST.json and README.md (results/paper/)
figures: setup
	$(PY) -m experiments.paper

## calibrate: calibrate the assumptions to the historical episodes at full size, leave each
## episode out and check the predictions (results/calibration/<id>/; docs/inference.md).
## ARGS='key=value ...' to override, e.g. ARGS='cluster.address=tcp://host:8786'
calibrate: setup
	$(PY) -m experiments.calibrate $(ARGS)

## figures-check: regenerate the figures' data in a temporary folder; fail if it differs
figures-check: setup
	$(PY) -m experiments.paper --check
