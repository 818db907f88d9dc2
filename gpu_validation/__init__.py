"""optverify's simulation layer: a card's update rule compiled to torch (imported lazily), batched
over a grid of step sizes and seeds; hand-written reference optimisers beside it, tested equal."""
from gpu_validation._device import DeviceError, pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import GridPoint, SimResult, Verdict, run_batch, simulate



def scenario_names() -> frozenset[str]:
    """Every experiment a card's Simulation may name as its scenario (imports torch). A card that
    names none is simulated from its own update rule."""
    from gpu_validation._simulate import NETWORK_SCENARIOS
    from gpu_validation._scenarios import scenarios
    return frozenset(NETWORK_SCENARIOS) | frozenset(scenarios())


__all__ = ["Curve", "Panel", "ScenarioResult", "scenario_names", "simulate", "SimResult", "GridPoint", "Verdict", "run_batch", "pick_device", "DeviceError"]
