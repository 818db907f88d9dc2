"""optverify's simulation layer: the real algorithms in torch (imported lazily), batched over a
grid of step sizes and seeds, with a naive reference loop beside the fast path."""
from gpu_validation._device import DeviceError, pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import GridPoint, SimResult, Verdict, run_batch, simulate



def algorithms() -> frozenset[str]:
    """Every algorithm a card's Simulation may name (imports torch)."""
    from gpu_validation._algorithms import ALGORITHMS
    from gpu_validation._simulate import NETWORK_SCENARIOS
    from gpu_validation._scenarios import scenarios
    from gpu_validation._zo import ZO_METHODS
    return frozenset(ALGORITHMS) | frozenset(ZO_METHODS) | frozenset(NETWORK_SCENARIOS) | frozenset(scenarios())


__all__ = ["Curve", "Panel", "ScenarioResult", "algorithms", "simulate", "SimResult", "GridPoint", "Verdict", "run_batch", "pick_device", "DeviceError"]
