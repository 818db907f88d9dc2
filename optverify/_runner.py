"""Check cards concurrently: a process pool by default, Ray tasks when asked for.

``check_one`` is the unit of work (one card: symbolic and numeric checks, then its simulation)
and returns plain data, so that any executor can carry it. ``run`` yields results in completion
order; the CLI prints them in catalogue order as the prefix completes. Each worker limits its BLAS
and torch threads to its share of the cores, so N workers do not oversubscribe them.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    examples: int
    seed: int
    budget: float | None
    simulate: bool
    device: str
    verbose: bool
    fresh: bool
    cards_dir: str | None
    threads: int = 0   # per worker; 0: leave as is


def threads_per_worker(workers: int, units: int) -> int:
    """Each worker's share of the cores (BLAS and torch threads), for ``units`` pieces of work."""
    return max(1, (os.cpu_count() or 1) // max(1, min(workers, units)))


def _limit_threads(threads: int) -> None:
    if threads <= 0:
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:  # pragma: no cover
        pass


def simulation_checks(card, device: str, seed: int):
    """The simulation's verdicts as CheckResults (torch is imported only here)."""
    from gpu_validation import simulate
    from numerics import CheckResult
    from theory import InputError
    try:
        result = simulate(card, device=device, seed=seed)
    except InputError as exc:  # the rule cannot be simulated as written: say so, judge by the other routes
        return [CheckResult("simulation", None, f"not run: {exc}", card.claims[0].name)]
    where = ", ".join(f"{k}={v:g}" for k, v in getattr(result, "at", {}).items())
    return [CheckResult("simulation", v.agrees, f"[{result.device}, {result.steps} steps x {result.seeds} seeds"
                        f"{', at ' + where if where else ''}] {v.detail}", v.claim)
            for v in result.verdicts if v.agrees is not None]


def check_card(card, opts: Options) -> dict:
    """One card, in this process: the report's JSON with per-stage seconds, and its text."""
    from numerics import check
    from numerics._environment import environment
    from optverify.render import report_text
    from theory import _diskcache
    _diskcache.fresh(opts.fresh)
    started = time.perf_counter()
    report = check(card, examples=opts.examples, seed=opts.seed, budget=opts.budget)
    simulated = 0.0
    if opts.simulate and card.simulation is not None and report.gave_up is None:
        t = time.perf_counter()
        report = report.with_checks(simulation_checks(card, opts.device, opts.seed))
        simulated = time.perf_counter() - t
    stages = {**report.extra.get("seconds", {}), "simulate": round(simulated, 3)}
    out = report.to_json()
    out.update({"seconds": round(time.perf_counter() - started, 3), "stages": stages, "environment": environment(),
                "pid": os.getpid()})
    return {"id": card.id, "passed": report.passed, "status": report.status, "json": out,
            "text": report_text(report, verbose=opts.verbose)}


def check_one(index: int, card_id: str, opts: Options) -> tuple[int, dict]:
    """The worker's entry point: the card by id (a user folder is loaded again here)."""
    from theory import get, load_dir
    _limit_threads(opts.threads)
    extra = load_dir(opts.cards_dir) if opts.cards_dir else []
    return index, check_card(get(card_id, extra=extra), opts)


def run(card_ids: Sequence[str], opts: Options, workers: int, executor: str = "process",
        address: str | None = None) -> Iterator[tuple[int, dict]]:
    """Results as they complete: (index into ``card_ids``, result). Spawned workers: no forked
    BLAS or torch thread state."""
    yield from map_unordered(check_one, [(i, cid, opts) for i, cid in enumerate(card_ids)], workers, executor, address)


# -- sweeps ------------------------------------------------------------------------------------------

def sweep_one(index: int, card_id: str, cards_dir: str | None, point: dict, seed: int, device: str,
              steps: int | None, threads: int = 0) -> tuple[int, dict]:
    from gpu_validation._sweep import run_unit
    from theory import get, load_dir
    _limit_threads(threads)
    extra = load_dir(cards_dir) if cards_dir else []
    return index, run_unit(get(card_id, extra=extra), point, seed, device, steps)


def map_unordered(fn, calls: Sequence[tuple], workers: int, executor: str = "process",
                  address: str | None = None) -> Iterator:
    """fn(*call) for every call, results as they complete (in this process when workers <= 1)."""
    if executor == "ray":
        from theory import InputError
        try:
            import ray
        except ImportError:
            raise InputError("--executor ray needs Ray: python -m pip install 'optverify[ray]'") from None
        if not ray.is_initialized():
            ray.init(address=address or None, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
        task = ray.remote(fn)
        pending = [task.remote(*c) for c in calls]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
        return
    if workers <= 1 or len(calls) <= 1:
        for c in calls:
            yield fn(*c)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for f in as_completed([pool.submit(fn, *c) for c in calls]):
            yield f.result()
