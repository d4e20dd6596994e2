"""Publication outputs of the default run: every LaTeX table compiles on A4 without overfull
boxes, every Word table holds the cells of its CSV, and report.html reads at 1280 px."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from browser import render_dom, screenshot
from latex import available, compile_tables, engine_of, packages_of

#: What each engine's document needs beyond the engine itself (checked with kpsewhich).
NEEDS = {"pdflatex": ("booktabs.sty", "siunitx.sty", "adjustbox.sty", "longtable.sty",
                      "pdflscape.sty"),
         "xelatex": ("ctex.sty", "booktabs.sty", "siunitx.sty")}


def _tex_files(out: Path) -> dict[str, Path]:
    return {p.stem: p.resolve() for p in sorted((out / "tables").glob("*.tex"))}


def test_every_tex_table_says_which_engine_and_packages_it_needs(default_run):
    tables = _tex_files(default_run)
    assert len(tables) >= 25
    for name, path in tables.items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith("% spatialinno table:"), name
        engine, pkgs = engine_of(text), packages_of(text)
        assert "booktabs" in pkgs, name
        has_cjk = re.search("[\u4e00-\u9fff]", text) is not None
        assert (engine == "xelatex") == has_cjk, name
        assert "<" not in text.split("\\begingroup", 1)[1].replace("$<$", ""), name
        if "\\begin{longtable}" in text:
            assert "longtable" in pkgs, name
        if "\\begin{landscape}" in text:
            assert "pdflscape" in pkgs, name
    assert {"join_history_matches", "weights_summary"} <= {
        n for n, p in tables.items() if engine_of(p.read_text(encoding="utf-8")) == "xelatex"}


def _missing(engine: str) -> str | None:
    if not available(engine):
        return f"{engine} is not installed"
    if shutil.which("kpsewhich") is None:
        return "kpsewhich is not installed"
    absent = [f for f in NEEDS[engine] if not subprocess.run(
        ["kpsewhich", f], capture_output=True, text=True).stdout.strip()]
    return f"{engine}: TeX packages not installed: {absent}" if absent else None


def _halves(tables: dict[str, Path]) -> list[dict[str, Path]]:
    """Two documents of about equal size (largest files first, each to the lighter half)."""
    halves: list[dict[str, Path]] = [{}, {}]
    sizes = [0, 0]
    for name, path in sorted(tables.items(), key=lambda t: -t[1].stat().st_size):
        k = sizes.index(min(sizes))
        halves[k][name] = path
        sizes[k] += path.stat().st_size
    return [dict(sorted(h.items())) for h in halves if h]


def test_every_tex_table_compiles_without_overfull_boxes(default_run, tmp_path):
    """The tables of one run in A4 articles per engine (pdflatex for ASCII tables, XeLaTeX +
    ctex for tables with Chinese; the many pdflatex tables in two documents compiled side by
    side), each table on its own page behind a log marker, so that every error, overfull box,
    too-large float or missing glyph is attributed to its table."""
    groups: dict[str, dict[str, Path]] = {}
    for name, path in _tex_files(default_run).items():
        groups.setdefault(engine_of(path.read_text(encoding="utf-8")), {})[name] = path
    runnable = {e: t for e, t in groups.items() if _missing(e) is None}
    skipped = {e: _missing(e) for e in groups if e not in runnable}
    if not runnable:
        pytest.skip("no TeX engine to compile the tables: " + "; ".join(skipped.values())
                    + " (Debian: texlive-latex-recommended texlive-science texlive-latex-extra "
                    "texlive-xetex texlive-lang-chinese; .ci/run installs them when it can)")
    jobs = [(e, k, part) for e, tables in runnable.items()
            for k, part in enumerate(_halves(tables) if len(tables) > 8 else [tables])]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two documents at a time
        done = list(pool.map(lambda j: compile_tables(j[2], j[0], tmp_path / f"{j[0]}-{j[1]}"),
                             jobs))
    for c in done:
        print(f"{c.engine}: {len(c.tables)} tables compiled in {c.seconds:.1f} s, "
              f"problems: {sum(len(v) for v in c.problems.values())}")
    problems = {f"{c.engine}: {t}": v[:3] for c in done for t, v in c.problems.items()}
    assert not problems, problems
    assert sum(len(c.tables) for c in done) == sum(len(t) for t in runnable.values())
    if skipped:
        pytest.skip("compiled the others; not compiled: " + "; ".join(
            f"{len(groups[e])} tables ({why})" for e, why in skipped.items()))


def _csv_grid(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    if text.startswith("# "):
        text = text.split("\n", 1)[1]
    return list(csv.reader(io.StringIO(text)))


def _same_cell(shown: str, stored: str) -> bool:
    """The Word cell shows the CSV value (numbers to the printed decimals)."""
    if shown == stored:
        return True
    try:
        a, b = float(shown), float(stored)
    except ValueError:
        return False
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return abs(a - b) <= 0.5 * 10.0 ** -decimals + 1e-12


def test_every_docx_table_has_the_cells_of_its_csv(default_run):
    docx = pytest.importorskip("docx")
    paths = sorted((default_run / "tables").glob("*.docx"))
    assert len(paths) == len(list((default_run / "tables").glob("*.csv"))) >= 25
    for path in paths:
        doc = docx.Document(str(path))
        assert len(doc.tables) == 1, path.name
        shown = [[cell.text for cell in row.cells] for row in doc.tables[0].rows]
        stored = _csv_grid(path.with_suffix(".csv"))
        assert len(shown) == len(stored), path.name
        for r, (a, b) in enumerate(zip(shown, stored, strict=True)):
            assert len(a) == len(b), (path.name, r)
            bad = [(c, x, y) for c, (x, y) in enumerate(zip(a, b, strict=True))
                   if not _same_cell(x, y)]
            assert not bad, (path.name, r, bad[:3])
        assert "SYNTHETIC DATA" in "\n".join(p.text for p in doc.paragraphs), path.name


def test_docx_tables_are_three_line_tables(default_run):
    """Top and bottom rules on the table, a rule under the header, no vertical lines."""
    import zipfile

    xml = zipfile.ZipFile(default_run / "tables" / "etable.docx").read("word/document.xml").decode()
    borders = re.search(r"<w:tblBorders>(.*?)</w:tblBorders>", xml).group(1)
    assert re.search(r'<w:top w:val="single" w:sz="12"', borders)
    assert re.search(r'<w:bottom w:val="single" w:sz="12"', borders)
    for edge in ("left", "right", "insideH", "insideV"):
        assert f'<w:{edge} w:val="nil"/>' in borders, edge
    assert xml.count('<w:bottom w:val="single" w:sz="6"') >= 5  # under each header cell


def test_lisa_counts_have_a_year_column(default_run):
    counts = pd.read_csv(default_run / "tables" / "lisa_counts_nqpf.csv", comment="#")
    assert list(counts.columns[:1]) == ["year"]
    assert counts["year"].tolist() == list(range(2011, 2023))
    assert (counts.drop(columns="year").sum(axis=1) == 337).all()


def test_report_has_contents_sections_settings_and_every_warning(default_run):
    page = (default_run / "report.html").read_text(encoding="utf-8")
    toc = re.search(r'<nav class="toc">(.*?)</nav>', page, re.DOTALL).group(1)
    sections = re.findall(r'<section id="(s\d+)"><h2>', page)
    assert sections and all(f'href="#{s}"' in toc for s in sections)
    # compact Moran table (I, E[I], z, p by year and W) with the full one folded below
    block = page.split('data-table="moran_nqpf"')[0].rsplit('<div class="block">', 1)[1]
    assert "<th" in block and ">E[I]</th>" in block and "<details>" in block
    assert "Full table (21 columns, 12 rows)" in block
    # the figure that explains the table is in the same block
    moran_block = page.split('data-table="moran_nqpf"')[1].split('<div class="block">')[0]
    assert "Moran&#x27;s I of nqpf over time" in moran_block
    assert re.search(r"999 conditional permutations.*alpha = 0\.05.*adjustment: none", page)
    log = (default_run / "run.log").read_text(encoding="utf-8")
    warnings = [line.removeprefix("warning: ") for line in log.splitlines()
                if line.startswith("warning: ")]
    assert f"Warnings of this run ({len(warnings)})" in page
    import html
    for w in warnings:
        assert html.escape(w) in page, w


MEASURE = """<script>
window.addEventListener("load", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  var vw = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll("table").forEach(function (t, i) {
    var box = t.closest(".scroll") || t, r = box.getBoundingClientRect();
    if (r.right > vw + 0.5 || r.left < -0.5) wide.push(t.getAttribute("data-table") || ("#" + i));
  });
  document.body.setAttribute("data-viewport", String(vw));
  document.body.setAttribute("data-page-width", String(document.documentElement.scrollWidth));
  document.body.setAttribute("data-wide", wide.join(" "));
  document.body.setAttribute("data-measured", String(document.querySelectorAll("table").length));
});
</script>"""


def test_report_fits_1280_px_in_headless_chromium(default_run, tmp_path):
    """No table (nor anything else) makes the page wider than a 1280 px window: wide tables
    scroll inside their own box. The screenshot is kept in the test's folder."""
    page = tmp_path / "report.html"
    page.write_text((default_run / "report.html").read_text(encoding="utf-8")
                    .replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    size = screenshot(page, tmp_path / "profile-shot", tmp_path / "report-1280.png", 1280, 2400)
    assert size == (1280, 2400)
    dom = render_dom(page, tmp_path / "profile", width=1280)
    body = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', re.search(r"<body([^>]*)>", dom).group(1)))
    assert int(body["viewport"]) <= 1280 and int(body["measured"]) > int(body["tables"])
    assert int(body["page-width"]) <= int(body["viewport"]), body
    assert body["wide"] == "", body["wide"]
