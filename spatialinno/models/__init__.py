"""Fixed-effects spatial panel models: SAR, SEM, SDM, SDEM, SLX, SAC, GNS on one likelihood core.

Layout: :mod:`.spec` (models as data), :mod:`.core` (transforms, log-determinants, concentrated
likelihood, information matrix, Lee-Yu), :mod:`.effects` (direct/indirect/total with inference),
:mod:`.results` (immutable results), :mod:`.api` (``fit``, ``fit_array``), :mod:`.table`
(``etable``, ``effects_table``), :mod:`.diagnostics` (LM, LR, Wald, Hausman, Pesaran CD), :mod:`.random_effects`
(random-effects SAR/SDM/SEM by ML), :mod:`.choose` (``choose_model``: the Elhorst sequence),
:mod:`.dynamic` (``fit_dynamic``: dynamic SAR/SDM with y(t-1) and W y(t-1), bias corrections,
short- and long-run effects),
:mod:`.checks` (the input checks every entry point runs before the core).
Convention differences to splm, spatialreg, SDPDmod, Elhorst and spreg: ``CONVENTIONS.md`` here.
"""

from __future__ import annotations

from . import diagnostics
from .api import TWO_W_MODELS, TwoWResults, fit, fit_array, fit_two_w, fit_two_w_array
from .choose import ModelChoiceResult, choose_model
from .dynamic import DynamicPanelResults, fit_dynamic, fit_dynamic_array
from .random_effects import RandomEffectsResults, fit_re
from .core import Eigen, SparseLU
from .logdet import Chebyshev, MonteCarlo
from ..errors import (BoundaryWarning, CollinearityWarning, FlatLikelihoodWarning,
                         ModelSpecificationError, UnbalancedPanelError, WeightsAlignmentError)
from .results import SpatialPanelResults
from .spec import MODELS, ModelSpec, get_spec
from .table import effects_table, etable

__all__ = [
    "fit", "fit_array", "fit_dynamic", "fit_dynamic_array", "DynamicPanelResults", "fit_two_w", "fit_two_w_array", "TwoWResults", "TWO_W_MODELS", "etable", "effects_table", "choose_model", "ModelChoiceResult", "fit_re",
    "RandomEffectsResults", "diagnostics", "Eigen", "SparseLU", "MonteCarlo", "Chebyshev", "SpatialPanelResults", "ModelSpec", "MODELS",
    "get_spec", "ModelSpecificationError", "UnbalancedPanelError", "WeightsAlignmentError",
    "BoundaryWarning", "FlatLikelihoodWarning", "CollinearityWarning",
]
