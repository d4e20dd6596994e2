"""spatialinno: spatial econometrics of innovation in China's cities.

Pipeline stages, one module each: ``cities`` (unit registry and history), ``boundaries``
(shipped and user boundary layers), ``panel`` (yearbook panels and the join), ``index``
(NQPF composite indices), ``report`` (table export), ``runner``/``cli`` (end-to-end runs).
``weights`` (the ``Weights`` value object), ``esda`` (Moran/LISA by year), ``plots`` (figures;
``mapframe``: the standard map frame of China every map is drawn in),
``agglomerations`` (the 19 urban agglomerations), ``models`` (fixed-effects spatial panel
models: ``fit``, ``etable``), ``disparity`` (Dagum Gini, Theil, sigma-, beta- and club
convergence by agglomeration or region), ``distribution`` (kernel densities by year),
``policy`` (pilot registry and spatial difference-in-differences).
"""

from __future__ import annotations

from . import agglomerations, cities, datasets, disparity, distribution, esda, policy, regions
from .boundaries import load_boundaries
from .describe import describe
from .index import IndexResult, build_index
from .models import choose_model, etable, fit
from .panel import JoinReport, Panel, load_panel, read_table
from .runner import demo_panel
from .weights import Weights

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "cities",
    "datasets",
    "agglomerations",
    "esda",
    "Weights",
    "fit",
    "etable",
    "choose_model",
    "load_boundaries",
    "load_panel",
    "read_table",
    "Panel",
    "JoinReport",
    "build_index",
    "IndexResult",
    "demo_panel",
    "describe",
    "regions",
    "disparity",
    "distribution",
    "policy",
]
