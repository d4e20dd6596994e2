"""spatialinno: spatial econometrics of innovation in China's cities.

Pipeline stages, one module each: ``cities`` (unit registry and history), ``counties`` (the
county-level registry and history), ``boundaries``
(shipped and user boundary layers), ``panel`` and ``yearbook`` (yearbook files and the join),
``index`` (NQPF composite indices), ``describe`` (descriptive statistics), ``weights`` (the
``Weights`` value object), ``esda`` (Moran/LISA by year), ``disparity`` (Dagum Gini, Theil,
sigma-, beta- and club convergence by agglomeration or region), ``distribution`` (kernel
densities by year), ``dynamics`` (classic, spatial and LISA Markov chains; centre of gravity and
standard deviational ellipse), ``coupling`` (coupling coordination degree, obstacle degree),
``geodetector`` (the geographical detector), ``policy`` (pilot registry and spatial
difference-in-differences), ``agglomerations`` (the 19 urban agglomerations),
``regions`` (study regions), ``models`` (fixed-effects spatial panel models: ``fit``,
``etable``, ``effects_table``), ``plots`` (figures; ``mapframe``: the standard map frame of
China), ``report`` (tables: Markdown, LaTeX, Word, CSV, HTML), ``datasets`` (the shipped demo
and census panels), ``runner``/``cli`` (end-to-end runs), ``grid`` (robustness grids and loops
of fits, serial or on Dask).
"""

from __future__ import annotations

from . import (agglomerations, cities, counties, coupling, datasets, disparity, distribution, dynamics,
               esda, geodetector, grid, policy, regions)
from .boundaries import load_boundaries
from .describe import describe
from .index import IndexResult, build_index
from .models import choose_model, effects_table, etable, fit
from .panel import JoinReport, Panel, load_panel, read_table
from .runner import demo_panel
from .weights import Weights, WeightsSequence

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "cities",
    "counties",
    "datasets",
    "agglomerations",
    "esda",
    "Weights",
    "WeightsSequence",
    "fit",
    "etable",
    "effects_table",
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
    "dynamics",
    "coupling",
    "geodetector",
    "policy",
    "grid",
]
