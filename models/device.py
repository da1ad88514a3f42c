"""Which torch device a trial trains on.

``auto`` takes the first CUDA device torch can see and the CPU otherwise. Under Ray a trial sees
only the GPUs it was given (Ray sets ``CUDA_VISIBLE_DEVICES``), so a trial without GPUs trains on
the CPU even on a GPU node.
"""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch.device for ``device`` (``auto``/None, ``cpu``, ``cuda`` or ``cuda:N``).

    Raises:
        ValueError: an unknown name, or a CUDA device asked for where torch sees none (a CPU-only
            torch build, or no GPU given to this process).
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = "auto" if device is None else str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not one of auto, cpu, cuda, cuda:N")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: torch {torch.__version__} sees no CUDA GPU "
                             "(CPU-only build, or no GPU visible to this process)")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} CUDA "
                             "device(s) visible")
    return torch.device(name)
