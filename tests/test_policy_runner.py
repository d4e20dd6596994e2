"""The runner's [policy] step: its keys' error messages and a small run on part of the demo."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from spatialinno.errors import AnalysisFileError, AnalysisRunError
from spatialinno.runner import run

BASE = """
[analysis]
title = "policy"
seed = 1

[data]
panel = "demo"
unit = "city"
time = "year"
merged = "aggregate"
aggregate = "demo"
region = ["江苏", "浙江", "安徽"]

[data.derive]
ln_pgdp = "log(pgdp)"

[weights.queen]
type = "contiguity"
islands = "connect"
k_islands = 2

[policy]
weights = "queen"
{extra}
"""
DEMO = 'merge = "demo_policy"\noutcome = "ln_gtfp_pilot"\n'


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "analysis.toml"
    path.write_text(BASE.format(extra=extra), encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, message", [
    (DEMO, "policy: give exactly one of treatment (a 0/1 column of the panel) and programme"),
    (DEMO + 'treatment = "pilot"\nprogramme = "innovative_city"', "policy: give exactly one of"),
    (DEMO + 'programme = "smart_city"', "policy.programme: unknown programme 'smart_city'; "
                                        "expected one of ['innovative_city'"),
    (DEMO + 'programme = "broadband_china"\nlevels = ["city"]',
     "policy.levels: unknown value(s) ['city']; expected some of ['prefecture'"),
    (DEMO + 'treatment = "pilot"\nstatuses = ["confirmed"]',
     "policy.statuses: filters the pilot registry: use it with programme"),
    (DEMO + 'treatment = "pilot"\nwindow = [-1, 3]', "policy.window: expected [first lead <= -2"),
    (DEMO + 'treatment = "pilot"\nplacebo = 50\nplacebo_alpha = 0.01',
     "policy.placebo_alpha: a placebo p-value below 0.01 needs at least 99 placebo draws"),
    (DEMO + 'treatment = "pilot"\nplacebo = -1', "policy.placebo: expected a number of placebo "
                                                 "draws >= 0"),
    (DEMO + 'treatment = "pilot"\nmodel = "gns"', "policy.model: expected one of ['sdm', 'sar', "
                                                  "'sem', 'sdem', 'slx'], got 'gns'"),
    (DEMO + 'treatment = "pilot"\nalready_treated = "keep"',
     "policy.already_treated: expected one of ['raise', 'drop'], got 'keep'"),
    (DEMO + 'treatment = "pilot"\nwithin_km = 0', "policy.within_km: expected a positive distance"),
    (DEMO + 'treatment = "pilot"\ncolour = "red"', "policy.colour: unknown key"),
    (DEMO + 'treatment = "pilot"\ncontrols = ["ln_gtfp_pilot"]',
     "policy.controls: the outcome 'ln_gtfp_pilot' is also a control"),
    (DEMO + 'treatment = "pilot"\ncontrols = ["pilot"]',
     "policy.controls: the treatment 'pilot' is also a control"),
    (DEMO + 'treatment = "pilot"\ncontrols = ["ln_pgdp", "ln_pgdp"]',
     "policy.controls: a control is listed twice"),
    ('outcome = "y"\ntreatment = "pilot"\nweights = "rook"', "weights"),
])
def test_file_errors_name_line_and_key(tmp_path, extra, message):
    text = extra
    if 'weights = "rook"' in extra:  # replace the declared W name
        path = tmp_path / "analysis.toml"
        path.write_text(BASE.format(extra=extra.replace('\nweights = "rook"', ""))
                        .replace('weights = "queen"\n', 'weights = "rook"\n'), encoding="utf-8")
        message = "policy.weights: no weights named 'rook'; declared: ['queen']"
    else:
        path = write(tmp_path, text)
    with pytest.raises(AnalysisFileError, match=re.escape(message)) as err:
        run(path, tmp_path / "out", quiet=True)
    assert f"{path}" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("extra, message", [
    ('outcome = "tfp"\ntreatment = "pilot"\nmerge = "demo_policy"',
     r"\[policy.outcome\]: unknown variable\(s\) \['tfp'\]"),
    (DEMO + 'treatment = "pilot"\ncontrols = ["x9"]',
     r"\[policy.controls\]: unknown variable\(s\) \['x9'\]"),
    ('outcome = "ln_gtfp"\ntreatment = "pilot"',
     r"\[policy.treatment\]: unknown variable\(s\) \['pilot'\]"),
    ('outcome = "ln_gtfp"\nprogramme = "innovative_city"',
     r"\[policy\]: .*pilot unit\(s\) of 'innovative_city' are not in the panel: 130200 唐山市.*"
     r"\[policy\] missing_units = \"drop\""),
    ('outcome = "ln_gtfp"\nprogramme = "innovative_city"\nmissing_units = "drop"',
     r"\[policy\]: .*treated in or before the first period 2011.*320100 \(2010\).*"
     r"\[policy\] already_treated = \"drop\""),
    ('outcome = "ln_gtfp"\ntreatment = "pilot"\nmerge = "nowhere.csv"',
     r"\[policy.merge\]: file not found"),
])
def test_run_errors_name_the_key(tmp_path, extra, message):
    with pytest.raises(AnalysisRunError, match=message):
        run(write(tmp_path, extra), tmp_path / "out", quiet=True)


def test_a_small_policy_run(tmp_path):
    extra = DEMO + ('treatment = "pilot"\ncontrols = ["ln_pgdp"]\nwindow = [-3, 3]\n'
                    'placebo = 19\ndraws = 200\nwithin_km = 150')
    res = run(write(tmp_path, extra), tmp_path / "out", quiet=True)
    tables = tmp_path / "out" / "tables"
    did = pd.read_csv(tables / "policy_did.csv", comment="#", keep_default_na=False)
    assert list(did.columns)[1:] == ["(1) TWFE", "(2) TWFE + W*D", "(3) did2s (Gardner)",
                                     "(4) SDM-DID"]
    ev = pd.read_csv(tables / "policy_event_study.csv", comment="#")
    assert list(ev["event_time"]) == [-3, -2, -1, 0, 1, 2, 3]
    pl = pd.read_csv(tables / "policy_placebo.csv", comment="#")
    assert list(pl["draws"].unique()) == [19]
    for name in ("policy_event_study", "policy_placebo"):
        assert f"figures/{name}.png" in res.outputs
    assert any(i["role"] == "policy.merge" for i in res.manifest["inputs"])
    assert "Policy evaluation: spatial DID of pilot" in (tmp_path / "out" / "report.html") \
        .read_text(encoding="utf-8")
