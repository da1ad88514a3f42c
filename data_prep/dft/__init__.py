"""The embedded DFT generator: prototype structures and bond rules, magnetic configurations, the
GPAW engine and VASP inputs, k-meshes, campaigns and their progress. Imports data_prep.io and the
top level, never dataset or analysis."""
