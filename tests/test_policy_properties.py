"""Property: no generated [policy] table makes `spatialinno run` end other than with exit 0 or 2
(a named user error), and never with a traceback."""

from __future__ import annotations

import contextlib
import io
import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno.cli import main

N, T = 10, 7
FIRST = {0: 2002, 1: 2002, 2: 2003, 3: 2004, 4: 2004, 5: 2005}  # units 6-9 never treated
CSV = "unit,year,y,x,d,off\n" + "".join(
    f"U{u},{2000 + t},{((u * 7 + t * 3) % 11 + 1.5) * (1 + 0.1 * t)},{(u + 2 * t) % 5 - 1.25},"
    f"{int(u in FIRST and 2000 + t >= FIRST[u])},{int(t == 3 and u == 1)}\n"
    for u in range(N) for t in range(T))
RING = f"0 {N}\n" + "".join(f"U{i} 2\nU{(i - 1) % N} U{(i + 1) % N}\n" for i in range(N))
BASE = {"outcome": "y", "treatment": "d", "weights": "ring", "window": [-2, 2], "draws": 50}
KEYS = st.sampled_from(["outcome", "treatment", "programme", "controls", "model", "effects",
                        "bias_correction", "draws", "window", "placebo", "placebo_alpha",
                        "robust", "statuses", "levels", "already_treated", "missing_units",
                        "within_km", "merge", "weights"])
VALUES = st.one_of(
    st.sampled_from(["", "y", "x", "d", "off", "nope", "ring", "sdm", "sar", "sem", "sdem",
                     "slx", "twoway", "unit", "none", "raise", "drop", "transform",
                     "innovative_city", "broadband_china", "demo_policy", "confirmed"]),
    st.integers(-3, 30), st.floats(-1, 200, allow_nan=False), st.booleans(),
    st.lists(st.sampled_from(["y", "x", "d", "prefecture", "district", "secondary", ""]),
             max_size=3),
    st.lists(st.integers(-4, 4), max_size=3))


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return '"' + str(v) + '"'


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=3))
def test_no_policy_table_crashes_the_cli(edits):
    table = {**BASE, **edits}
    text = ("[analysis]\ntitle = \"fuzz\"\nseed = 1\n\n[data]\npanel = \"tiny.csv\"\n"
            "unit = \"unit\"\ntime = \"year\"\nregistry = false\nboundaries = \"none\"\n\n"
            "[weights.ring]\ntype = \"file\"\npath = \"ring.gal\"\n\n[policy]\n"
            + "".join(f"{k} = {_value(v)}\n" for k, v in table.items()))
    tomllib.loads(text)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "tiny.csv").write_text(CSV, encoding="utf-8")
        (root / "ring.gal").write_text(RING, encoding="utf-8")
        (root / "a.toml").write_text(text, encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(root / "a.toml"), "--out", str(root / "out"), "--quiet"])
        message = err.getvalue()
        assert code in (0, 2), message + "\n" + text
        assert "Traceback" not in message and "internal error" not in message, message + "\n" + text
