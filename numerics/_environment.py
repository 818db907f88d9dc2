"""What ran: package versions, the BLAS behind numpy, the thread counts (recorded in every result)."""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("optverify", "sympy", "numpy", "scipy", "mpmath", "hypothesis", "scikit-learn", "matplotlib")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # e.g. optverify run from a source tree that was not installed
        return "source" if name == "optverify" else "absent"


@lru_cache(maxsize=1)
def _blas() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - a dependency; absent only in broken installs
        return []
    return [{"api": i.get("internal_api", ""), "version": i.get("version") or "", "threads": i.get("num_threads"),
             "architecture": i.get("architecture") or ""}
            for i in threadpool_info() if i.get("user_api") == "blas"]


def environment() -> dict:
    """Versions of every package a verdict can depend on, the BLAS numpy uses, and the machine."""
    return {"python": platform.python_version(), "platform": platform.platform(terse=True),
            **{name: _version(name) for name in PACKAGES}, "blas": _blas(), "cpus": os.cpu_count()}
