"""Periodic (Fourier) interpolation of a density onto the training grid.

The grid samples one periodic cell, so resampling in Fourier space is exact for band-limited data
and keeps the mean -- hence the integral ``mean * V_cell`` (electrons, moment) -- to rounding.
Ringing near sharp cores is the price; spin densities are smooth enough at DFT cut-offs.
"""

from __future__ import annotations

import numpy as np

from data_prep import TRAIN_GRID


def _resample_axis(a: np.ndarray, m: int, axis: int) -> np.ndarray:
    """Fourier-resample a periodic array along one axis from n to m points (complex result)."""
    n = a.shape[axis]
    if m == n:
        return a
    spec = np.moveaxis(np.fft.fft(a, axis=axis), axis, 0)  # (n, ...)
    out = np.zeros((m, *spec.shape[1:]), dtype=complex)
    k = min(n, m)
    pos = k // 2 + 1  # frequencies 0 .. k//2 (the Nyquist one when k is even)
    neg = k - pos  # frequencies -1 .. -neg
    out[:pos] = spec[:pos]
    if neg:
        out[m - neg :] = spec[n - neg :]
    if k % 2 == 0:
        if m < n:  # fold the input's -k/2 component onto the output Nyquist
            out[k // 2] += spec[n - k // 2]
        else:  # split the input Nyquist evenly between +k/2 and -k/2
            out[k // 2] *= 0.5
            out[m - k // 2] = out[k // 2]
    return np.moveaxis(np.fft.ifft(out, axis=0), 0, axis) * (m / n)


def fourier_regrid(values: np.ndarray, shape: tuple[int, int, int] = TRAIN_GRID) -> np.ndarray:
    """Resample a periodic (Nx, Ny, Nz) array onto ``shape`` (same cell, same units).

    Returns float64 of ``shape``; the mean (and so the cell integral) is preserved to rounding.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3 or len(shape) != 3:
        raise ValueError(f"need a 3-D array and a 3-D shape, got {values.shape} -> {shape}")
    if tuple(values.shape) == tuple(shape):
        return values.copy()
    out: np.ndarray = values.astype(complex)
    for axis, m in enumerate(shape):
        out = _resample_axis(out, int(m), axis)
    return np.ascontiguousarray(out.real)
