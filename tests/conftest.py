"""Fixtures shared by the runner tests: one run of the default analysis per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatialinno.runner import run


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """Outputs of ``spatialinno run`` on the shipped default analysis (read-only: tests that
    alter outputs copy them first)."""
    out = tmp_path_factory.mktemp("default") / "out"
    run(None, out, quiet=True)
    return out
