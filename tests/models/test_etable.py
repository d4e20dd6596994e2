"""etable and effects_table: sections, rows, selection, labels, effects labelled exact or
simulated; every number compared with the results objects (none hard-coded)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import EtableOptionError, ModelSpecificationError
from spatialinno.models import diagnostics, effects_table, etable, fit
from spatialinno.report import layout_of

from conftest import PRODUC_FORMULA

X = ["np.log(pcap)", "np.log(pc)", "np.log(emp)", "unemp"]
DRAWS = 200


@pytest.fixture(scope="module")
def fits(produc, states48):
    """SAR, SEM, SDM, SLX, SDEM on Produc (unit effects: the error models allow them with
    any W)."""
    kw = dict(unit="state", time="year", effects_draws=DRAWS, seed=1)
    return [fit(PRODUC_FORMULA, produc, states48, m, "unit", **kw)
            for m in ("sar", "sem", "sdm", "slx", "sdem")]


def rows_of(df: pd.DataFrame) -> dict[str, list[str]]:
    """First row of each label -> its cells (SE rows have the label '')."""
    out: dict[str, list[str]] = {}
    for label, *cells in df.itertuples(index=False, name=None):
        if label and label not in out:
            out[label] = list(cells)
    return out


def below(df: pd.DataFrame, label: str) -> list[str]:
    """The row under ``label`` (standard errors / z / p-values)."""
    pos = df.index[df[""] == label][0]
    return df.iloc[pos + 1, 1:].tolist()


def stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def test_sections_in_order_and_header_rows(fits):
    df = etable(fits)
    layout = layout_of(df)
    titles = [df.iloc[i, 0] for i in layout.sections]
    assert titles == ["Coefficients", "Spatial lags of X", "Spatial parameters",
                      "Direct, indirect and total effects", "Fixed effects", "Fit statistics"]
    for i in layout.sections:
        assert df.iloc[i, 1:].tolist() == [""] * len(fits)
    r = rows_of(df)
    assert r["Model"] == [m.model.upper() for m in fits]
    assert r["Dependent variable"] == [m.dep_var for m in fits]
    assert r["N (cities)"] == [str(m.n) for m in fits]
    assert r["T (years)"] == [str(m.T) for m in fits]
    assert r["Observations"] == [str(m.nobs) for m in fits] == [str(m.n * m.T) for m in fits]
    assert r["Log-likelihood"] == [f"{m.loglik:.4f}" for m in fits]
    assert "Standard errors in parentheses" in layout.note and "p<0.1" in layout.note


def test_coefficients_standard_errors_and_stars_are_the_results(fits):
    df = etable(fits)
    r = rows_of(df)
    for term in X + [f"W*{x}" for x in X] + ["rho", "lambda"]:
        for j, m in enumerate(fits):
            if term not in m.params.index:
                assert r[term][j] == "" and below(df, term)[j] == ""
                continue
            p = float(m.pvalues[term])
            assert r[term][j] == f"{m.params[term]:.4f}" + stars(p), (term, j)
            assert below(df, term)[j] == f"({m.std_errors[term]:.4f})", (term, j)
    t = etable(fits, stat="t", digits=3)
    assert below(t, "rho")[0] == f"({fits[0].tstats['rho']:.3f})"
    assert "z statistics in parentheses" in layout_of(t).note


def test_exact_effects_for_linear_models_simulated_for_lag_models(fits, states48):
    df = etable(fits)
    r = rows_of(df)
    assert r["Effects computed by"] == [f"simulated ({DRAWS})", "exact", f"simulated ({DRAWS})",
                                        "exact", "exact"]
    note = layout_of(df).note
    assert f"{DRAWS} simulated draws" in note and "exact: linear in the parameters" in note
    W = states48[0]
    n = W.shape[0]
    tr, tot = W.diagonal().sum() / n, W.sum() / n
    for j in (1, 3, 4):  # SEM, SLX, SDEM: effects from the parameters, not a simulation mean
        m = fits[j]
        for k, x in enumerate(X):
            b = m.params[x]
            th = m.params[f"W*{x}"] if m.spec.wx else 0.0
            a = np.zeros(len(m.params))  # indirect effect = a' params
            if m.spec.wx:
                a[len(X) + k] = tot - tr
            se = float(np.sqrt(a @ m.cov.to_numpy() @ a))
            assert r[f"Indirect: {x}"][j].rstrip("*") == f"{th * (tot - tr):.4f}"
            if m.spec.wx:
                assert below(df, f"Indirect: {x}")[j] == f"({se:.4f})"
            assert r[f"Direct: {x}"][j].rstrip("*") == f"{b + th * tr:.4f}"
            assert r[f"Total: {x}"][j].rstrip("*") == f"{b + th * tot:.4f}"
        ex = m.exact_effects()
        assert ex.attrs["method"] == "exact"
        sim = m.effects[m.effects["effect"] == "total"]["estimate"].to_numpy()
        assert not np.allclose(sim, ex[ex["effect"] == "total"]["estimate"], rtol=0, atol=1e-12)
    for j in (0, 2):  # SAR, SDM: the simulated effects of the fit
        e = fits[j].effects
        assert e.attrs["method"] == "simulation" and e.attrs["draws"] == DRAWS
        for kind in ("direct", "indirect", "total"):
            row = e[(e["variable"] == "unemp") & (e["effect"] == kind)].iloc[0]
            assert r[f"{kind.capitalize()}: unemp"][j] == f"{row.estimate:.4f}" + stars(row.p_value)
    with pytest.raises(ModelSpecificationError, match="not linear"):
        fits[2].exact_effects()


def test_keep_drop_order_and_labels(fits):
    labels = {"np.log(pc)": "log private capital", "unemp": "unemployment",
              "np.log(gsp)": "log GSP", "N (cities)": "N (states)"}
    df = etable(fits, keep=[r"np\.log\(p.*\)", "unemp"], drop="np.log(pcap)", order="unemp",
                labels=labels)
    r = rows_of(df)
    coef = df.iloc[layout_of(df).sections[0] + 1:layout_of(df).sections[1], 0]
    assert [c for c in coef if c] == ["unemployment", "log private capital"]
    assert {"W*unemployment", "W*log private capital", "Direct: log private capital",
            "Total: unemployment"} <= set(r)
    assert not any("emp)" in lab or "pcap" in lab for lab in r)
    assert r["Dependent variable"] == ["log GSP"] * len(fits)
    assert "N (states)" in r and "N (cities)" not in r
    assert {"rho", "lambda"} <= set(r)  # spatial parameters are always shown
    with pytest.raises(EtableOptionError, match="keep='gdp' matches no variable"):
        etable(fits, keep="gdp")
    with pytest.raises(ModelSpecificationError, match="order="):
        etable(fits, order=["nothing"])


def test_tests_rows_and_effects_table(fits):
    sar, sdm = fits[0], fits[2]
    lr = diagnostics.lr_test(sar, sdm, len(X), "LR SDM vs SAR")
    wald = diagnostics.wald_theta_zero(sdm)
    df = etable(fits, tests=[[], [], [lr, wald], [], []])
    r = rows_of(df)
    assert layout_of(df).sections[-1] == df.index[df[""] == "Tests"][0]
    assert r[f"LR SDM vs SAR (df {len(X)})"][2] == f"{lr.statistic:.4f}" + stars(lr.p_value)
    assert below(df, f"Wald SDM vs SAR (df {len(X)})")[2] == f"[{wald.p_value:.4f}]"
    assert r[f"LR SDM vs SAR (df {len(X)})"][0] == ""
    with pytest.raises(EtableOptionError, match="one list of tests per model"):
        etable(fits, tests=[[lr]])
    eff = effects_table(fits, names=["SAR", "SEM", "SDM", "SLX", "SDEM"])
    assert isinstance(eff.columns, pd.MultiIndex)
    assert eff.columns[1:4].tolist() == [("SAR", "Direct"), ("SAR", "Indirect"), ("SAR", "Total")]
    full = rows_of(etable(fits))
    for j, name in enumerate(["SAR", "SEM", "SDM", "SLX", "SDEM"]):
        for kind in ("Direct", "Indirect", "Total"):
            for k, x in enumerate(X):
                assert eff[(name, kind)].iloc[2 * k] == full[f"{kind}: {x}"][j]
    assert "exact" in layout_of(eff).note and "simulated draws" in layout_of(eff).note


def test_output_types_and_files(fits, tmp_path):
    docx = pytest.importorskip("docx")
    df = etable(fits[:3])
    data = etable(fits[:3], type="docx", caption="Produc", path=tmp_path / "t.docx")
    assert (tmp_path / "t.docx").read_bytes() == data == etable(fits[:3], type="docx",
                                                                caption="Produc")
    cells = [[c.text for c in row.cells] for row in docx.Document(io.BytesIO(data)).tables[0].rows]
    assert cells == [list(df.columns)] + df.astype(str).values.tolist()
    tex = etable(fits[:3], type="tex", path=tmp_path / "t.tex")
    assert (tmp_path / "t.tex").read_text(encoding="utf-8") == tex
    assert tex.startswith("% spatialinno table") and "p$<$0.1" in tex
    assert re.search(r"S\[table-format=-?\d\.\d", tex)  # decimal-aligned columns
    etable(fits[:3], path=tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert back.values.tolist() == df.values.tolist()
    with pytest.raises(EtableOptionError, match="'df', 'md', 'tex' or 'docx'"):
        etable(fits, type="xlsx")
    with pytest.raises(EtableOptionError, match="stat="):
        etable(fits, stat="p")
