"""Fixed-effects spatial panel models: SAR, SEM, SDM, SDEM, SLX, SAC on one likelihood core.

Layout: :mod:`.spec` (models as data), :mod:`.core` (transforms, log-determinants, concentrated
likelihood, information matrix, Lee-Yu), :mod:`.effects` (direct/indirect/total with inference),
:mod:`.results` (immutable results), :mod:`.api` (``fit``, ``fit_array``), :mod:`.table`
(``etable``).
"""

from __future__ import annotations

from .api import fit, fit_array
from .core import Eigen, SparseLU
from ..errors import (BoundaryWarning, CollinearityWarning, FlatLikelihoodWarning,
                         ModelSpecificationError, UnbalancedPanelError, WeightsAlignmentError)
from .results import SpatialPanelResults
from .spec import MODELS, ModelSpec, get_spec
from .table import etable

__all__ = [
    "fit", "fit_array", "etable", "Eigen", "SparseLU", "SpatialPanelResults", "ModelSpec", "MODELS",
    "get_spec", "ModelSpecificationError", "UnbalancedPanelError", "WeightsAlignmentError",
    "BoundaryWarning", "FlatLikelihoodWarning", "CollinearityWarning",
]
