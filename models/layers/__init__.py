"""Reusable network blocks: FFT / circular 3D convolution and the backend-switching Conv3d."""
