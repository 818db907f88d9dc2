"""The same verdicts on every run: two processes with different thread counts (and a warm vs a
cold derivation cache) give identical check results, check by check."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CARDS = ["gd.quadratic.critical_step", "heavy_ball.quadratic.critical_step", "sam.quadratic.two_cycle",
         "zo_gd.quadratic.ms_critical_step", "kl_regularized.optimal_policy"]


def _run(threads: int, cache: Path, *extra: str) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OPTVERIFY_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-m", "optverify", "check", *CARDS, "--json", "--examples", "50", *extra],
                         capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def _verdicts(reports: list[dict]) -> list[tuple]:
    return [(r["id"], r["passed"], tuple((c["name"], c["passed"]) for c in r["checks"])) for r in reports]


def test_verdicts_do_not_depend_on_threads_workers_or_the_cache(tmp_path):
    one = _run(1, tmp_path / "a", "--workers", "1")             # cold cache, one thread, in-process
    two = _run(2, tmp_path / "a", "--workers", "2")             # warm cache, two threads, two workers
    assert _verdicts(one) == _verdicts(two)
    assert [r["id"] for r in two] == CARDS                      # catalogue (argument) order, whatever finished first
    assert all(r["environment"]["numpy"] and "blas" in r["environment"] for r in two)
    assert all(set(r["stages"]) == {"derive", "numeric", "simulate"} for r in two)
