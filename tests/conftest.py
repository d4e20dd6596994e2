"""Fixtures shared by the runner tests: one run of the default analysis per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from spatialinno.runner import run

# Property tests draw the same examples on every machine, so that a clean checkout gives the same
# verdict as CI (a random draw finding a new edge case would otherwise fail an unrelated change).
# SPATIALINNO_HYPOTHESIS=explore draws fresh random examples: run it to hunt for new failures.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(
    "explore" if os.environ.get("SPATIALINNO_HYPOTHESIS") == "explore" else "reproducible")


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """Outputs of ``spatialinno run`` on the shipped default analysis (read-only: tests that
    alter outputs copy them first)."""
    out = tmp_path_factory.mktemp("default") / "out"
    run(None, out, quiet=True)
    return out
