"""The command line never prints a traceback for a user's mistake: exit 2 with
``spatialinno: error: ...`` naming the file, line, key or cell; exit 1 with one line and a log
file for an internal error; 130 for Ctrl-C."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spatialinno.cli import main
from spatialinno.runner import run

from runner_fixtures import PLAIN_ANALYSIS, tiny_project


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_analysis_file_not_found(capsys, tmp_path):
    code, err = cli(capsys, "run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o"))
    assert code == 2 and re.search(r"spatialinno: error: .*nope\.toml: analysis file not found", err)


def test_folder_given_as_the_analysis_file(capsys, tmp_path):
    code, err = cli(capsys, "run", str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 2 and "is a folder; give the analysis file (.toml) itself" in err


def test_gbk_analysis_file_names_line_and_says_utf8(capsys, tmp_path):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS.replace('title = "tiny"', 'title = "新质生产力"'))
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    code, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "analysis.toml, line 2" in err and "GBK/GB18030: save it as UTF-8" in err


def test_utf8_bom_analysis_file_is_read(capsys, tmp_path):
    path = tiny_project(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, _ = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 0


def test_invalid_toml_names_line(capsys, tmp_path):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS.replace('title = "tiny"', 'title = tiny'))
    code, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "not valid TOML" in err and "line 2" in err


@pytest.mark.parametrize("key,value,expected", [
    ("panel", '""', r"line 6: data.panel: must not be empty"),
    ("unit", '"  "', r"line 7: data.unit: must not be empty"),
])
def test_empty_strings_are_named(capsys, tmp_path, key, value, expected):
    text = re.sub(rf'^{key} = .*$', f"{key} = {value}", PLAIN_ANALYSIS, flags=re.M)
    code, err = cli(capsys, "run", str(tiny_project(tmp_path, text)), "--out", str(tmp_path / "o"))
    assert code == 2 and re.search(expected, err), err


def test_header_only_data_file(capsys, tmp_path):
    path = tiny_project(tmp_path, csv="unit,year,y,x\n")
    code, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "tiny.csv: has a header (line 1" in err and "no data rows" in err and "[data" in err


def test_empty_data_file(capsys, tmp_path):
    path = tiny_project(tmp_path, csv="")
    code, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "tiny.csv" in err


def test_data_file_is_a_folder(capsys, tmp_path):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS.replace('panel = "tiny.csv"', 'panel = "sub"'))
    (tmp_path / "sub").mkdir()
    code, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "sub" in err and "[data" in err


def test_verify_of_a_folder_without_manifest(capsys, tmp_path):
    code, err = cli(capsys, "verify", str(tmp_path))
    assert code == 2 and "no manifest.json; this is not a spatialinno output folder" in err


def test_verify_of_a_foreign_manifest(capsys, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"manifest_version": 3}))
    code, err = cli(capsys, "verify", str(tmp_path))
    assert code == 2 and "not a spatialinno manifest" in err


def test_verify_of_a_truncated_manifest(capsys, tmp_path):
    out = tmp_path / "out"
    run(tiny_project(tmp_path), out, quiet=True)
    m = out / "manifest.json"
    m.write_bytes(m.read_bytes()[:50])
    code, err = cli(capsys, "verify", str(out))
    assert code == 2 and "manifest.json: not a readable spatialinno manifest" in err


def test_verify_when_the_analysis_file_is_gone(capsys, tmp_path):
    out = tmp_path / "out"
    path = tiny_project(tmp_path)
    run(path, out, quiet=True)
    path.unlink()
    code, err = cli(capsys, "verify", str(out))
    assert code == 2 and "recorded analysis file '../analysis.toml'" in err


def test_unwritable_output_parent_is_a_user_error(capsys, tmp_path, monkeypatch):
    import spatialinno.outfolder as of

    def denied(parent):
        raise PermissionError(13, "Permission denied", str(parent))
    monkeypatch.setattr(of, "new_temporary", denied)
    code, err = cli(capsys, "run", str(tiny_project(tmp_path)), "--out", str(tmp_path / "o"))
    assert code == 2 and "Permission denied" in err and str(tmp_path) in err


def test_internal_error_is_one_line_and_a_log_file(capsys, tmp_path, monkeypatch):
    from spatialinno import runner

    def bug(*a, **k):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(runner, "_write_report", bug)
    code, err = cli(capsys, "run", str(tiny_project(tmp_path)), "--out", str(tmp_path / "o"))
    assert code == 1 and err.count("\n") == 1 and "internal error: ZeroDivisionError" in err
    log = Path(re.search(r"details are in (\S+) \(", err).group(1))
    assert "Traceback" in log.read_text(encoding="utf-8")
    log.unlink()
    assert not (tmp_path / "o").exists()


def test_unknown_command_and_missing_argument_exit_2():
    for argv in (["frobnicate"], ["verify"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_console_script_user_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spatialinno.cli", "run", str(tmp_path / "x.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("spatialinno: error:") and "Traceback" not in proc.stderr
