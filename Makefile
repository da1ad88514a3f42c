# make main: set up and run the main job on the bundled dataset.  make test: set up and run the tests
# (the data audits first).  make check-data: the data audits alone.
PY ?= python3
export GPAW_SETUP_PATH ?= /usr/share/gpaw-setups

.PHONY: setup main test check-data lint dataset card campaign redo jcampaign jlabels settings \
	settings-table bondcheck structures structures-one

setup:
	bash .ci/setup.sh

main: setup
	magvox search start

test: setup lint check-data
	$(PY) -m pytest -q --timeout=1800 --ignore=tests/audit

# The data audits (tests/audit): the committed campaigns, stores and cards checked against each
# other, the physics of the committed runs, every figure of each card against its store.
check-data:
	$(PY) -m pytest -q --timeout=1800 tests/audit

lint:
	$(PY) -m ruff check .

# The bundled datasets: the campaign of Table 1 for one X (resumes where it stopped), then prep.
# Table 1 keeps the bond rule it was started with (--geometry covalent, data_prep.dft.bond_rules) so
# that all three X share one geometry rule; new campaigns default to the ionic rule.
# and card. `make campaign dataset` is the Te set (data/campaign -> data/cgt_te.zarr, README.md);
# `make campaign dataset X=Se` the Se set (data/campaign_se -> data/cgt_se.zarr, README_se.md).
X ?= Te
x := $(shell echo $(X) | tr A-Z a-z)
RUNS := $(if $(filter Te,$(X)),data/campaign,data/campaign_$(x))
CARD := $(if $(filter Te,$(X)),data/README.md,data/README_$(x).md)
PNG := $(if $(filter Te,$(X)),fm_moments.png,fm_moments_$(x).png)

campaign:
	magvox generate --out $(RUNS) --x $(X) --configs FM AFM-Neel --geometry covalent

# Both runs of one composite again, with the setting named (a pair whose SCF did not converge at
# the common settings; the card lists it under "Runs with other settings"), e.g.
# make redo X=S COMPOSITE=CrFeGe2S6 A2=Fe B=GeGe SET=smearing_eV=0.1
redo:
	@[ -n "$(COMPOSITE)" ] && [ -n "$(A2)" ] && [ -n "$(B)" ] && [ -n "$(SET)" ] || { echo "usage: make redo X=S COMPOSITE=CrFeGe2S6 A2=Fe B=GeGe SET=smearing_eV=0.1"; exit 2; }
	rm -rf $(RUNS)/$(COMPOSITE)/FM $(RUNS)/$(COMPOSITE)/AFM-Neel
	magvox generate --out $(RUNS) --a2 $(A2) --b $(B) --x $(X) --configs FM AFM-Neel --geometry covalent --set $(SET)

dataset:
	magvox prep $(RUNS) --out data/cgt_$(x).zarr --native-only --workers 0 --quiet || [ $$? -eq 3 ]  # 3: failed runs listed in rejected.csv
	$(MAKE) card X=$(X)

# the atoms of each sample (species, positions, GPAW's per-site moments) from the run folders'
# POSCARs and records, into stores made before prep recorded them; no density is rewritten
structures:
	for x in Te Se S; do $(MAKE) --no-print-directory structures-one X=$$x; done
structures-one:
	$(PY) -m data_prep.dataset.add_structures data/cgt_$(x).zarr $(RUNS)

# the card of one X: with the settings study (Te) and the J1-J3 of its Cr2B2X6 composites
card:
	$(PY) -m data_prep.analysis.card data/cgt_$(x).zarr $(RUNS) --out $(CARD) --png $(PNG) $(if $(filter Te,$(X)),--settings data/settings/README.md --bond-check data/bond_check) $(if $(wildcard data/exchange_j.csv),--exchange data/exchange_j.csv)

# J1-J3 of the 15 Cr2B2X6 composites (A1 = A2 = Cr, 5 B pairs x 3 X): FM, Neel, zigzag and stripy,
# all four in the rectangular 4-A cell with one k-mesh (data/campaign_j, 60 runs; resumes where it
# stopped), with the geometry rule of the Table 1 datasets whose composites the J's label. `make jlabels` fits the J's (data/exchange_j.csv, failures with their reason) and
# attaches them to the bundled datasets as labels J1_meV, J2_meV, J3_meV.
jcampaign:
	magvox generate --out data/campaign_j --a2 Cr --x Te Se S --cell rectangular --geometry covalent --configs FM AFM-Neel AFM-zigzag AFM-stripy

jlabels:
	$(PY) -m data_prep.analysis.exchange_labels data/campaign_j --out data/exchange_j.csv --into $(wildcard data/cgt_*.zarr)
	for x in Te Se S; do [ ! -d data/cgt_$$(echo $$x | tr A-Z a-z).zarr ] || $(MAKE) card X=$$x; done

# What moves the FM/AFM order (issue 12): five Te composites with Ti, V, Nb, Co on A2 (the four
# GeGe ones, and CrCoP2Te6, the closest to a flip at +7 meV/cell), computed (1) relaxed in FM
# (BFGS, cell fixed), then FM and Neel at that one geometry; (2) in plane-wave mode at the
# prototype geometry. The Table 1 runs (data/campaign) are the baseline; each step
# resumes where it stopped. `make settings-table` compares the three (data/settings/README.md).
STUDY := --x Te --geometry covalent --num-cpus 1
OK3 := || [ $$? -eq 3 ] || exit 1;  # generate exits 3 when a run is unconverged (it is recorded)
settings:
	for s in "--a2 Ti V Nb Co --b GeGe" "--a2 Co --b PP"; do \
	  magvox generate --out data/settings/relax_fm $$s $(STUDY) --configs FM --set relax_fmax=0.05 \
	    --set relax_steps=40 $(OK3) \
	  magvox generate --out data/settings/relaxed $$s $(STUDY) --configs FM AFM-Neel \
	    --set geometry_from=data/settings/relax_fm $(OK3) \
	  magvox generate --out data/settings/pw $$s $(STUDY) --configs FM AFM-Neel --set mode=pw \
	    --set ecut_eV=400 $(OK3) \
	done
settings-table:
	$(PY) -m data_prep.analysis.settings_study --baseline data/campaign --relax data/settings/relax_fm --relaxed data/settings/relaxed --pw data/settings/pw --out data/settings/README.md
	$(MAKE) card X=Te

# The bond rules against measured MPS3 (issue 12): the FM moment per cell of Mn2P2S6, Fe2P2S6 and
# Ni2P2S6 at each rule's geometry (data/bond_check/<rule>; resumes; an unconverged run is
# recorded and shown as such), shown in the Te card.
bondcheck:
	for m in Mn Fe Ni; do for rule in covalent ionic; do \
	  magvox generate --out data/bond_check/$$rule --a1 $$m --a2 $$m --b PP --x S --configs FM \
	    --geometry $$rule --num-cpus 1 || [ $$? -eq 3 ] || exit 1; done; done  # 3: run unconverged
	$(MAKE) card X=Te
