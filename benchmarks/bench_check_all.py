"""check --all: serial vs parallel workers, cold vs warm derivation cache, and where the time goes.

Run: python benchmarks/bench_check_all.py [--cards ID ...] [--workers N]
Each configuration runs `optverify check ... --json` in a fresh process, in this run, so the
ratios compare like with like; speed is reported, never asserted. The per-card table splits each
card's time into derive / numeric / simulate (from the JSON's "stages").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cards: list[str], workers: int, cache: str, fresh: bool) -> tuple[float, list[dict]]:
    target = cards or ["--all"]
    cmd = [sys.executable, "-m", "optverify", "check", *target, "--json", "--workers", str(workers)]
    if fresh:
        cmd.append("--fresh")
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OPTVERIFY_CACHE": cache})
    seconds = time.perf_counter() - started
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr[-2000:])
    return seconds, json.loads(out.stdout)


def verdicts(reports: list[dict]) -> list[tuple]:
    return [(r["id"], r["passed"], tuple((c["name"], c["passed"]) for c in r["checks"])) for r in reports]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cards", nargs="*", default=[], help="card ids (default: the whole catalogue)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    cache = tempfile.mkdtemp(prefix="optverify-bench-cache-")
    serial, r_serial = run(a.cards, 1, cache, fresh=True)
    cold, r_cold = run(a.cards, a.workers, cache, fresh=True)
    warm, r_warm = run(a.cards, a.workers, cache, fresh=False)
    same = verdicts(r_serial) == verdicts(r_cold) == verdicts(r_warm)
    print(f"{len(r_serial)} cards, {os.cpu_count()} cores, {a.workers} workers; verdicts identical: {same}")
    print(f"serial cold   {serial:8.1f} s   1.00x")
    print(f"parallel cold {cold:8.1f} s   {serial / cold:4.2f}x faster than serial cold")
    print(f"parallel warm {warm:8.1f} s   {serial / warm:4.2f}x faster than serial cold ({cold / warm:4.2f}x vs cold)")
    totals = {k: sum(r["stages"][k] for r in r_serial) for k in ("derive", "numeric", "simulate")}
    print("serial time by stage: " + ", ".join(f"{k} {v:.1f} s ({100 * v / sum(totals.values()):.0f} %)"
                                               for k, v in totals.items()))
    print(f"\n{'card':58s} {'total':>7s} {'derive':>7s} {'numeric':>8s} {'simulate':>9s}  (serial cold, s)")
    for r in sorted(r_serial, key=lambda r: -r["seconds"]):
        s = r["stages"]
        print(f"{r['id'][:58]:58s} {r['seconds']:7.1f} {s['derive']:7.1f} {s['numeric']:8.1f} {s['simulate']:9.1f}")


if __name__ == "__main__":
    main()
