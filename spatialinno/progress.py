"""Progress on the terminal for long work: step names with elapsed time, and bars for loops.

Shown only when the stream is a terminal and the caller is not quiet; otherwise every method does
nothing, so runs piped to a file or run by CI stay clean and logs stay deterministic::

    progress = Progress.for_terminal(quiet=False)
    with progress.step("esda", 4, 8):
        for item in progress.bar(["nqpf", "ln_gtfp"], "Moran/LISA"):
            ...
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

__all__ = ["Progress"]

T = TypeVar("T")
_WIDTH = 24


class Progress:
    """Step lines and bars on ``stream`` (stderr), or nothing when disabled."""

    def __init__(self, enabled: bool, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr

    @classmethod
    def for_terminal(cls, *, quiet: bool = False, stream: IO[str] | None = None) -> Progress:
        """Enabled only when not ``quiet`` and the stream is a terminal."""
        stream = stream if stream is not None else sys.stderr
        isatty = getattr(stream, "isatty", lambda: False)
        return cls(enabled=not quiet and bool(isatty()), stream=stream)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    @contextmanager
    def step(self, name: str, index: int, total: int) -> Iterator[None]:
        """``[index/total] name ...`` then, when the block ends, its elapsed time."""
        if not self.enabled:
            yield
            return
        t0 = time.perf_counter()
        self._write(f"[{index}/{total}] {name} ...\n")
        yield
        self._write(f"[{index}/{total}] {name} done in {time.perf_counter() - t0:.1f} s\n")

    def bar(self, items: Iterable[T], label: str, total: int | None = None) -> Iterator[T]:
        """Yield ``items`` while drawing ``label [####....] k/n`` (redrawn in place)."""
        if not self.enabled:
            yield from items
            return
        items = list(items) if total is None else items
        n = len(items) if total is None else total  # type: ignore[arg-type]
        t0 = time.perf_counter()
        for k, item in enumerate(items):
            self._draw(label, k, n, t0)
            yield item
        self._draw(label, n, n, t0)
        self._write("\n")

    def _draw(self, label: str, k: int, n: int, t0: float) -> None:
        filled = int(_WIDTH * k / n) if n else _WIDTH
        self._write(f"\r    {label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {k}/{n} "
                    f"{time.perf_counter() - t0:.0f} s")

    def note(self, message: str) -> None:
        """A line for the user (e.g. a warning of the run), printed even without a terminal."""
        self._write(message.rstrip() + "\n")
