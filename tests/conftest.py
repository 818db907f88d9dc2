"""Hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci|thorough; CI=true picks ci; dev and ci derandomized) and
shared fixtures and helpers."""
from __future__ import annotations

import os
import tempfile

import pytest

# derivations cached on disk go to a folder of this test session (never the user's cache)
os.environ["OPTVERIFY_CACHE"] = tempfile.mkdtemp(prefix="optverify-test-cache-")
from hypothesis import HealthCheck, settings

# dev and ci are derandomized: a test run draws the same examples every time (a failure reproduces by
# rerunning); thorough stays random, to explore beyond the fixed draws
settings.register_profile("dev", max_examples=30, deadline=None, derandomize=True)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def examples() -> int:
    """Examples per numeric property, from the active profile (>= 200 in ci)."""
    return settings.default.max_examples


def pytest_collection_modifyitems(config, items):
    import importlib.util
    has_cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch
        has_cuda = torch.cuda.is_available()
    if has_cuda or os.environ.get("OPTVERIFY_REQUIRE_GPU") == "1":
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def png_content(path, size_inches: tuple[float, float], dpi: int = 130) -> dict:
    """Read a PNG the CLI wrote and check what holds on any matplotlib/Pillow version: its pixel size
    is the figure's (``size_inches`` x ``dpi``, no tight bbox), and something was drawn on it (not
    blank, not one flat colour: enough non-white pixels, several colours). Returns the measurements."""
    import numpy as np
    from matplotlib import image

    img = image.imread(str(path))
    assert img.ndim == 3 and img.shape[2] in (3, 4), img.shape
    height, width = img.shape[:2]
    assert (width, height) == (round(size_inches[0] * dpi), round(size_inches[1] * dpi)), (width, height)
    rgb = np.asarray(img[..., :3], dtype=float)
    if img.shape[2] == 4:
        assert float(img[..., 3].min()) > 0.99, "transparent pixels"
    ink = float((rgb.min(axis=-1) < 0.85).mean())         # share of pixels clearly darker than white
    coloured = float((np.ptp(rgb, axis=-1) > 0.2).mean())   # share of saturated (non-grey) pixels
    colours = len(np.unique((rgb * 255).round().astype(np.uint8).reshape(-1, 3), axis=0))
    out = {"width": width, "height": height, "ink": ink, "coloured": coloured, "colours": colours,
           "std": float(rgb.std())}
    assert 0.01 < ink < 0.6 and coloured > 0.001 and colours >= 16 and out["std"] > 0.05, out
    return out
