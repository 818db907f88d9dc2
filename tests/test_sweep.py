"""Sweeps that survive: each finished (point, seed) is appended as it completes; a sweep killed
with SIGKILL and started again with --resume loses no point and repeats none."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpu_validation._sweep import Store, unit_key, units
from optverify.cli import main

GRID = ["--grid", "lambda=0.5,1,2,3,4,5", "--seeds", "0,1"]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sigkill_then_resume_loses_nothing_and_repeats_nothing(tmp_path):
    out = tmp_path / "sweep.jsonl"
    cmd = [sys.executable, "-m", "optverify", "sweep", "gd.quadratic.critical_step", *GRID, "--out", str(out),
           "--workers", "1", "--steps", "400"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= 3:
            break
        if proc.poll() is not None:
            err = proc.stderr.read().decode()
            proc.stderr.close()
            pytest.fail(f"the sweep ended before it could be killed: {err}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    before = _records(out)
    assert 3 <= len(before) < 12, "killed too late to test a resume"
    with out.open("ab") as f:  # a torn line, as if the kill hit in the middle of a write
        f.write(b'{"id": "gd.quadratic.critical_step", "point": {"lambda"')
    code = main(["sweep", "gd.quadratic.critical_step", *GRID, "--out", str(out), "--workers", "1", "--steps", "400",
                 "--resume", "--json"])
    after = _records(out)
    keys = [unit_key(r["point"], r["seed"]) for r in after]
    assert len(keys) == len(set(keys)) == 12                      # every unit once
    assert after[:len(before)] == before                          # finished records kept as they were
    expected = {unit_key(p, s) for p, s in units({"lambda": [0.5, 1, 2, 3, 4, 5]}, [0, 1])}
    assert set(keys) == expected
    assert code in (0, 1)


def test_existing_results_need_resume(tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    assert main(["sweep", "gd.quadratic.critical_step", "--grid", "lambda=1", "--out", str(out), "--workers", "1",
                 "--steps", "3000"]) == 0
    assert main(["sweep", "gd.quadratic.critical_step", "--grid", "lambda=1", "--out", str(out), "--workers", "1"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_sqlite_store_and_parallel_workers(tmp_path, capsys):
    out = tmp_path / "s.sqlite"
    argv = ["sweep", "heavy_ball.quadratic.critical_step", "--grid", "beta=0.3,0.6", "--seeds", "0,1", "--out", str(out),
            "--workers", "2", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["units"] == 4 and summary["ran"] == 4 and summary["agree"] == 4
    store = Store(out, "heavy_ball.quadratic.critical_step", resume=True)
    assert len(store.done) == 4 and all(r["versions"]["numpy"] for r in store.done.values())
    store.close()
    assert main(argv + ["--resume"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == 0


def test_ray_executor_is_optional(tmp_path, capsys):
    try:
        import ray  # noqa: F401
    except ImportError:
        code = main(["sweep", "gd.quadratic.critical_step", "--grid", "lambda=1", "--out", str(tmp_path / "r.jsonl"),
                     "--executor", "ray"])
        assert code == 2 and "optverify[ray]" in capsys.readouterr().err
        return
    assert main(["sweep", "gd.quadratic.critical_step", "--grid", "lambda=1,2", "--out", str(tmp_path / "r.jsonl"),
                 "--executor", "ray", "--json"]) == 0
