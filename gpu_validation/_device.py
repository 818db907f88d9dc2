"""The one place that decides the device. torch is imported here lazily."""
from __future__ import annotations

from contextlib import contextmanager

from theory import SuiteError


class DeviceError(SuiteError):
    """The requested device cannot be used."""


DEVICES = ("auto", "cpu", "cuda")


def pick_device(requested: str | None = "auto"):
    """'auto' -> cuda when available, else cpu; 'cuda' without CUDA is an error."""
    import torch

    requested = (requested or "auto").lower()
    if requested not in DEVICES and not requested.startswith("cuda:"):
        raise DeviceError(f"unknown device {requested!r} (choose from {', '.join(DEVICES)})")
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(f"--device {requested} was asked for, but torch sees no CUDA device "
                          "(use --device cpu or auto)")
    return torch.device(requested)


@contextmanager
def single_thread(active: bool = True):
    """torch with one intra-op thread inside the block (tiny tensors: several threads only contend,
    10-50x slower on a shared CPU), the previous count restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    if active:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
