"""3D convolution (torch's cross-correlation convention) by FFT, circular or valid, with strides.

Why: the original base model convolves 120^3 inputs with 40^3 kernels; direct convolution costs
~Cin*Cout*K^3*N_out^3 multiply-adds (9.3 s per sample forward on 2 cores), the FFT path
~(Cin + Cout)*N^3*log N. The kernel spectrum is computed once per call and reused for every sample
and in backward; the input spectrum of a fixed input (the first layer) can be computed once and
passed in as ``x_hat`` on every epoch (``Conv3d.input_spectrum``).

Maths (per axis, FFT length L >= N, kernel w placed at (m - shift) mod L, ``^`` = rFFT):
    forward   y[n] = sum_m w[m] x[n + m - shift]   ->  Y^ = sum_c conj(W^) X^
    grad x    gx  = sum_o G^ W^                      (g zero-filled outside the kept outputs)
    grad w    gw  = sum_b conj(G^) X^                (then rolled by +shift and cropped to K)
valid: shift 0, keep n in [0, N-K], L any size >= N (no wrap reaches a kept output).
circular: shift (K-1)//2, keep all n, L = N exactly (the wrap is the periodic boundary).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

DIMS = (-3, -2, -1)


def good_size(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n: FFT lengths pocketfft and MKL handle fastest."""
    m = n
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


def fft_lengths(size: tuple[int, ...], padding: str) -> tuple[int, int, int]:
    """FFT lengths for an input (Nx, Ny, Nz): the input size for circular, fast sizes for valid."""
    if padding == "circular":
        return tuple(size)  # type: ignore[return-value]
    return tuple(good_size(n) for n in size)  # type: ignore[return-value]


def rfft3(x: Tensor, lengths: tuple[int, int, int]) -> Tensor:
    """Real 3D FFT over the last three axes, zero-padded at the end to ``lengths``."""
    return torch.fft.rfftn(x, s=lengths, dim=DIMS)


def kernel_spectrum(w: Tensor, lengths: tuple[int, int, int], shift: int) -> Tensor:
    """rFFT of the kernel (O, C, K, K, K) placed at (m - shift) mod L -> (O, C, Lx, Ly, Lz//2+1)."""
    padded = w.new_zeros(*w.shape[:2], *lengths)
    k = w.shape[-3:]
    padded[..., : k[0], : k[1], : k[2]] = w
    if shift:
        padded = torch.roll(padded, shifts=(-shift,) * 3, dims=DIMS)
    return torch.fft.rfftn(padded, dim=DIMS)


def _mix(a: Tensor, b: Tensor) -> Tensor:
    """sum_c a[c] b[o, c] for a (C, *S), b (O, C, *S) -> (O, *S), one channel at a time."""
    out = a[0] * b[:, 0]
    for c in range(1, a.shape[0]):
        out += a[c] * b[:, c]
    return out


class _FFTConv(torch.autograd.Function):
    """(x (B, C, *N) or its spectrum X^ (B, C, *spec), w (O, C, K, K, K)) -> y (B, O, *out).

    A given ``x_hat`` is a constant (cached first-layer input): it gets no gradient. It may be a
    tensor (B, C, *spec) or a list of B tensors (C, *spec), which spares stacking a cache.
    """

    @staticmethod
    def forward(ctx, x, x_hat, w, lengths, keep, stride, shift, periodic):
        if x_hat is None:
            x_hat = rfft3(x, lengths)  # (B, C, Lx, Ly, Lz//2+1)
        w_conj = kernel_spectrum(w, lengths, shift).conj()  # (O, C, *spec)
        crop = (slice(None), *(slice(0, n, stride) for n in keep))
        whole = stride == 1 and tuple(keep) == tuple(lengths)  # nothing cropped
        out = w.new_empty(len(x_hat), w.shape[0], *(-(-n // stride) for n in keep))
        for b in range(len(x_hat)):  # one sample at a time bounds the workspace
            y = torch.fft.irfftn(_mix(x_hat[b], w_conj), s=lengths, dim=DIMS)  # (O, *L)
            if periodic:  # keep > L: the output is y read at (j mod L)
                _extend_into(out[b], y, keep, stride)
            else:
                out[b] = y if whole else y[crop]
        ctx.x_hat = x_hat  # a constant or our own rfft of x: autograd need not track it
        ctx.save_for_backward(w_conj)
        size = tuple(x.shape[-3:]) if x is not None else None
        ctx.geometry = (lengths, crop, whole, shift, tuple(w.shape[-3:]), size, periodic, keep,
                        stride)
        return out  # (B, O, *out)

    @staticmethod
    def backward(ctx, grad_y):
        (w_conj,) = ctx.saved_tensors
        x_hat = ctx.x_hat
        lengths, crop, whole, shift, k, size, periodic, keep, stride = ctx.geometry
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[2]
        w_by_c = w_conj.conj().transpose(0, 1)  # (C, O, *spec)
        gx = grad_y.new_empty(grad_y.shape[0], w_conj.shape[1], *size) if need_x else None
        gw_hat = torch.zeros_like(w_conj) if need_w else None  # (O, C, *spec)
        for b in range(grad_y.shape[0]):
            if whole:
                g = grad_y[b]  # (O, *L)
            elif periodic:
                g = _fold(grad_y[b], keep, stride, lengths)  # adjoint of _extend_into
            else:
                g = grad_y.new_zeros(grad_y.shape[1], *lengths)
                g[crop] = grad_y[b]  # zero where not kept
            g_hat = torch.fft.rfftn(g, s=lengths, dim=DIMS)  # (O, *spec), zero-padded
            if need_x:
                gx_b = torch.fft.irfftn(_mix(g_hat, w_by_c), s=lengths, dim=DIMS)  # (C, *L)
                gx[b] = gx_b[:, : size[0], : size[1], : size[2]]
            if need_w:
                gw_hat.addcmul_(g_hat.conj_physical()[:, None], x_hat[b][None])  # (O, C, *spec)
        gw = None
        if need_w:
            gw = torch.fft.irfftn(gw_hat, s=lengths, dim=DIMS)  # (O, C, *L)
            if shift:
                gw = torch.roll(gw, shifts=(shift,) * 3, dims=DIMS)
            gw = gw[..., : k[0], : k[1], : k[2]].contiguous()
        return gx, None, gw, None, None, None, None, None


def _tiles(length: int, period: int) -> list[tuple[int, int]]:
    """(start, size) of the periodic copies covering [0, length): (0, P), (P, P), ..., rest."""
    return [(s, min(period, length - s)) for s in range(0, length, period)]


def _extend_into(dst: Tensor, y: Tensor, keep: tuple[int, ...], stride: int) -> None:
    """dst (O, *out) <- y (O, *L) read at (j mod L) for j in range(0, keep, stride)."""
    period = y.shape[1:]
    if stride > 1:
        for axis, (n, p) in enumerate(zip(keep, period, strict=True), start=1):
            y = y.index_select(axis, torch.arange(0, n, stride, device=y.device) % p)
        dst.copy_(y)
        return
    for a0, la in _tiles(keep[0], period[0]):
        for b0, lb in _tiles(keep[1], period[1]):
            for c0, lc in _tiles(keep[2], period[2]):
                dst[:, a0 : a0 + la, b0 : b0 + lb, c0 : c0 + lc] = y[:, :la, :lb, :lc]


def _fold(g: Tensor, keep: tuple[int, ...], stride: int, lengths: tuple[int, ...]) -> Tensor:
    """Adjoint of ``_extend_into``: g (O, *out) summed back onto one period (O, <= L)."""
    if stride > 1:
        full = g.new_zeros(g.shape[0], *keep)
        full[..., ::stride, ::stride, ::stride] = g
        return fold_kernel(full, lengths)
    size = [min(n, p) for n, p in zip(keep, lengths, strict=True)]
    acc = g[:, : size[0], : size[1], : size[2]].clone()
    for a0, la in _tiles(keep[0], lengths[0]):
        for b0, lb in _tiles(keep[1], lengths[1]):
            for c0, lc in _tiles(keep[2], lengths[2]):
                if a0 or b0 or c0:
                    acc[:, :la, :lb, :lc] += g[:, a0 : a0 + la, b0 : b0 + lb, c0 : c0 + lc]
    return acc


def fft_conv3d(
    x: Tensor | None,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: str = "valid",
    x_hat: Tensor | None = None,
    size: tuple[int, int, int] | None = None,
) -> Tensor:
    """Conv3d by FFT, equal to ``F.conv3d`` (valid) or its circular-padded version.

    Args:
        x: input (B, C, Nx, Ny, Nz); may be None when ``x_hat`` and ``size`` are given.
        weight: kernel (O, C, K, K, K) (cubic, any parity).
        bias: (O,) or None.
        stride: the same along all three axes.
        padding: ``valid`` -> out (N - K)//s + 1, ``circular`` -> ceil(N / s) per axis.
        x_hat: cached input spectrum ``rfft3(x, fft_lengths(size, padding))`` (no grad to x),
            a tensor (B, C, *spec) or a list of B tensors (C, *spec).
        size: the input's (Nx, Ny, Nz) when ``x`` is None.
    Returns:
        (B, O, *out) in x's dtype.
    """
    size = tuple(x.shape[-3:]) if x is not None else tuple(size)  # type: ignore[arg-type]
    lengths = fft_lengths(size, padding)
    k = weight.shape[-1]
    keep = size if padding == "circular" else tuple(n - k + 1 for n in size)
    shift = (k - 1) // 2 if padding == "circular" else 0
    y = _FFTConv.apply(x if x_hat is None else None, x_hat, weight, lengths, keep, stride, shift,
                       False)
    if bias is not None:
        y.add_(bias.view(1, -1, 1, 1, 1))  # in place: backward needs no output
    return y


def fold_kernel(w: Tensor, period: tuple[int, ...]) -> Tensor:
    """Sum a kernel (O, C, Kx, Ky, Kz) over positions equal modulo ``period`` (per axis).

    Correlating a ``period``-periodic input with w equals correlating one period, circularly, with
    the folded kernel (at most ``period`` long per axis).
    """
    for axis, n in zip((-3, -2, -1), period, strict=True):
        k = w.shape[axis]
        if k > n:
            reps = -(-k // n)
            pad = [0, 0] * 3
            pad[2 * (-1 - axis) + 1] = reps * n - k  # F.pad lists the last axis first
            w = F.pad(w, pad)
            w = w.unflatten(axis, (reps, n)).sum(dim=axis - 1)
    return w


def tiled_fft_conv3d(
    x: Tensor | None,
    weight: Tensor,
    bias: Tensor | None,
    stride: int,
    tiling: tuple[int, int, int],
    x_hat: Tensor | list[Tensor] | None = None,
    size: tuple[int, int, int] | None = None,
) -> Tensor:
    """Valid conv of the periodic tiling of x, computed on one period: 4x less for 2x2 tiling.

    Equals ``fft_conv3d(x.repeat(1, 1, *tiling), weight, bias, stride, "valid")``. The tiled
    input is n-periodic (n = x's size), so every valid output is the circular correlation over one
    period with the folded kernel, read at (j mod n). ``x_hat`` is then ``rfft3(x, n)`` of the
    UNTILED x, a quarter of the tiled spectrum.

    Args:
        x: untiled input (B, C, nx, ny, nz), or None with ``x_hat`` and ``size`` (= n).
        tiling: repeats (ta, tb, tc) of the virtual tiled input.
    Returns:
        (B, O, (t n - K)//s + 1 per axis).
    """
    n = tuple(x.shape[-3:]) if x is not None else tuple(size)  # type: ignore[arg-type]
    k = weight.shape[-1]
    out = [t * m - k + 1 for t, m in zip(tiling, n, strict=True)]  # stride-1 valid outputs
    folded = fold_kernel(weight, n)  # (O, C, <=nx, <=ny, <=nz)
    y = _FFTConv.apply(x if x_hat is None else None, x_hat, folded, n, out, stride, 0, True)
    if bias is not None:
        y.add_(bias.view(1, -1, 1, 1, 1))
    return y


def circular_pad(x: Tensor, kernel: int) -> Tensor:
    """(B, C, Nx, Ny, Nz) -> (B, C, N + K - 1 per axis): (K-1)//2 periodic images before, the
    rest after, so a valid conv of the result is the circular conv of x (same alignment as the
    FFT path's shift)."""
    lo, hi = (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2
    return F.pad(x, (lo, hi) * 3, mode="circular")


def direct_conv3d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: str = "valid"
) -> Tensor:
    """The reference: ``F.conv3d``; circular pads (K-1)//2 before and K-1-(K-1)//2 after."""
    if padding == "circular":
        x = circular_pad(x, weight.shape[-1])
    return F.conv3d(x, weight, bias, stride=stride)
