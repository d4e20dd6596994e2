"""Property: no generated analysis file makes `spatialinno run` end other than with exit 0 or 2
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

from runner_fixtures import PLAIN_CSV

RING_GAL = "0 4\nU0 2\nU1 U3\nU1 2\nU0 U2\nU2 2\nU1 U3\nU3 2\nU2 U0\n"

BASE = {
    "analysis": {"title": "fuzz", "seed": 1},
    "data": {"panel": "tiny.csv", "unit": "unit", "time": "year", "registry": False,
             "boundaries": "none"},
    "weights": {"ring": {"type": "file", "path": "ring.gal"}},
    "describe": {"variables": ["y", "x"]},
    "esda": {"variables": ["y"], "weights": "ring", "permutations": 19},
    "models": [{"name": "m", "formula": "y ~ x", "model": "sar", "effects": "unit",
                "weights": "ring", "draws": 20}],
}
VALUES = st.one_of(st.sampled_from(["", " ", "y", "x", "ring", "nope", "sar", "sdm", "twoway",
                                    "none", "unit", "demo", "y ~ x", "y ~ nope", "log(y)",
                                    "drop_units", "error", "layer", "panel", "tiny.csv", "a/b"]),
                   st.integers(-5, 5), st.floats(-2, 2, allow_nan=False), st.booleans(),
                   st.lists(st.sampled_from(["y", "x", "z", ""]), max_size=3))
PATHS = st.sampled_from([("analysis", "seed"), ("analysis", "title"), ("data", "unit"),
                         ("data", "time"), ("data", "panel"), ("data", "registry"),
                         ("data", "region"), ("data", "skiprows"), ("data", "percent"),
                         ("describe", "variables"), ("describe", "by"), ("esda", "variables"),
                         ("esda", "weights"), ("esda", "permutations"), ("esda", "alpha"),
                         ("esda", "missing"), ("weights", "ring", "type"),
                         ("weights", "ring", "units"), ("weights", "ring", "k"),
                         ("models", 0, "formula"), ("models", 0, "model"),
                         ("models", 0, "effects"), ("models", 0, "draws"),
                         ("models", 0, "bias_correction"), ("models", 0, "colour")])


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dump(doc: dict) -> str:
    lines = []
    for table in ("analysis", "data", "describe", "esda"):
        if table in doc:
            lines.append(f"[{table}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in doc[table].items()]
    for name, spec in doc.get("weights", {}).items():
        lines.append(f"[weights.{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in spec.items()]
    for spec in doc.get("models", []):
        lines.append("[[models]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in spec.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(PATHS, VALUES), max_size=3), st.sets(st.sampled_from(
    ["describe", "esda", "models", "weights"]), max_size=2))
def test_no_analysis_file_crashes_the_cli(edits, dropped):
    import copy
    doc = copy.deepcopy(BASE)
    for table in dropped:
        doc.pop(table, None)
    for path, value in edits:
        node = doc
        for key in path[:-1]:
            if isinstance(node, dict):
                node = node.setdefault(key, {}) if key != "models" else node.setdefault(key, [{}])
            elif isinstance(node, list):
                node = node[0] if node else {}
        if isinstance(node, dict):
            node[path[-1]] = value
    text = _dump(doc)
    tomllib.loads(text)  # the generator writes valid TOML; the checks are the runner's
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "tiny.csv").write_text(PLAIN_CSV, encoding="utf-8")
        (root / "ring.gal").write_text(RING_GAL, encoding="utf-8")
        (root / "a.toml").write_text(text, encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(root / "a.toml"), "--out", str(root / "out"), "--quiet"])
        message = err.getvalue()
        assert code in (0, 2), message + "\n" + text
        assert "Traceback" not in message and "internal error" not in message, message + "\n" + text
        if code == 2:
            assert message.startswith("spatialinno: error:") and not (root / "out").exists()
