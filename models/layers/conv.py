"""Conv3d with a switchable backend (direct / fft / auto) and one set of weights for all of them."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from models.layers.fftconv import (
    circular_pad,
    direct_conv3d,
    fft_conv3d,
    fft_lengths,
    rfft3,
    tiled_fft_conv3d,
)

# auto picks fft when direct FLOPs exceed FFT FLOPs (kernel spectra shared by AUTO_BATCH samples)
# by this factor. Measured on 2 cores, CPU s per sample fwd+bwd, direct vs fft: 3^3 3->5 on 58^3
# valid 0.097 vs 0.150 (flop ratio 1.5); 5^3 same 0.162 vs 0.171 (6.8); 3^3 4->4 on 60x60x120
# circular 0.33 vs 0.23 (1.6); first layer of seed-small (5^3, 2x2 tiling) 0.42 vs 0.17.
AUTO_FFT_ADVANTAGE = 1.5
AUTO_BATCH = 8


def conv_flops(
    cin: int, cout: int, kernel: int, size: tuple[int, ...], out: tuple[int, ...],
    padding: str, batch: int = AUTO_BATCH, lengths: tuple[int, ...] | None = None,
) -> dict[str, float]:
    """Forward FLOPs per sample of one conv layer for the direct and FFT backends.

    direct: 2 Cin Cout K^3 prod(out). fft: rFFTs of Cin inputs and Cout outputs (2.5 L log2 L each,
    L = prod(fft lengths); ``lengths`` overrides them, e.g. one period of a tiled input), Cin Cout
    complex multiply-adds (8 flops) per frequency, and the Cin Cout kernel rFFTs once per batch
    (shared by ``batch`` samples).
    """
    direct = 2.0 * cin * cout * kernel**3 * math.prod(out)
    lengths = lengths or fft_lengths(tuple(size), padding)
    n = math.prod(lengths)
    spec = n / lengths[-1] * (lengths[-1] // 2 + 1)
    one_fft = 2.5 * n * math.log2(max(n, 2))
    fft = (cin + cout) * one_fft + 8.0 * cin * cout * spec + cin * cout * one_fft / batch
    return {"direct": direct, "fft": fft}


def conv_output(size: tuple[int, ...], kernel: int, stride: int, padding: str) -> tuple[int, ...]:
    """Output (Mx, My, Mz) of a conv: ceil(N / s) circular, (N - K) // s + 1 valid."""
    if padding == "circular":
        return tuple(-(-n // stride) for n in size)
    return tuple((n - kernel) // stride + 1 for n in size)


def choose_backend(
    backend: str, cin: int, cout: int, kernel: int, size: tuple[int, ...], padding: str,
    tiling: tuple[int, ...] = (1, 1, 1), stride: int = 1,
) -> str:
    """``direct`` or ``fft`` for an untiled input ``size`` repeated ``tiling`` (auto: by FLOPs).

    Direct convolution computes only the strided outputs (stride^3 fewer multiply-adds), the FFT
    every output of the full grid: a stride-4 4^3 layer on 60x60x120 is 17x cheaper direct
    (measured 0.010 s against 0.71 s per batch of 8, forward and backward, 2 cores).
    """
    if backend != "auto":
        return backend
    tiled = tuple(n * t for n, t in zip(size, tiling, strict=True))
    out = conv_output(tiled, kernel, stride, padding)
    one_period = tuple(tiling) != (1, 1, 1) and padding == "valid"
    flops = conv_flops(cin, cout, kernel, tuple(tiled), tuple(out), padding,
                       lengths=tuple(size) if one_period else None)
    return "fft" if flops["direct"] > AUTO_FFT_ADVANTAGE * flops["fft"] else "direct"


class Conv3d(nn.Module):
    """Cubic 3D convolution (cross-correlation, like ``nn.Conv3d``), padding valid or circular.

    Weight (O, C, K, K, K) and bias (O,) are initialised like ``nn.Conv3d`` (Kaiming uniform).
    ``backend`` may be changed at any time; the numbers do not depend on it (to ~1e-6 in float32).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
        padding: str = "valid", backend: str = "fft",
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel, kernel, kernel))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.stride, self.padding, self.backend = stride, padding, backend
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's Conv3d initialisation: Kaiming-uniform weights, bias within 1/sqrt(fan_in)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.weight[0].numel())
        nn.init.uniform_(self.bias, -bound, bound)

    @property
    def kernel(self) -> int:
        """Kernel edge K, grid points."""
        return self.weight.shape[-1]

    def resolved_backend(
        self, size: tuple[int, ...], tiling: tuple[int, int, int] = (1, 1, 1)
    ) -> str:
        """``direct`` or ``fft`` for an untiled input of spatial ``size`` repeated ``tiling``."""
        o, c = self.weight.shape[:2]
        return choose_backend(self.backend, c, o, self.kernel, size, self.padding, tiling,
                              self.stride)

    def _tiled_fft(self, size: tuple[int, ...], tiling: tuple[int, int, int]) -> bool:
        """Whether an untiled input of ``size`` repeated ``tiling`` takes the one-period path."""
        return (tuple(tiling) != (1, 1, 1) and self.padding == "valid"
                and self.resolved_backend(size, tiling) == "fft")

    def input_spectrum(self, x: Tensor, tiling: tuple[int, int, int] = (1, 1, 1)) -> Tensor:
        """rFFT of an untiled input (B, C, *n) as ``forward(x_hat=...)`` wants it.

        -> (B, C, *spec): of one period when the tiled path applies, else of the tiled input.
        """
        size = tuple(x.shape[-3:])
        if self._tiled_fft(size, tiling):
            return rfft3(x, size)  # type: ignore[arg-type]
        x = x.repeat(1, 1, *tiling)
        return rfft3(x, fft_lengths(tuple(x.shape[-3:]), self.padding))

    def prepare_input(self, x: Tensor, tiling: tuple[int, int, int] = (1, 1, 1)) -> Tensor | None:
        """What ``forward(x_hat=...)`` takes in place of a fixed input (B, C, *n): its spectrum
        (FFT backend), or the circularly padded input (direct backend, circular, untiled): the
        padding then happens once per sample and trial instead of once per batch (it cost more
        than the strided conv itself). None where nothing would be saved."""
        size = tuple(x.shape[-3:])
        if self.resolved_backend(size, tiling) == "fft":
            return self.input_spectrum(x, tiling)
        if self.padding == "circular" and tuple(tiling) == (1, 1, 1):
            return circular_pad(x, self.kernel)
        return None

    def forward(
        self, x: Tensor | None, x_hat: Tensor | list[Tensor] | None = None,
        size: tuple[int, int, int] | None = None, tiling: tuple[int, int, int] = (1, 1, 1),
        in_scale: Tensor | None = None,
    ) -> Tensor:
        """Conv of the ``tiling``-repeated input: (B, C, nx, ny, nz) -> (B, O, Mx, My, Mz).

        ``x_hat`` (from ``prepare_input``: spectra or padded inputs) with ``size`` (the untiled
        (nx, ny, nz)) replaces x. ``in_scale`` (C,): the input is divided by it per channel,
        applied to the kernel instead (conv(x / s, w) = conv(x, w / s)), so no scaled copy of
        the input is made.
        """
        size = tuple(x.shape[-3:]) if x is not None else tuple(size)  # type: ignore[arg-type]
        weight = self.weight if in_scale is None else self.weight / in_scale.view(1, -1, 1, 1, 1)
        args = (weight, self.bias, self.stride)
        if self._tiled_fft(size, tiling):
            return tiled_fft_conv3d(x, *args, tiling, x_hat, size)
        tiled = tuple(n * t for n, t in zip(size, tiling, strict=True))
        if x_hat is not None and self.resolved_backend(size, tiling) != "fft":
            padded = torch.stack(x_hat) if isinstance(x_hat, list) else x_hat
            return torch.nn.functional.conv3d(padded, weight, self.bias, stride=self.stride)
        if x_hat is not None:
            return fft_conv3d(None, *args, self.padding, x_hat, tiled)
        if tuple(tiling) != (1, 1, 1):
            x = x.repeat(1, 1, *tiling)
        if self.resolved_backend(size, tiling) == "fft":
            return fft_conv3d(x, *args, self.padding)
        return direct_conv3d(x, *args, self.padding)  # type: ignore[arg-type]

    def extra_repr(self) -> str:
        """Shown by print(model)."""
        o, c, k = *self.weight.shape[:2], self.kernel
        return f"{c}, {o}, kernel={k}, stride={self.stride}, {self.padding}, {self.backend}"
