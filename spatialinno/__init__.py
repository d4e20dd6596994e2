"""spatialinno: spatial econometrics of innovation in China's cities.

Pipeline stages, one module each: ``cities`` (unit registry and history), ``boundaries``
(shipped and user boundary layers), ``panel`` (yearbook panels and the join), ``index``
(NQPF composite indices), ``report`` (table export: Markdown, LaTeX, Word, CSV, HTML), ``runner``/``cli`` (end-to-end runs).
``weights`` (the ``Weights`` value object), ``esda`` (Moran/LISA by year), ``plots`` (figures),
``agglomerations`` (the 19 urban agglomerations), ``models`` (fixed-effects spatial panel
models: ``fit``, ``etable``, ``effects_table``).
"""

from __future__ import annotations

from . import agglomerations, cities, esda, regions
from .boundaries import load_boundaries
from .describe import describe
from .index import IndexResult, build_index
from .models import choose_model, effects_table, etable, fit
from .panel import JoinReport, Panel, load_panel, read_table
from .runner import demo_panel
from .weights import Weights

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "cities",
    "agglomerations",
    "esda",
    "Weights",
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
]
