"""Table export (spatialinno.report): LaTeX that compiles on A4, Word three-line tables with
fixed bytes, Markdown and HTML with section rows and two-level headers."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from spatialinno.report import (Layout, docx_table_text, html_table, latex_escape, needs_cjk,
                                to_csv, to_docx, to_latex, to_markdown, with_layout)

from latex import available, compile_tables, engine_of, packages_of

SPECIAL = 'a<b>c & d_e % 5$ #1 {x} ~y^2 \\ "q" | 3\u20134 \u2014 \u2026 \u03c1 \u2264 1'


def sectioned() -> pd.DataFrame:
    df = pd.DataFrame({"": ["Coefficients", "x", "", "Fit", "N"],
                       "(1)": ["", "0.1234***", "(0.0100)", "", "337"],
                       "(2)": ["", "-1.5000", "(0.2000)", "", "337"]})
    return with_layout(df, Layout(sections=(0, 3), note="* p<0.1"))


def grouped() -> pd.DataFrame:
    cols = pd.MultiIndex.from_tuples([("", ""), ("m1", "Direct"), ("m1", "Total"),
                                      ("m2", "Direct"), ("m2", "Total")])
    return pd.DataFrame([["x", "0.1000*", "0.2000", "-0.3000", "1.0000***"],
                         ["", "(0.0500)", "(0.1000)", "(0.1000)", "(0.2000)"]], columns=cols)


def stress_tables() -> dict[str, tuple[pd.DataFrame, str]]:
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(8, 24)) * 100, columns=[f"col_{i}" for i in range(24)])
    tall = pd.DataFrame({"unit": [f"u{i}" for i in range(150)], "value": rng.normal(size=150)})
    both = pd.DataFrame(rng.normal(size=(120, 14)), columns=[f"variable_{i}" for i in range(14)])
    text = pd.DataFrame({"test": ["LM lag", "Hausman"], "note": [
        "a long explanation of the convention used for this statistic, " * 6, "short"]})
    cjk = pd.DataFrame({"城市": ["北京市", "襄阳市（襄樊）"], "code": ["110000", "420600"],
                        "value": [1.5, -2.25]})
    special = pd.DataFrame({"text": [SPECIAL], "value": [1.0]})
    return {"wide": (wide, "Wide"), "tall": (tall, "Tall"), "both": (both, "Wide and tall"),
            "text": (text, "Long text"), "cjk": (cjk, "城市"), "special": (special, SPECIAL),
            "sectioned": (sectioned(), "Sections"), "grouped": (grouped(), "Groups")}


def test_latex_escaping_does_not_depend_on_fontenc():
    out = latex_escape(SPECIAL)
    assert "$<$" in out and "$>$" in out and r"\&" in out and r"\_" in out and r"\%" in out
    assert r"\$" in out and r"\#" in out and r"\{x\}" in out and r"\textasciitilde{}" in out
    assert r"\textasciicircum{}" in out and r"\textbackslash{}" in out and "$|$" in out
    assert "---" in out and r"\ldots{}" in out and r"$\rho$" in out and r"$\leq$" in out
    assert all(ord(ch) < 128 for ch in out)
    assert needs_cjk("襄阳") and needs_cjk("（") and not needs_cjk(SPECIAL)


def test_latex_layout_follows_the_size_of_the_table():
    t = {name: to_latex(df, caption=cap) for name, (df, cap) in stress_tables().items()}
    assert engine_of(t["cjk"]) == "xelatex" and r"\usepackage{ctex}" in t["cjk"]
    assert all(engine_of(v) == "pdflatex" for k, v in t.items() if k != "cjk")
    assert r"\begin{landscape}" in t["wide"] and r"\begin{adjustbox}{max width=\linewidth}" in t["wide"]
    assert r"\begin{longtable}" in t["tall"] and r"\endhead" in t["tall"] and "landscape" not in t["tall"]
    assert r"\begin{longtable}" in t["both"] and r"\begin{landscape}" in t["both"]
    assert r"p{" in t["text"] and "array" in packages_of(t["text"])
    assert r"\cmidrule(lr){2-3}" in t["grouped"] and r"\multicolumn{2}{c}{m1}" in t["grouped"]
    assert r"\multicolumn{3}{l}{\emph{Coefficients}}" in t["sectioned"]
    assert "S[table-format=-3.4" in t["sectioned"] and "0.1234{***}" in t["sectioned"]
    assert "{(}0.0100{)}" in t["sectioned"] and "p$<$0.1" in t["sectioned"]
    for name, text in t.items():
        assert text.startswith("% spatialinno table:"), name


@pytest.mark.skipif(not (available("pdflatex") and available("xelatex")),
                    reason="pdflatex/xelatex not installed (texlive-latex-recommended, "
                           "texlive-latex-extra, texlive-science, texlive-xetex, "
                           "texlive-lang-chinese)")
def test_stress_tables_compile_without_overfull_boxes(tmp_path):
    tables: dict[str, dict] = {}
    for name, (df, cap) in stress_tables().items():
        path = tmp_path / f"{name}.tex"
        path.write_text(to_latex(df, caption=cap, note="Note: " + SPECIAL), encoding="utf-8")
        tables.setdefault(engine_of(path.read_text(encoding="utf-8")), {})[name] = path
    for engine, group in tables.items():
        c = compile_tables(group, engine, tmp_path / engine)
        assert not c.problems, (engine, c.problems)


def test_docx_bytes_are_fixed_and_cells_match_the_csv():
    df = grouped()
    data = to_docx(df, caption="Effects", note="SYNTHETIC DATA")
    assert data == to_docx(df, caption="Effects", note="SYNTHETIC DATA")
    z = zipfile.ZipFile(io.BytesIO(data))
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z</dcterms:created>" in core
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core
    grid = [line.split(",") for line in to_csv(df).splitlines()]
    assert docx_table_text(data) == grid  # merged group cells repeat their label, as in the CSV
    sec = docx_table_text(to_docx(sectioned()))
    assert sec[1] == ["Coefficients", "", ""]
    long = to_docx(pd.DataFrame({"t": ["x" * 300]}), caption="c" * 400)  # title limit 255
    assert docx_table_text(long)[1] == ["x" * 300]


def test_markdown_and_html_show_sections_and_groups():
    md = to_markdown(sectioned())
    assert "| **Coefficients** |  |  |" in md and md.rstrip().endswith("* p<0.1")
    assert "|  | **m1** |  | **m2** |  |" in to_markdown(grouped())
    html = html_table(sectioned(), name="etable")
    assert '<table data-table="etable">' in html
    assert '<tr class="section"><th colspan="3">Coefficients</th></tr>' in html
    assert '<th colspan="2">m1</th>' in html_table(grouped())
