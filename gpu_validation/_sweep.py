"""Sweeps that survive: a card's simulation over a grid of points x seeds, one record per finished
(point, seed), appended to a results file as it completes.

The store is JSON lines (``.jsonl``, or a directory: ``DIR/<card id>.jsonl``) or SQLite
(``.sqlite`` / ``.db``). A JSON-lines record is written with one ``write`` of a whole line, then
flushed and fsync'ed, so a SIGKILL loses at most the unit in flight; on resume a torn last line is
cut off and every finished (point, seed) is skipped, none repeated. SQLite commits each record.
"""
from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from theory import InputError


def units(grid: Mapping[str, Sequence[float]], seeds: Sequence[int]) -> list[tuple[dict, int]]:
    """Every (point, seed) of the grid's product, in a fixed order."""
    names = list(grid)
    points = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))] or [{}]
    return [(p, s) for p in points for s in seeds]


def unit_key(point: Mapping[str, object], seed: int) -> str:
    """The identity of a unit: its point (numbers as floats, so 1 and 1.0 are one point) and seed."""
    def norm(v):
        return [norm(x) for x in v] if isinstance(v, (list, tuple)) else float(v)
    return json.dumps({"point": {k: norm(v) for k, v in sorted(point.items())}, "seed": int(seed)}, sort_keys=True)


def run_unit(card, point: Mapping[str, object], seed: int, device: str = "auto", steps: int | None = None) -> dict:
    """One simulation of ``card`` at ``point`` with ``seed``: the record a sweep stores."""
    from gpu_validation._simulate import simulate
    started = time.perf_counter()
    result = simulate(card, at=dict(point), device=device, seed=int(seed), steps=steps)
    return {"id": card.id, "point": dict(point), "seed": int(seed), "agrees": bool(result.agrees),
            "verdicts": [v.to_json() for v in result.verdicts], "device": result.device,
            "seconds": round(time.perf_counter() - started, 3), "versions": result.versions,
            "result": result.to_json()}


def _clean(obj):
    """JSON without NaN/inf: non-finite floats become their names ("inf", "nan")."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


class Store:
    """Finished records by key; ``add`` persists one before returning."""

    def __init__(self, path: Path, card_id: str, resume: bool):
        path = Path(path)
        if path.is_dir() or (not path.suffix and not path.exists()):
            path.mkdir(parents=True, exist_ok=True)
            path = path / f"{card_id}.jsonl"
        self.path = path
        self.sqlite = path.suffix in (".sqlite", ".db")
        exists = path.exists() and path.stat().st_size > 0
        if exists and not resume:
            raise InputError(f"{path} already holds results: add --resume to continue it (or choose another --out)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
        self.done: dict[str, dict] = {}
        if self.sqlite:
            self.db = sqlite3.connect(path)
            self.db.execute("CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, card TEXT, record TEXT)")
            self.db.commit()
            for key, rec in self.db.execute("SELECT key, record FROM records"):
                self.done[key] = json.loads(rec)
        else:
            self._load_jsonl()

    def _load_jsonl(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # a torn last line (killed mid-write): cut below
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break
            self.done[unit_key(rec["point"], rec["seed"])] = rec
            good += len(line)
        if good < len(data):
            with self.path.open("r+b") as f:
                f.truncate(good)

    def add(self, record: dict) -> None:
        key = unit_key(record["point"], record["seed"])
        text = json.dumps(_clean(record), sort_keys=True, allow_nan=False, default=str)
        if self.sqlite:
            self.db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (key, record["id"], text))
            self.db.commit()
        else:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (text + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        self.done[key] = record

    def close(self) -> None:
        if self.sqlite:
            self.db.close()
