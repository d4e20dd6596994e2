"""The output folder of a run: what may be replaced, how it is replaced, and its manifest.

The contract (a user's files are never touched):

* ``run(..., out=DIR)`` writes into a temporary folder beside ``DIR`` and moves it into place only
  when every step succeeded.
* ``DIR`` is replaced only when it does not exist, is empty, or is an earlier spatialinno output
  folder: it holds a ``manifest.json`` that carries :data:`SCHEMA` and lists every file we wrote,
  and **nothing else** (no file, folder or link the manifest does not list). Anything else is
  refused with :class:`~spatialinno.errors.OutputFolderError` before a byte is written, naming the
  files that are not ours. The check is repeated just before the swap.
* Temporary and set-aside folders left by an interrupted run (Ctrl-C, a killed process) carry a
  marker with the process id; the next run beside them removes those of dead processes, or puts a
  set-aside output folder back when the swap itself was interrupted.

The manifest records paths relative to the output folder (inputs shipped with the package as
``spatialinno:...``), so a project moved as a whole still verifies, and a digest of its own
content, so an edit of a seed, a version or a hash is detected by ``verify``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import OutputFolderError

__all__ = ["SCHEMA", "MANIFEST", "check_replaceable", "new_temporary", "install",
           "clean_interrupted", "foreign_entries", "manifest_digest", "seal_manifest", "read_manifest"]

SCHEMA = "spatialinno-output/1"
MANIFEST = "manifest.json"
_TMP_PREFIX = ".spatialinno-tmp-"
_MARKER = ".spatialinno-partial"
_MAX_LISTED = 10


def _listing(root: Path) -> tuple[set[str], set[str], set[str]]:
    """Files, folders and links under ``root`` as posix paths relative to it (links not followed)."""
    files, dirs, links = set(), set(), set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in dirnames:
            rel = (here / name).relative_to(root).as_posix()
            (links if (here / name).is_symlink() else dirs).add(rel)
        for name in filenames:
            rel = (here / name).relative_to(root).as_posix()
            (links if (here / name).is_symlink() else files).add(rel)
    return files, dirs, links


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an earlier output folder; :class:`OutputFolderError` when it is missing,
    truncated, not JSON or not ours (no :data:`SCHEMA` marker or no list of outputs)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise OutputFolderError(f"{folder}: no {MANIFEST}; this is not a spatialinno output folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputFolderError(f"{path}: not a readable spatialinno manifest ({exc}); it may be "
                                "truncated or belong to another program") from exc
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise OutputFolderError(f"{path}: not a spatialinno manifest (no \"schema\": \"{SCHEMA}\"); "
                                "the folder belongs to another program or to an older spatialinno")
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
        raise OutputFolderError(f"{path}: the manifest has no list of outputs; it is damaged")
    return manifest


def foreign_entries(out: Path, manifest: dict[str, Any]) -> list[str]:
    """Entries of ``out`` that the manifest does not list (and the folders that hold its files)."""
    ours = set(manifest["outputs"]) | {MANIFEST}
    our_dirs = {p.as_posix() for f in ours for p in Path(f).parents if p.as_posix() != "."}
    files, dirs, links = _listing(out)
    foreign = (files - ours) | (dirs - our_dirs) | links
    # an entry is "ours" only if it is a plain file where the manifest says so
    return sorted(foreign)


def check_replaceable(out: Path, protected: list[Path] = ()) -> None:
    """Raise :class:`OutputFolderError` unless ``out`` may be replaced by a new run's outputs."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputFolderError(f"--out {out}: exists and is not a folder; choose a folder name")
    inside = [p for p in protected if out == p or out in p.parents]
    if inside:
        raise OutputFolderError(f"--out {out}: the output folder would replace the analysis file "
                                f"or its inputs ({', '.join(map(str, inside))}); choose another folder")
    if not out.exists() or not any(out.iterdir()):
        return
    try:
        manifest = read_manifest(out)
    except OutputFolderError as exc:
        raise OutputFolderError(f"--out {out}: the folder is not empty and is not an earlier "
                                f"spatialinno output folder ({exc}); nothing was changed. Choose a "
                                "new or empty folder") from exc
    foreign = foreign_entries(out, manifest)
    if foreign:
        shown = ", ".join(foreign[:_MAX_LISTED]) + (" ..." if len(foreign) > _MAX_LISTED else "")
        raise OutputFolderError(
            f"--out {out}: the folder is an earlier spatialinno output folder but also holds "
            f"{len(foreign)} entr{'y' if len(foreign) == 1 else 'ies'} that the run did not write "
            f"({shown}); nothing was changed. Move them elsewhere or choose another folder")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _marker_pid(folder: Path) -> int | None:
    try:
        return int((folder / _MARKER).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def new_temporary(parent: Path) -> Path:
    """A new temporary output folder in ``parent``, marked with this process's id."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=parent))
    (tmp / _MARKER).write_text(str(os.getpid()), encoding="ascii")
    return tmp


def _set_aside_name(out: Path) -> Path:
    return out.with_name(f".{out.name}.spatialinno-old-{os.getpid()}")


def clean_interrupted(out: Path) -> list[str]:
    """Remove what interrupted runs left beside ``out``; put back an output folder whose swap was
    interrupted. Returns what was done (for the log). Only marked folders of dead processes are
    touched."""
    done: list[str] = []
    parent = out.parent
    if not parent.is_dir():
        return done
    for entry in sorted(parent.iterdir()):
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.startswith(_TMP_PREFIX):
            pid = _marker_pid(entry)
            if pid is not None and not _pid_alive(pid):
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"removed the temporary folder of an interrupted run ({entry.name})")
        elif entry.name.startswith(f".{out.name}.spatialinno-old-"):
            pid_text = entry.name.rsplit("-", 1)[-1]
            if not pid_text.isdigit() or _pid_alive(int(pid_text)):
                continue
            if not out.exists():
                os.replace(entry, out)
                done.append(f"restored {out.name} from an interrupted replacement")
            else:
                try:
                    read_manifest(entry)
                except OutputFolderError:
                    continue  # not recognisably ours: leave it
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"removed the earlier outputs set aside by an interrupted run ({entry.name})")
    return done


def install(tmp: Path, out: Path, protected: list[Path] = ()) -> None:
    """Move the finished ``tmp`` into place as ``out``, replacing an earlier output folder (checked
    again now: a file added during the run makes this refuse, and ``tmp`` is kept for the caller
    to remove)."""
    check_replaceable(out, protected)
    (tmp / _MARKER).unlink(missing_ok=True)
    old = None
    if out.exists():
        old = _set_aside_name(out)
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def manifest_digest(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own ``manifest_sha256`` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def seal_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with :data:`SCHEMA` first and its content digest last."""
    sealed = {"schema": SCHEMA, **{k: v for k, v in manifest.items() if k != "schema"}}
    sealed["manifest_sha256"] = manifest_digest(sealed)
    return sealed
