"""The --out contract: a run either refuses (the folder unchanged, byte for byte) or the folder
holds exactly the new outputs; a file the run did not write is never removed."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno import outfolder
from spatialinno.cli import main
from spatialinno.errors import OutputFolderError
from spatialinno.runner import run

from runner_fixtures import snapshot, tiny_project

# Mutations of an earlier output folder (or of an unrelated folder) that a user might make.
NAMES = ["manifest.json", "background.js", "src/app.js", "tables/mine.csv", "report.html",
         "run.log", "tables/data_summary.csv", "notes.txt", "figures/x.png"]
MUTATIONS = st.lists(st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.binary(max_size=20)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just(b"")),
    st.tuples(st.just("mkdir"), st.sampled_from(["empty", "tables/sub", "src"]), st.just(b"")),
    st.tuples(st.just("link"), st.sampled_from(["link.csv", "tables/l.csv"]), st.just(b"")),
    st.tuples(st.just("manifest"), st.sampled_from(["foreign", "truncated", "old-schema", "drop"]),
              st.just(b"")),
), max_size=5)


def _apply(out: Path, mutation: tuple[str, str, bytes]) -> None:
    kind, name, data = mutation
    target = out / name
    if kind == "write":
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_dir():
            target.write_bytes(data)
    elif kind == "delete" and target.is_file() and not target.is_symlink():
        target.unlink()
    elif kind == "mkdir" and not target.exists():
        target.mkdir(parents=True, exist_ok=True)
    elif kind == "link" and not target.exists() and not target.is_symlink():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(out.parent / "tiny.csv", target)
    elif kind == "manifest" and (out / "manifest.json").is_file():
        m = out / "manifest.json"
        if name == "foreign":
            m.write_text(json.dumps({"manifest_version": 2, "name": "my web extension"}))
        elif name == "truncated":
            m.write_bytes(m.read_bytes()[:40])
        elif name == "old-schema":
            try:
                doc = json.loads(m.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                return
            if isinstance(doc, dict):
                doc.pop("schema", None)
                m.write_text(json.dumps(doc))
        else:
            m.unlink()


def _files(folder: Path) -> set[str]:
    return {k for k, v in snapshot(folder).items() if v[0] != "dir"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(["earlier-output", "empty", "absent", "unrelated"]), mutations=MUTATIONS)
def test_out_contract_refuses_unchanged_or_holds_exactly_the_new_outputs(start, mutations):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        analysis = tiny_project(root)
        out = root / "out"
        if start == "earlier-output":
            run(analysis, out, quiet=True)
        elif start in ("empty", "unrelated"):
            out.mkdir()
            if start == "unrelated":
                (out / "manifest.json").write_text('{"manifest_version": 3}')
                (out / "background.js").write_text("chrome.runtime")
        if out.exists():
            for m in mutations:
                _apply(out, m)
        before = snapshot(out)
        previous = set()
        try:
            previous = set(outfolder.read_manifest(out)["outputs"]) | {"manifest.json"}
        except OutputFolderError:
            pass
        try:
            result = run(analysis, out, quiet=True)
        except OutputFolderError:
            assert snapshot(out) == before  # refused: nothing changed, byte for byte
        else:
            assert _files(out) == set(result.outputs) | {"manifest.json"}
            removed = {k for k, v in before.items() if v[0] != "dir"} - _files(out)
            assert removed <= previous  # only files an earlier run wrote were removed
        # no temporary or set-aside folder is left beside it
        assert sorted(p.name for p in root.iterdir()) == sorted(
            ["analysis.toml", "tiny.csv"] + (["out"] if out.exists() else []))


@pytest.fixture()
def project(tmp_path):
    return tiny_project(tmp_path)


def test_web_extension_folder_with_a_manifest_is_refused(project, tmp_path):
    ext = tmp_path / "ext"
    (ext / "src").mkdir(parents=True)
    (ext / "manifest.json").write_text('{"manifest_version": 3, "name": "x"}')
    (ext / "background.js").write_text("// mine")
    before = snapshot(ext)
    with pytest.raises(OutputFolderError, match=r"not a spatialinno manifest.*nothing was changed"):
        run(project, ext, quiet=True)
    assert snapshot(ext) == before


def test_file_added_to_an_earlier_output_is_named_and_kept(project, tmp_path):
    out = tmp_path / "out"
    run(project, out, quiet=True)
    (out / "tables" / "my_notes.md").write_text("keep me")
    with pytest.raises(OutputFolderError, match=r"tables/my_notes\.md.*nothing was changed"):
        run(project, out, quiet=True)
    assert (out / "tables" / "my_notes.md").read_text() == "keep me"


def test_truncated_manifest_is_refused(project, tmp_path):
    out = tmp_path / "out"
    run(project, out, quiet=True)
    m = out / "manifest.json"
    m.write_bytes(m.read_bytes()[:30])
    with pytest.raises(OutputFolderError, match=r"manifest\.json: not a readable spatialinno manifest"):
        run(project, out, quiet=True)


def test_out_is_a_file(project, tmp_path):
    (tmp_path / "out.txt").write_text("x")
    with pytest.raises(OutputFolderError, match=r"out\.txt: exists and is not a folder"):
        run(project, tmp_path / "out.txt", quiet=True)


def test_out_that_holds_the_inputs_is_refused(project, tmp_path):
    with pytest.raises(OutputFolderError, match=r"would replace the analysis file or its inputs"):
        run(project, tmp_path, quiet=True)


def test_out_link_is_refused(project, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "linked")
    with pytest.raises(OutputFolderError, match=r"linked: exists and is not a folder"):
        run(project, tmp_path / "linked", quiet=True)


def test_interrupted_temporary_folder_is_cleaned(project, tmp_path):
    stale = tmp_path / ".spatialinno-tmp-abc"
    stale.mkdir()
    (stale / ".spatialinno-partial").write_text("999999999")  # a pid that cannot be running
    (stale / "report.html").write_text("half")
    foreign = tmp_path / ".spatialinno-tmp-notours"
    foreign.mkdir()  # no marker: not ours, left alone
    run(project, tmp_path / "out", quiet=True)
    assert not stale.exists() and foreign.exists()


def test_interrupted_swap_is_restored(project, tmp_path):
    out = tmp_path / "out"
    run(project, out, quiet=True)
    aside = tmp_path / ".out.spatialinno-old-999999999"
    os.replace(out, aside)  # as if killed between the two renames
    outfolder.clean_interrupted(out)
    assert out.is_dir() and not aside.exists()
    outfolder.read_manifest(out)


def test_ctrl_c_during_a_run_leaves_nothing(project, tmp_path, monkeypatch, capsys):
    from spatialinno import runner

    out = tmp_path / "out"
    run(project, out, quiet=True)
    before = snapshot(out)

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(runner, "_write_report", interrupted)
    assert main(["run", str(project), "--out", str(out), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_rerun_into_an_earlier_output_folder_replaces_it(project, tmp_path):
    out = tmp_path / "out"
    run(project, out, quiet=True)
    shutil.rmtree(out / "tables")  # deleting our own outputs is fine
    result = run(project, out, quiet=True)
    assert _files(out) == set(result.outputs) | {"manifest.json"}
