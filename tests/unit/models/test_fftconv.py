"""The FFT convolution equals torch's direct convolution: outputs and gradients."""

from __future__ import annotations

import pytest
import torch

from models.layers.conv import Conv3d
from models.layers.fftconv import direct_conv3d, fft_conv3d, fold_kernel, tiled_fft_conv3d


def _grads(fn, x, w, b, g):
    y = fn(x, w, b)
    return (y, *torch.autograd.grad(y, (x, w, b), g))


def _pair(dtype, k, stride, channels=(3, 4), size=(11, 12, 9), seed=0):
    gen = torch.Generator().manual_seed(seed)
    cin, cout = channels
    x = torch.randn(2, cin, *size, generator=gen, dtype=dtype).requires_grad_()
    w = torch.randn(cout, cin, k, k, k, generator=gen, dtype=dtype).requires_grad_()
    b = torch.randn(cout, generator=gen, dtype=dtype).requires_grad_()
    return x, w, b


def _assert_close(got, want, rel):
    for a, e in zip(got, want, strict=True):
        assert a.shape == e.shape
        scale = e.abs().max().clamp(min=1.0)
        assert (a - e).abs().max() <= rel * scale, (a - e).abs().max()


@pytest.mark.parametrize("padding", ["valid", "circular"])
@pytest.mark.parametrize("k", [1, 3, 4, 5, 8])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_fft_equals_direct_float64(padding, k, stride):
    x, w, b = _pair(torch.float64, k, stride)
    g = torch.randn_like(direct_conv3d(x, w, b, stride, padding))
    got = _grads(lambda *a: fft_conv3d(*a, stride=stride, padding=padding), x, w, b, g)
    want = _grads(lambda *a: direct_conv3d(*a, stride=stride, padding=padding), x, w, b, g)
    _assert_close(got, want, 1e-10)


@pytest.mark.parametrize("padding", ["valid", "circular"])
@pytest.mark.parametrize("k", [4, 7])
def test_fft_equals_direct_float32(padding, k):
    x, w, b = _pair(torch.float32, k, 2, channels=(2, 3), size=(16, 14, 20))
    g = torch.randn_like(direct_conv3d(x, w, b, 2, padding))
    got = _grads(lambda *a: fft_conv3d(*a, stride=2, padding=padding), x, w, b, g)
    want = _grads(lambda *a: direct_conv3d(*a, stride=2, padding=padding), x, w, b, g)
    _assert_close(got, want, 1e-4)


@pytest.mark.parametrize("k,stride,tiling", [(3, 1, (2, 2, 1)), (6, 2, (2, 2, 2)),
                                             (9, 3, (2, 2, 2)), (13, 1, (3, 3, 2))])
def test_tiled_path_equals_direct_on_tiled_input(k, stride, tiling):
    """The one-period path (folded kernel) equals valid conv of the explicitly tiled input."""
    x, w, b = _pair(torch.float64, k, stride, size=(5, 6, 7))
    g = torch.randn_like(direct_conv3d(x.repeat(1, 1, *tiling), w, b, stride))
    got = _grads(lambda *a: tiled_fft_conv3d(*a, stride, tiling), x, w, b, g)
    want = _grads(lambda x_, *a: direct_conv3d(x_.repeat(1, 1, *tiling), *a, stride), x, w, b, g)
    _assert_close(got, want, 1e-10)


def test_fold_kernel_sums_positions_modulo_period():
    w = torch.arange(2 * 5 * 3 * 2, dtype=torch.float64).reshape(1, 2, 5, 3, 2)
    folded = fold_kernel(w, (2, 3, 4))
    assert folded.shape == (1, 2, 2, 3, 2)
    assert torch.equal(folded[..., 0, :, :], w[..., 0, :, :] + w[..., 2, :, :] + w[..., 4, :, :])


def test_cached_spectrum_gives_the_same_output_and_weight_gradient():
    torch.manual_seed(0)
    conv = Conv3d(2, 3, 5, stride=2, backend="fft").double()
    x = torch.randn(2, 2, 6, 6, 8, dtype=torch.float64)
    y = conv(x, tiling=(2, 2, 1))
    (gw,) = torch.autograd.grad(y.square().sum(), conv.weight)
    spectra = list(conv.input_spectrum(x, (2, 2, 1)).unbind(0))
    y2 = conv(None, spectra, size=(6, 6, 8), tiling=(2, 2, 1))
    (gw2,) = torch.autograd.grad(y2.square().sum(), conv.weight)
    torch.testing.assert_close(y, y2, rtol=0, atol=1e-12)
    torch.testing.assert_close(gw, gw2, rtol=0, atol=1e-10)


def test_auto_backend_follows_the_measured_crossover():
    assert Conv3d(2, 3, 40, backend="auto").resolved_backend((120, 120, 120)) == "fft"
    assert Conv3d(3, 5, 3, backend="auto").resolved_backend((58, 58, 58)) == "direct"
    assert Conv3d(2, 3, 5, backend="auto").resolved_backend((60, 60, 120), (2, 2, 1)) == "fft"
    assert Conv3d(2, 4, 9, padding="circular", backend="auto").resolved_backend(
        (60, 60, 120)) == "fft"


def test_auto_backend_counts_the_stride():
    """Direct convolution computes only the strided outputs: the default learner's 4^3 stride-4
    circular layer (17x fewer direct FLOPs than FFT) goes direct, its stride-1 twin to FFT."""
    def layer(stride: int) -> Conv3d:
        return Conv3d(2, 8, 4, stride=stride, padding="circular", backend="auto")

    assert layer(4).resolved_backend((60, 60, 120)) == "direct"
    assert layer(1).resolved_backend((60, 60, 120)) == "fft"
    assert Conv3d(2, 3, 40, backend="auto").resolved_backend((60, 60, 120), (2, 2, 1)) == "fft"


def test_the_default_learner_resolves_to_direct_convolution():
    from models.presets import create_model

    model = create_model("periodic-fast")
    assert model.convs[0].resolved_backend(model.grid, model.cfg.tiling) == "direct"


def test_a_cached_padded_input_with_the_scale_in_the_kernel_is_the_same_convolution():
    """The direct path's per-trial cache (the circularly padded raw input) and the input scale
    applied to the kernel give conv(x / s) exactly as padding x / s every batch, and as FFT."""
    torch.manual_seed(0)
    conv = Conv3d(2, 8, 4, stride=4, padding="circular", backend="direct").double()
    x = torch.randn(3, 2, 8, 8, 12, dtype=torch.float64)
    scale = torch.tensor([2.0, 0.5], dtype=torch.float64)
    scaled = x / scale.view(1, -1, 1, 1, 1)
    ref = direct_conv3d(scaled, conv.weight, conv.bias, 4, "circular")
    cached = conv.prepare_input(x)
    assert cached.shape == (3, 2, 11, 11, 15)  # N + K - 1 per axis
    y = conv(None, list(cached), (8, 8, 12), in_scale=scale)
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-12)
    fft = fft_conv3d(scaled, conv.weight, conv.bias, 4, "circular")
    torch.testing.assert_close(y, fft, rtol=0, atol=1e-10)
    assert Conv3d(2, 8, 4, padding="valid", backend="direct").prepare_input(x) is None
