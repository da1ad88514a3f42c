"""The shared Zarr dataset: store, multi-store views, held-out split, samples, regridding, labels,
run discovery and prep. Imports data_prep.io and the top level, never dft or analysis."""
