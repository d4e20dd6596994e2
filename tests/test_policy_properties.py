"""Property: no generated [policy] table makes `spatialinno run` end other than with exit 0 or 2
(a named user error), and never with a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from step_fuzz import assert_step_runs_or_names_the_error

N, T = 10, 7
FIRST = {0: 2002, 1: 2002, 2: 2003, 3: 2004, 4: 2004, 5: 2005}  # units 6-9 never treated
CSV = "unit,year,y,x,d,off\n" + "".join(
    f"U{u},{2000 + t},{((u * 7 + t * 3) % 11 + 1.5) * (1 + 0.1 * t)},{(u + 2 * t) % 5 - 1.25},"
    f"{int(u in FIRST and 2000 + t >= FIRST[u])},{int(t == 3 and u == 1)}\n"
    for u in range(N) for t in range(T))
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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=3))
def test_no_policy_table_crashes_the_cli(edits):
    assert_step_runs_or_names_the_error("policy", {**BASE, **edits}, CSV, N)
