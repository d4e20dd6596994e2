"""Jupyter display (``_repr_html_``) of results, effects, model choice, join reports and weights.

Each display is parsed back: well-formed HTML (every opened tag closed, nothing but the
self-contained style, no script or external asset), escaped text, and the same numbers as the
object's own tables: the coefficient and effect cells of ``etable``, the model-choice table, the
join counts, the weights diagnostics. Runs on the shipped SYNTHETIC demo panel.
"""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import spatialinno as si
from spatialinno.report.notebook import repr_html

VOID = {"br", "hr", "img", "meta", "link", "col", "input", "wbr"}


class _Parsed(HTMLParser):
    """Tag structure, table cells (text of each td/th) and every text node."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for _, value in attrs:
            assert "http" not in (value or ""), f"external reference in {tag}: {value}"
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(markup: str) -> _Parsed:
    p = _Parsed()
    p.feed(markup)
    p.close()
    assert not p.stack, f"unclosed tags: {p.stack}"
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert p.tags[0] == "div" and p.tags.count("style") == 1
    return p


@pytest.fixture(scope="module")
def demo():
    panel = si.load_panel(si.datasets.path("demo"), unit="city", time="year", merged="drop")
    data = panel.data.copy()
    data["ln_gdp"], data["ln_pop"] = np.log(data["gdp"]), np.log(data["population"])
    w = si.Weights.contiguity(units=panel.units, islands="connect", k_islands=2)
    return panel, data, w


@pytest.fixture(scope="module")
def sdm(demo):
    _, data, w = demo
    return si.fit("ln_gdp ~ urbanisation + ln_pop", data=data, w=w, model="sdm",
                  effects="twoway", unit="adcode", time="year", seed=1, effects_draws=200)


def test_repr_html_escapes_text_and_carries_the_table_note():
    df = si.report.with_layout(pd.DataFrame({"a<b": ["x & y"], "v": [1.23456]}),
                               si.report.Layout(note="p < 0.1"))
    p = parse(repr_html("A <title>", [("cap <1>", df)], facts=[("k", "<v>")], note="SYNTHETIC"))
    assert "A <title>" in p.text and "cap <1>" in p.text and "<v>" in p.cells
    assert ["a<b", "v", "x & y", "1.2346"] == p.cells[2:]  # facts row first, then the table
    assert "p < 0.1" in p.text and "SYNTHETIC" in p.text


def test_fit_displays_its_etable_cells(sdm):
    p = parse(sdm._repr_html_())
    table = si.etable([sdm], names=["SDM"])
    labels, values = list(table.iloc[:, 0]), list(table.iloc[:, 1])
    shown = iter(p.cells)  # every etable row appears, label then value, in the table's order
    for label, value in zip(labels, values, strict=True):
        assert label in shown, label
        if value:
            assert value in shown, (label, value)
    rho = f"{sdm.rho:.4f}"
    assert any(c.startswith(rho) for c in p.cells)
    assert "Direct: urbanisation" in p.cells and "Indirect: ln_pop" in p.cells
    assert sdm.spec.title in "".join(p.text) and "Converged" in p.cells
    assert "Standard errors in parentheses" in "".join(p.text)


def test_effects_and_model_choice_display(demo, sdm):
    _, data, w = demo
    mc = si.choose_model("ln_gdp ~ urbanisation + ln_pop", data=data, w=w, unit="adcode",
                         time="year", effects="twoway")
    p = parse(mc._repr_html_())
    text = "".join(p.text)
    assert mc.recommended.upper() in text and mc.recommendation in text
    for test, stat in zip(mc.table["test"], mc.table["statistic"], strict=True):
        assert test in p.cells
        if pd.notna(stat):
            assert f"{stat:.4f}" in p.cells


def test_join_report_display_lists_counts_and_history_rows(demo):
    panel, _, _ = demo
    rep = panel.report
    p = parse(rep._repr_html_())
    for status, n in rep.counts.items():
        if n:
            i = p.cells.index(status)
            assert p.cells[i + 1] == str(n)
    hist = rep.history_matches
    assert len(hist) > 0  # the demo panel spells some units by earlier names
    shown = min(len(hist), rep.HTML_ROWS)
    kinds = ("matched_history", "merged_dropped", "merged_aggregated")
    in_counts = sum(bool(rep.counts[k]) for k in kinds)  # once each in the status table
    assert sum(c in kinds for c in p.cells) == in_counts + shown
    assert f"Matched through an earlier name or code (first {shown} of {len(hist)})" in p.text \
        or len(hist) <= rep.HTML_ROWS
    assert str(hist["value"].iloc[0]) in p.cells


def test_weights_display_is_its_summary_table(demo):
    _, _, w = demo
    p = parse(w._repr_html_())
    frame = w.summary().to_frame()
    assert p.cells == ["statistic", "value"] + [c for row in frame.itertuples(index=False)
                                                for c in row]
    assert w.summary()._repr_html_() == w._repr_html_()


def test_spatial_did_display_has_effects_and_did_table(demo):
    from spatialinno import policy
    data = si.demo_panel().data.merge(policy.demo_policy(), on=["adcode", "year"])
    data["ln_pgdp"] = np.log(data["pgdp"])
    _, _, w = demo
    tr = policy.treatment(data, column="pilot", w=w)
    res = policy.spatial_did(tr, "ln_gtfp_pilot", ["ln_pgdp"], model="sdm", draws=50,
                             robust=False)
    p = parse(res._repr_html_())
    for effect, est in zip(res.effects["effect"], res.effects["estimate"], strict=True):
        assert effect in p.cells and f"{est:.4f}" in p.cells
    assert "(1) TWFE" in p.cells and any(c.endswith("SDM-DID") for c in p.cells)


def test_spillover_decomposition_and_random_effects_display(demo, sdm):
    from spatialinno import agglomerations as ag
    from spatialinno.models import fit_re
    groups = ag.groups(["yangtze_river_delta", "jingjinji", "pearl_river_delta"])
    dec = ag.decompose_effects(sdm, groups, draws=20, seed=3, note="SYNTHETIC DATA")
    p = parse(dec._repr_html_())
    for row in dec.table.itertuples(index=False):
        assert row.part in p.cells and f"{row.estimate:.4f}" in p.cells
    assert "SYNTHETIC DATA" in p.text and "20" in p.cells

    _, data, w = demo
    data = data.sort_values(["year", "adcode"])
    W = w.align(sorted(data["adcode"].unique())).sparse
    re = fit_re(data["ln_gdp"].to_numpy(), data[["ln_pop"]].to_numpy(), W, w.n,
                data["year"].nunique(), "sar", exog_names=["ln_pop"])
    p = parse(re._repr_html_())
    for term, est in zip(re.params.index, re.params, strict=True):
        assert term in p.cells and f"{est:.4f}" in p.cells
    assert f"{re.loglik:.4f}" in p.cells
