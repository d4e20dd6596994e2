"""choose_model: the table, the recommendation, exports, and the SYNTHETIC demo panel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spatialinno.errors import ModelSpecificationError
from spatialinno.models.choose import TABLE_COLUMNS, ModelChoiceResult, choose_model

CIGAR = "logc ~ logp + logy"


@pytest.fixture(scope="module")
def choice(cigar, usa46):
    return choose_model(CIGAR, cigar, usa46, unit="state", time="year", effects="twoway",
                        note="Cigar test data")


def test_table_shape_and_columns(choice):
    t = choice.table
    assert list(t.columns) == TABLE_COLUMNS
    assert len(t) == 16 + 2 + 4 + 1 + 1  # LM, LR FE, SDM restrictions, Hausman, CD
    assert set(t["decision"]) <= {"reject", "do not reject", "n/a"}
    assert (t["p_value"].between(0, 1)).all()
    assert list(choice.notes.columns) == ["test", "note"]


def test_recommendation_cigar(choice):
    # SDM vs SAR and vs SEM both rejected (LR and Wald) on two-way FE: SDM (as in Elhorst 2014)
    assert choice.recommended == "sdm"
    assert choice.recommendation.startswith("Recommended: SDM with two-way FE.")
    t = choice.table.set_index("test")
    for name in ("Wald SDM vs SAR", "LR SDM vs SAR", "Wald SDM vs SEM", "LR SDM vs SEM"):
        assert t.loc[name, "decision"] == "reject"
        assert t.loc[name, "df"] == 2
    # Wald and LR of the same hypothesis are asymptotically equivalent: close here
    assert t.loc["Wald SDM vs SAR", "statistic"] == pytest.approx(
        t.loc["LR SDM vs SAR", "statistic"], rel=0.1)
    assert t.loc["Wald SDM vs SEM", "statistic"] == pytest.approx(
        t.loc["LR SDM vs SEM", "statistic"], rel=0.1)


def test_lr_consistent_with_fits(choice):
    f = choice.fits
    t = choice.table.set_index("test")
    assert t.loc["LR SDM vs SAR", "statistic"] == pytest.approx(
        2 * (f["sdm"].loglik - f["sar"].loglik))
    assert t.loc["LR SDM vs SEM", "statistic"] == pytest.approx(
        2 * (f["sdm"].loglik - f["sem"].loglik))
    assert f["sdm"].lee_yu == "none"


def test_exports_carry_note(choice):
    md = choice.to_markdown()
    assert "| test | null | statistic | df | p_value | decision |" in md
    assert "Cigar test data" in md and "Recommended: SDM" in md
    tex = choice.to_latex(caption="Model choice")
    assert r"\toprule" in tex and "Cigar test data" in tex
    assert choice.to_csv().startswith("test,null,statistic,df,p_value,decision")
    assert "Recommended" in str(choice)
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.recommended = "sar"  # type: ignore[misc]


def test_residual_moran(choice):
    m = choice.residual_moran
    assert m is not None and len(m.table) == 30
    assert np.isfinite(m.table["I"]).all()


def test_errors(cigar, usa46):
    with pytest.raises(ModelSpecificationError, match="level="):
        choose_model(CIGAR, cigar, usa46, unit="state", time="year", level=1.5)
    with pytest.raises(ModelSpecificationError, match="effects="):
        choose_model(CIGAR, cigar, usa46, unit="state", time="year", effects="bogus")


def test_unit_effects_without_hausman(cigar, usa46):
    r = choose_model(CIGAR, cigar, usa46, unit="state", time="year", effects="unit",
                     hausman_test=False)
    assert "Hausman FE vs RE" not in set(r.table["test"])
    assert isinstance(r, ModelChoiceResult) and r.effects == "unit"


def test_demo_panel_synthetic():
    """The SYNTHETIC demo panel (337 cities, 2011-2022): runs, labelled by the caller."""
    import spatialinno as si
    from spatialinno.data.make_demo_panel import INDICATORS
    from spatialinno.runner import SYNTHETIC_NOTE
    panel = si.demo_panel()
    dims = {d: [k for k, v in INDICATORS.items() if v[0] == d]
            for d in ("innovation", "digital", "green")}
    idx = si.build_index(panel.data, {k: v[1] for k, v in INDICATORS.items()}, method="entropy",
                         dimensions=dims, unit="adcode", time="year", name="nqpf")
    data = idx.with_index(panel.data)
    w = si.Weights.contiguity(islands="connect", k_islands=2)
    r = choose_model("ln_gtfp ~ nqpf + np.log(pgdp) + np.log(fdi) + human_capital",
                     data, w, unit="adcode", time="year", note=SYNTHETIC_NOTE)
    assert "SYNTHETIC DATA" in r.to_markdown() and "SYNTHETIC DATA" in r.to_latex()
    assert r.recommended in ("sdm", "sar", "sem", "ols")
    assert r.fits["sdm"].n == 337 and r.fits["sdm"].T == 12


def test_pesaran_cd_rows(choice, cigar, usa46):
    tests = set(choice.table["test"])
    assert "Pesaran CD (non-spatial unit-FE residuals)" in tests
    # with time effects the residuals of each period sum to zero: CD is not reported for them
    assert not any(t.startswith("Pesaran CD (SDM") for t in tests)
    r = choose_model(CIGAR, cigar, usa46, unit="state", time="year", effects="unit",
                     hausman_test=False)
    assert "Pesaran CD (SDM residuals, unit FE)" in set(r.table["test"])


def test_residual_moran_of_fit(cigar, usa46):
    from spatialinno.models import fit
    from spatialinno.models.diagnostics import residual_moran
    res = fit(CIGAR, cigar, usa46, model="sdm", effects="twoway", unit="state", time="year",
              effects_draws=0)
    m = residual_moran(res, usa46, note="test")
    assert len(m.table) == 30 and list(m.table["year"])[:2] == [63, 64]
    assert "test" in m.to_markdown()
