"""Property: no generated [disparity] table makes `spatialinno run` end other than with exit 0 or 2
(a named user error), and never with a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from step_fuzz import assert_step_runs_or_names_the_error

N, T = 8, 6
CSV = "unit,year,y,x,g\n" + "".join(
    f"U{u},{2000 + t},{((u * 7 + t * 3) % 11 + 1.5) * (1 + 0.1 * t)},{(u + t) % 5 - 1.25},"
    f"{'ab'[u % 2]}\n" for u in range(N) for t in range(T))
BASE = {"variable": "y", "by": ["g"], "kernel": False}
KEYS = st.sampled_from(["variable", "by", "overlap", "outside", "bootstrap", "level", "kernel",
                        "kernel_by", "bandwidth", "kernel_years", "beta", "weights", "effects",
                        "controls", "cov", "clubs", "hp_lambda", "time_trim", "missing"])
VALUES = st.one_of(
    st.sampled_from(["", "y", "x", "g", "z", "region", "agglomeration", "ring", "nope", "fe",
                     "sdm", "twoway", "none", "unit", "drop", "group", "raise", "plan_order",
                     "silverman", "scott", "clustered", "drop_units"]),
    st.integers(-3, 30), st.floats(-1, 2, allow_nan=False), st.booleans(),
    st.lists(st.sampled_from(["y", "x", "g", "fe", "sar", "sem", "region", ""]), max_size=3),
    st.lists(st.integers(1999, 2006), max_size=2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_no_disparity_table_crashes_the_cli(edits):
    assert_step_runs_or_names_the_error("disparity", {**BASE, **edits}, CSV, N)
