"""Sphinx configuration of the spatialinno documentation.

Built with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (the ``docs``
extra installs what it needs). Sphinx rather than MkDocs: the docstrings are NumPy style with
``.. math::`` and cross-references (``:func:``, ``:class:``), which Sphinx (autodoc + numpydoc)
renders as written, and MyST-NB executes the worked examples at build time in the same build.

No network at build time: no intersphinx, MathJax served from the build's own ``_static``
(``_ext/offline_mathjax.py``, files of the ``sphinx-mathjax-offline`` package), the furo theme's assets are local.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")
# The notebook kernels import the spatialinno of this tree (not another install), and skip tqdm's
# notice that Jupyter widgets are not installed (a progress bar of a dependency, not ours).
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get(
    "PYTHONPATH", "").split(os.pathsep) if p])
os.environ["PYTHONWARNINGS"] = "ignore:IProgress not found"

import spatialinno  # noqa: E402

project = "spatialinno"
author = "the spatialinno authors"
copyright = "2026, the spatialinno authors"
release = spatialinno.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "offline_mathjax",
]

exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
language = "en"

# -- autodoc / numpydoc ---------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"          # the signature shows them; numpydoc's Parameters say the rest
autodoc_class_signature = "separated"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- MyST / MyST-NB -------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"         # every build executes every notebook on the current code
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_timeout = 180
nb_execution_in_temp = True      # cells write files (yearbook.csv, produc/) into a temporary folder
nb_execution_show_tb = True
nb_merge_streams = True
nb_render_image_options = {"width": "100%"}

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"spatialinno {release}"
html_static_path = ["_static"]
html_css_files = ["spatialinno.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {"navigation_with_keys": True}
pygments_style = "default"
suppress_warnings = ["myst.header"]
