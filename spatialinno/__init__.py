"""spatialinno: spatial econometrics of innovation in China's cities.

Pipeline stages, one module each: ``cities`` (unit registry and history), ``boundaries``
(shipped and user boundary layers), ``panel`` (yearbook panels and the join), ``index``
(NQPF composite indices), ``weights``, ``esda``, ``models``, ``agglomerations``, ``report``.
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
