"""optverify's theory layer: cards, claims, the catalogue and symbolic engines (SymPy only)."""
from theory._card import (Bound, Card, Claim, Estimator, Identity, MeanSquareThreshold, Model, ModifiedFlow, Observed,
                          Relation, Simulation, Source, Threshold, WorstCase)
from theory._catalogue import catalogue, get, load_dir
from theory._errors import (AssumptionError, CardError, DerivationError, InputError, SuiteError,
                            UnknownCard)
from theory._oracle import d3, grad, hvp, loss, norm, precond, sign
from theory._parse import parse_claim, parse_formula

__all__ = ["Card", "Claim", "Threshold", "Identity", "Bound", "Observed", "MeanSquareThreshold", "Relation", "Model", "Estimator",
           "ModifiedFlow", "WorstCase", "Simulation", "Source", "grad", "precond", "norm", "sign", "loss", "hvp", "d3",
           "catalogue", "get", "load_dir", "parse_claim", "parse_formula",
           "SuiteError", "CardError", "UnknownCard", "AssumptionError", "InputError", "DerivationError"]
