"""The documentation cannot drift from the API: every ```python block of README.md and
analyses/README.md is executed on the shipped data, and every `spatialinno ...` command of their
```bash blocks is parsed by the real command line (subcommand and options must exist) and the
analysis files it names must exist. (Install commands and full runs are covered elsewhere: CI runs
the install; test_runner/test_census run the analyses.)"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "analyses" / "README.md"]


def _blocks(kind: str) -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in re.finditer(rf"```{kind}\n(.*?)```", text, re.S):
            found.append((doc.name, text[: m.start()].count("\n") + 1, m.group(1)))
    return found


PYTHON = _blocks("python")
BASH = _blocks("bash")


def test_the_docs_have_code():
    assert PYTHON and BASH


@pytest.mark.parametrize("doc,line,code", PYTHON, ids=[f"{d}:{n}" for d, n, _ in PYTHON])
def test_python_block_runs(doc, line, code, tmp_path, monkeypatch):
    """Every Python example of the docs runs on the current code, start to finish."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"{doc}:{line}", "exec"), namespace)
    except Exception as err:  # noqa: BLE001 - any error of an example fails it, named
        pytest.fail(f"the example at {doc}:{line} raised {type(err).__name__}: {err}")
    assert len(namespace) > 2, f"the example at {doc}:{line} defined nothing"  # it did run


def _commands(code: str) -> list[list[str]]:
    out = []
    for raw in code.splitlines():
        line = raw.split("#", 1)[0].strip()
        for part in re.split(r"&&|;", line):
            words = shlex.split(part.strip())
            if words[:1] == ["spatialinno"]:
                out.append(words[1:])
    return out


CLI = [(d, n, c) for d, n, code in BASH for c in _commands(code)]


@pytest.mark.parametrize("doc,line,argv", CLI, ids=[f"{d}:{n}:{' '.join(a[:2])}" for d, n, a in CLI])
def test_cli_command_parses(doc, line, argv):
    from spatialinno.cli import _parser

    args = _parser().parse_args(argv)  # SystemExit (exit 2) on an unknown subcommand or option
    named = args.analysis if args.command == "run" else getattr(args, "file", None)
    if named and named.startswith("analyses/"):
        assert (ROOT / named).is_file(), f"{doc}:{line}: {named} does not exist"


def _command_blocks(doc: Path) -> list[list[str]]:
    """The ```bash blocks of ``doc``, each as its command lines with comments and padding
    removed (the Chinese README translates the comments, never the commands)."""
    text = doc.read_text(encoding="utf-8")
    return [[line.split("#", 1)[0].strip() for line in m.group(1).splitlines()
             if line.split("#", 1)[0].strip()]
            for m in re.finditer(r"```bash\n(.*?)```", text, re.S)]


def test_chinese_readme_has_the_same_command_blocks_as_the_readme():
    english, chinese = _command_blocks(ROOT / "README.md"), _command_blocks(ROOT / "README.zh.md")
    assert chinese == english, (
        "README.zh.md's ```bash blocks must equal README.md's, in the same order; first "
        "difference: " + next((f"block {i + 1}: {c} vs {e}" for i, (c, e) in
                               enumerate(zip(chinese, english)) if c != e),
                              f"{len(chinese)} blocks vs {len(english)}"))
    # the two commands of the quick start come first, and the docs are named
    assert english[0][0].endswith("spatialinno run --out out")
    assert english[1][0].endswith("python -m pytest -q")
    zh = (ROOT / "README.zh.md").read_text(encoding="utf-8")
    assert "docs/_build/html/index.html" in zh and "README.md" in zh
    assert "README.zh.md" in (ROOT / "README.md").read_text(encoding="utf-8")
