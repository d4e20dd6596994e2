"""The peer packages the tests compare with, and the versions the comparisons were checked against.

Every test that compares our numbers with a peer's imports the peer through :func:`peer`, so that

* the version it was checked against is written down here (and printed when it is skipped), and
* a peer release that is *known* to change the numbers a test compares skips that test with the
  reason printed, instead of failing for a reason that is not ours.

A peer release that is not listed here runs the comparison: drift must be seen, not hidden. When a
comparison fails on a newer peer, find out why, then either fix our code, or add the release and
the reason to ``KNOWN_CHANGES`` (only when the peer's own numbers changed, e.g. a bug fixed).
``bash .ci/run --newest`` runs the suite against the newest release of every dependency.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

import pytest

# The versions every peer comparison was last checked against (the CI constraints file pins them).
CHECKED: dict[str, str] = {
    "spreg": "1.9.0",
    "esda": "2.8.2",  # giddy 2.3.8 requires esda<2.9; 2.8.2 and 2.9.0 have the same moran.py
    "libpysal": "4.14.1",
    "pymcdm": "1.4.0",
    "linearmodels": "7.1",
    "pygeoda": "0.1.3",
    "inequality": "1.1.2",
    "convergence_clubs": "0.1.2",
    "pointpats": "2.5.5",
    "geodetector": "0.2.0",
    "pyfixest": "0.60.0",
}

# (package, predicate on the installed version, why the compared numbers differ there).
# Empty today: no release of a peer is known to change a number we compare. (The one comparison
# that moved between installs, spreg's ML_ErrorRE with a non-symmetric W, moved with numpy's
# LAPACK, not with spreg; it is no longer asserted, see tests/models/test_choose_vs_spreg.py.)
# Entries look like ("spreg", "<1.9", "why the numbers differ in those releases").
KNOWN_CHANGES: list[tuple[str, str, str]] = []


def _parse(v: str) -> tuple[int, ...]:
    parts = []
    for p in v.split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _matches(installed: str, spec: str) -> bool:
    op, ref = (spec[:2], spec[2:]) if spec[:2] in ("<=", ">=", "==") else (spec[:1], spec[1:])
    a, b = _parse(installed), _parse(ref)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b}[op]


def installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def peer(name: str) -> ModuleType:
    """Import the peer ``name`` for a comparison test; skip (with the reason) when it is missing or
    its installed release is known to change the numbers compared."""
    module = pytest.importorskip(name, reason=f"peer {name} is not installed")
    got = installed_version(name) or "unknown"
    for pkg, spec, why in KNOWN_CHANGES:
        if pkg == name and got != "unknown" and _matches(got, spec):
            pytest.skip(f"{name} {got} installed; checked against {CHECKED[name]}: {why}")
    return module
