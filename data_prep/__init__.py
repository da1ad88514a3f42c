"""DFT outputs -> the shared Zarr dataset, and the embedded DFT generator. Imports nothing of magvox."""
