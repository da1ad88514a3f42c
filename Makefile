# make main: set up and run the main job on the bundled dataset.  make test: set up and run the tests.
PY ?= python3
export GPAW_SETUP_PATH ?= /usr/share/gpaw-setups

.PHONY: setup main test lint dataset campaign

setup:
	bash .ci/setup.sh

main: setup
	magvox search start

test: setup lint
	$(PY) -m pytest -q --timeout=1800

lint:
	$(PY) -m ruff check .

# The bundled dataset: the Te campaign of Table 1 (resumes where it stopped), then prep and card.
campaign:
	magvox generate --out data/campaign --x Te --configs FM AFM-Neel

dataset:
	magvox prep data/campaign --out data/cgt_te.zarr --native-only --workers 0 --quiet || [ $$? -eq 3 ]  # 3: failed runs listed in rejected.csv
	$(PY) -m data_prep.card data/cgt_te.zarr data/campaign --out data/README.md
