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

# The bundled datasets: the campaign of Table 1 for one X (resumes where it stopped), then prep
# and card. `make campaign dataset` is the Te set (data/campaign -> data/cgt_te.zarr, README.md);
# `make campaign dataset X=Se` the Se set (data/campaign_se -> data/cgt_se.zarr, README_se.md).
X ?= Te
x := $(shell echo $(X) | tr A-Z a-z)
RUNS := $(if $(filter Te,$(X)),data/campaign,data/campaign_$(x))
CARD := $(if $(filter Te,$(X)),data/README.md,data/README_$(x).md)
PNG := $(if $(filter Te,$(X)),fm_moments.png,fm_moments_$(x).png)

campaign:
	magvox generate --out $(RUNS) --x $(X) --configs FM AFM-Neel

dataset:
	magvox prep $(RUNS) --out data/cgt_$(x).zarr --native-only --workers 0 --quiet || [ $$? -eq 3 ]  # 3: failed runs listed in rejected.csv
	$(PY) -m data_prep.card data/cgt_$(x).zarr $(RUNS) --out $(CARD) --png $(PNG)
