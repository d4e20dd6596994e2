"""Headless Chromium for report tests: render report.html and check what the browser built."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after load (skips the test when Chromium is not installed)."""
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver; "
                    ".ci/run installs them when it can)")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=10000",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert "<body" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def check_report_renders(out: Path) -> str:
    """Every table and figure of a run's report.html is in the rendered page and every inlined
    PNG decoded; returns the DOM."""
    dom = render_dom(out / "report.html", out.parent / f"chromium-profile-{out.name}")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'data-([a-z-]+)="(\d+)"', body))
    n_tables = len(list((out / "tables").glob("*.csv")))
    n_figures = len(list((out / "figures").glob("*.png"))) if (out / "figures").exists() else 0
    assert int(attrs["tables"]) == n_tables == dom.count("<table>")
    assert int(attrs["figures"]) == n_figures
    assert int(attrs["images-loaded"]) == n_figures  # every inlined PNG decoded by the browser
    return dom
