"""DFT outputs -> the shared Zarr dataset, and the embedded DFT generator. No magvox imports."""
