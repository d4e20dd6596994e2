"""verify reports every way a recorded output folder can differ from a re-run, and a manifest
records no machine-specific path, so a moved project still verifies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spatialinno.cli import main
from spatialinno.runner import run, verify

from runner_fixtures import tiny_project


@pytest.fixture()
def recorded(tmp_path) -> Path:
    out = tmp_path / "project" / "out"
    run(tiny_project(tmp_path / "project"), out, quiet=True)
    return out


def _edit_manifest(out: Path, change) -> None:
    m = out / "manifest.json"
    doc = json.loads(m.read_text(encoding="utf-8"))
    change(doc)
    m.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def test_clean_folder_verifies(recorded):
    assert verify(recorded).ok


def test_added_file_is_reported(recorded):
    (recorded / "tables" / "extra.csv").write_text("a,b\n")
    rep = verify(recorded)
    assert not rep.ok
    row = rep.rows.set_index("output").loc["tables/extra.csv"]
    assert row["status"] == "extra" and "not written by the run" in row["detail"]
    assert main(["verify", str(recorded)]) == 1


@pytest.mark.parametrize("what,change", [
    ("seed", lambda d: d.update(seed=d["seed"] + 1)),
    ("versions", lambda d: d["dependencies"].update(numpy="0.0.1")),
    ("hashes", lambda d: d["outputs"].update({"run.log": "0" * 64})),
    ("inputs", lambda d: d["inputs"][0].update(sha256="f" * 64)),
])
def test_edited_manifest_is_reported(recorded, what, change):
    _edit_manifest(recorded, change)
    rep = verify(recorded)
    assert not rep.ok, what
    rows = rep.rows.set_index("output")
    assert rows.loc["manifest.json", "status"] == "edited"
    assert "edited after the run" in rows.loc["manifest.json", "detail"]


def test_manifest_and_log_hold_no_absolute_or_install_paths(recorded):
    text = (recorded / "manifest.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["analysis"]["path"] == "../analysis.toml"
    assert all(not Path(i["path"]).is_absolute() for i in doc["inputs"])
    root = str(recorded.parent.parent)
    assert root not in text
    assert root not in (recorded / "run.log").read_text(encoding="utf-8")


def test_default_run_log_has_no_install_paths(tmp_path):
    import spatialinno
    pkg = str(Path(spatialinno.__file__).resolve().parent.parent)
    out = tmp_path / "out"
    from spatialinno.runner import default_analysis_path
    text = default_analysis_path().read_text(encoding="utf-8")
    # the data step alone: enough to produce the join warnings that name the data file
    head = text.split("[index]")[0]
    (tmp_path / "a.toml").write_text(head, encoding="utf-8")
    run(tmp_path / "a.toml", out, quiet=True)
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "spatialinno:demo_panel_SYNTHETIC.csv" in log
    assert pkg not in log and "site-packages" not in log
    assert pkg not in (out / "manifest.json").read_text(encoding="utf-8")


def test_moved_project_still_verifies(recorded, tmp_path):
    moved = tmp_path / "elsewhere" / "project"
    moved.parent.mkdir()
    shutil.move(str(recorded.parent), str(moved))
    assert verify(moved / "out").ok


def test_changed_seed_in_the_analysis_file_is_reported(recorded):
    analysis = recorded.parent / "analysis.toml"
    analysis.write_text(analysis.read_text(encoding="utf-8").replace("seed = 7", "seed = 8"),
                        encoding="utf-8")
    rep = verify(recorded)
    assert not rep.ok
    assert rep.rows.set_index("output").loc["seed", "status"] == "different"
    assert rep.inputs.set_index("role").loc["analysis", "status"] == "changed"


def test_deleted_output_is_reported(recorded):
    (recorded / "run.log").unlink()
    rep = verify(recorded)
    assert rep.rows.set_index("output").loc["run.log", "status"] == "missing"


def test_edited_docx_table_names_its_first_differing_cell(recorded):
    docx = pytest.importorskip("docx")
    path = recorded / "tables" / "data_summary.docx"
    doc = docx.Document(str(path))
    doc.tables[0].rows[1].cells[1].text = "edited"
    doc.save(str(path))
    row = verify(recorded).rows.set_index("output").loc["tables/data_summary.docx"]
    assert row["status"] == "different"
    assert "first differing cell: row 2, column 2: 'edited' -> '12'" in row["detail"]
