"""Shared by the property tests that feed generated tables of one runner step to the CLI
(tests/test_disparity_properties.py, tests/test_policy_properties.py): a tiny panel on a ring of
units, the TOML spelling of generated values, and the run whose exit must be 0 or 2."""

from __future__ import annotations

import contextlib
import io
import tempfile
import tomllib
from pathlib import Path

from spatialinno.cli import main


def ring_gal(n: int) -> str:
    """A GAL file linking unit Ui with U(i-1) and U(i+1) (mod n)."""
    return f"0 {n}\n" + "".join(f"U{i} 2\nU{(i - 1) % n} U{(i + 1) % n}\n" for i in range(n))


def toml_value(v: object) -> str:
    """``v`` (bool, number, list or text) written as a TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v) + '"'


def assert_step_runs_or_names_the_error(step: str, table: dict, csv: str, n_units: int) -> None:
    """Run ``[step]`` = ``table`` on ``csv`` (columns unit, year, ...) with the ring W "ring":
    the CLI must end with 0 or 2 (a named user error), never an internal error or traceback."""
    text = ("[analysis]\ntitle = \"fuzz\"\nseed = 1\n\n[data]\npanel = \"tiny.csv\"\n"
            "unit = \"unit\"\ntime = \"year\"\nregistry = false\nboundaries = \"none\"\n\n"
            f"[weights.ring]\ntype = \"file\"\npath = \"ring.gal\"\n\n[{step}]\n"
            + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items()))
    tomllib.loads(text)  # the generator writes valid TOML; the checks are the runner's
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "tiny.csv").write_text(csv, encoding="utf-8")
        (root / "ring.gal").write_text(ring_gal(n_units), encoding="utf-8")
        (root / "a.toml").write_text(text, encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(root / "a.toml"), "--out", str(root / "out"), "--quiet"])
    message = err.getvalue()
    assert code in (0, 2), message + "\n" + text
    assert "Traceback" not in message and "internal error" not in message, message + "\n" + text
