"""One cache entry's ``manifest.json``: writing it, and checking the entry's files against it.

Example::

    write_manifest(stage.identity(), stage.key, tmp, started, run_id)  # before publishing
    problem = damaged_file(entry, manifest["files"])  # "model.bin is missing", or None
    if problem:
        raise corrupt_entry(stage.title, entry, problem)  # names the entry and how to rebuild it

The manifest records what the entry was built from (the stage's identity and key), when, by
which run, and the size and SHA-256 of every file of the artifact (``files``). A run checks an
entry against it before the entry is read as an input (:meth:`harness.core.graph.Cache.verify`), and
``unibridge-bench verify`` checks every entry of a workdir (:mod:`harness.run.integrity`): a
truncated or edited weights file stops the run with one message naming the entry and the fix,
not with a library's traceback from deep inside a loader.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.workdir import atomic_write_text

MANIFEST = "manifest.json"
STAGE_KEY = re.compile("[0-9a-f]{64}")  # harness.core.graph.hash_payload's SHA-256 hex digest


class CacheError(RuntimeError):
    """A cache entry is unreadable (e.g. a corrupt or hand-edited artifact)."""


def write_manifest(identity: Mapping[str, Any], key: str, folder: Path, started: float,
                   run_id: str, threads: int | None = None) -> None:
    """Write ``folder``'s manifest: a stage's ``identity`` and ``key``, its timing, its run, its files.

    ``identity`` is :meth:`harness.core.graph.Stage.identity` (what the key hashes); ``threads``
    the intra-op threads it ran with (:mod:`harness.core.threads`), which the key leaves out.
    """
    manifest = {
        **identity,
        "key": key,
        "started": started,
        "seconds": round(time.time() - started, 3),
        "run": run_id,
        **({"threads": threads} if threads is not None else {}),
        "files": file_checksums(folder),
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))


def damaged_file(entry: Path, files: Mapping[str, Mapping[str, Any]]) -> str | None:
    """What is wrong with the first of ``files`` (a manifest's) that is missing or differs, if any.

    An entry that is a symbolic link is damaged as such: a stage writes a directory, and what a
    link points to lies outside the workdir (``verify --repair`` removes the link, never its target).

    Raises:
        PermissionError: a file cannot be read (see :func:`unreadable_entry`).
    """
    if entry.is_symlink():
        return linked_entry(entry)
    for name, expected in files.items():
        file = entry / name
        if not file.is_file():
            return f"{name} is missing"
        if file.stat().st_size != expected["size"] or file_sha256(file) != expected["sha256"]:
            return f"{name} differs from the file the stage wrote (truncated or changed since)"
    return None


def linked_entry(entry: Path) -> str:
    """The problem of an entry that is a symbolic link: where it points."""
    return f"it is a symbolic link to {entry.readlink()}, not a directory a stage wrote"


def corrupt_entry(title: str, entry: Path, problem: str) -> CacheError:
    """The one message for a damaged cache entry: which entry, what is wrong, how to rebuild it.

    ``title`` is the stage's (:attr:`harness.core.graph.Stage.title`); ``entry`` is
    ``<workdir>/cache/<kind>/<key>``, so the kind is its parent's name and the workdir to verify
    is three levels up.
    """
    return CacheError(f"damaged cache entry {entry} ({title}): {problem}. Remove it with "
                      f"`unibridge-bench verify {entry.parents[2]} --repair` (the next run "
                      f"rebuilds it), re-run with --rerun {entry.parent.name} to rebuild it and what is "
                      f"built on it, or delete that directory.")


def unreadable_entry(title: str, entry: Path, error: OSError) -> CacheError:
    """The one message for a cache entry the run may not read (its or a file's permissions).

    ``verify --repair`` cannot help there (what cannot be read may not be removable either), so
    the fix named is the permissions, or removing the entry as its owner. Example::

        unreadable cache entry runs/x/cache/finetune/9dbf… (finetune for zero_shot/…): Permission
        denied: …/manifest.json. Give this user read access (`chmod -R u+rwX …/9dbf…` as its
        owner) or remove that directory; the next run rebuilds it.
    """
    what = f"{error.strerror or error}: {error.filename}" if error.filename else str(error)
    return CacheError(f"unreadable cache entry {entry} ({title}): {what}. Give this user read "
                      f"access (`chmod -R u+rwX {entry}` as its owner) or remove that directory; "
                      f"the next run rebuilds it.")


def load_tensors(file: Path) -> Any:
    """``torch.load(file, weights_only=True)`` of an artifact's tensors, on the CPU.

    A file that holds other objects (a pickle put in place of the stage's tensors) is refused
    by torch; that refusal becomes one :class:`CacheError` naming the entry and ``verify
    --repair``, never torch's advice to load it unchecked. Example::

        matrix = load_tensors(artifact / "embeddings.pt")
    """
    import torch

    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        file = Path(file)
        problem = "holds objects other than tensors, which no stage writes (replaced or damaged)"
        entry = next((folder for folder in file.parents if STAGE_KEY.fullmatch(folder.name)), None)
        if entry is None:
            raise CacheError(f"{file} {problem}; delete it and run again") from error
        problem = f"{file.relative_to(entry).as_posix()} {problem}"
        raise corrupt_entry(entry.parent.name, entry, problem) from error


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file under ``folder`` but the manifest, by relative path."""
    return {path.relative_to(folder).as_posix(): {"size": path.stat().st_size,
                                                   "sha256": file_sha256(path)}
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST}
