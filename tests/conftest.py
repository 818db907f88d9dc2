"""Hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci|thorough; CI=true picks ci) and shared fixtures."""
from __future__ import annotations

import os
import tempfile

import pytest

# derivations cached on disk go to a folder of this test session (never the user's cache)
os.environ["OPTVERIFY_CACHE"] = tempfile.mkdtemp(prefix="optverify-test-cache-")
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
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
