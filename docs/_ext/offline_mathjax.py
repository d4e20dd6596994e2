"""Serve MathJax from the built site itself (no CDN): copy MathJax 3's ``tex-chtml`` component,
its TeX extensions and its CHTML fonts from the ``sphinx-mathjax-offline`` package (which ships
MathJax 3 as data) into ``_static/mathjax`` and point Sphinx's ``mathjax_path`` at it.

The package's own extension is not used because it does not declare itself safe for parallel
reading (``-j 2``) and copies all of MathJax (24 MB); this one copies what ``tex-chtml`` loads.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

#: What ``tex-chtml.js`` loads: the component, TeX extensions on demand, the CHTML fonts.
PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts")


def mathjax_source() -> Path:
    """The MathJax folder shipped by the ``sphinx-mathjax-offline`` distribution."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax for the offline docs comes from the package "
                           "sphinx-mathjax-offline: pip install -e '.[docs]'")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def _copy(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    src, dst = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)
        else:
            (dst / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dst / part)


def setup(app):
    mathjax_source()  # fail early, with the install hint
    app.config.mathjax_path = "mathjax/tex-chtml.js"
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
