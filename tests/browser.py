"""Headless Chromium for report tests: render report.html and check what the browser built."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser() -> str:
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver; "
                    ".ci/run installs them when it can)")
    return browser


def _flags(profile: Path) -> list[str]:
    """The flags this machine's headless Chromium needs (no sandbox as root, no network)."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=10000"]


def render_dom(page: Path, profile: Path, *, width: int | None = None) -> str:
    """The DOM of ``page`` after load, in a window ``width`` px wide when given (skips the test
    when Chromium is not installed)."""
    size = [f"--window-size={width},900"] if width else []
    proc = subprocess.run([_browser(), *_flags(profile), *size, "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert "<body" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, profile: Path, png: Path, width: int, height: int) -> tuple[int, int]:
    """Save a screenshot of ``page`` at ``width`` x ``height`` px; returns the PNG's size."""
    subprocess.run([_browser(), *_flags(profile), "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()],
                   capture_output=True, text=True, timeout=120)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG written to {png}"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def check_report_renders(out: Path) -> str:
    """Every table and figure of a run's report.html is in the rendered page and every inlined
    PNG decoded; returns the DOM."""
    dom = render_dom(out / "report.html", out.parent / f"chromium-profile-{out.name}")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'data-([a-z-]+)="(\d+)"', body))
    n_tables = len(list((out / "tables").glob("*.csv")))
    n_figures = len(list((out / "figures").glob("*.png"))) if (out / "figures").exists() else 0
    # every table file is in the page once (compact views of wide tables come in addition)
    assert int(attrs["tables"]) == n_tables == dom.count("<table data-table=")
    assert int(attrs["figures"]) == n_figures
    assert int(attrs["images-loaded"]) == n_figures  # every inlined PNG decoded by the browser
    return dom
