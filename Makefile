# make main: set up and run the main job on the bundled dataset.  make test: set up and run the tests.
PY ?= python3
export GPAW_SETUP_PATH ?= /usr/share/gpaw-setups

.PHONY: setup main test lint

setup:
	bash .ci/setup.sh

main: setup
	magvox search start

test: setup lint
	$(PY) -m pytest -q --timeout=1800

lint:
	$(PY) -m ruff check .
