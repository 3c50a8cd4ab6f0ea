"""Check a whole workdir against its manifests, as ``git fsck`` checks a repository.

Example::

    check = check_workdir(Path("runs/smoke"))
    check.damaged          # [Entry(kind="backbone", key="3f2a…", problem="model/… differs …")]
    check.built_on(entry)  # the entries whose manifests name it as an input, transitively
    check.jobs_on(entry)   # the job ids whose records were computed from it
    repair(check)          # removes the damaged entries and unreadable record files

What is checked, for every entry ``<workdir>/cache/<kind>/<key>/``: its ``manifest.json`` is
readable JSON naming this kind and key; every file it lists exists with the recorded size and
SHA-256 (:func:`harness.core.manifest.damaged_file`, the check a run makes of what it reads); and the
entry holds no file the manifest does not list (a stray file, which a stage reading the
directory could pick up; a run does not look for those). Record files under ``results/`` must
parse as records (:func:`harness.run.records.read_record`).

An entry that is a symbolic link is damaged (a stage writes a directory), and one that may not
be read (its permissions) is listed with that problem instead of stopping the check. Repair
removes only the damaged entries, and never anything outside the workdir: a linked entry loses
its link, not what it points to; an entry it may not remove is named with the fix in one
:class:`VerifyError`. What was built on one keeps its artifact: it was built
from the intact entry before the damage, and its key names the damaged entry's key, which the
next run rebuilds from the same config and inputs. Records are kept too (they were written from
intact artifacts); an unreadable record file is removed, and written again by the next run of
its job. Work directories (``.tmp-*``, ``.partial-*``, ``.lock-*``) are not entries and are
left to the runs that own them; so is the vocabulary search's training cache
(``cache/spm_trainings/``), whose folders are not named by stage keys.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from harness.core.graph import remove_entry
from harness.core.manifest import MANIFEST, STAGE_KEY, damaged_file, linked_entry
from harness.run.records import aggregate, read_record, record_files
from harness.run.runner import CACHE_DIR

log = logging.getLogger(__name__)


class VerifyError(RuntimeError):
    """``verify`` may not list a cache folder, or ``--repair`` may not remove a damaged entry.

    (Its permissions, or the entry lies outside the workdir.) The message names the fix.
    """


@dataclass(frozen=True)
class Entry:
    """One cache entry: where it is, the input keys its manifest names, what is wrong with it."""

    kind: str
    key: str
    path: Path
    inputs: frozenset[str] = frozenset()
    problem: str | None = None

    @property
    def label(self) -> str:
        """``kind:key`` with the key cut to 10 characters, as stage labels are."""
        return f"{self.kind}:{self.key[:10]}"


@dataclass
class WorkdirCheck:
    """Every entry of a workdir's cache, checked, and the records' job ids by the key they end in."""

    workdir: Path
    entries: list[Entry]
    jobs_by_key: dict[str, list[str]] = field(default_factory=dict)
    unreadable_records: list[Path] = field(default_factory=list)

    @property
    def damaged(self) -> list[Entry]:
        """The entries with a problem, in kind and key order."""
        return [entry for entry in self.entries if entry.problem]

    @property
    def clean(self) -> bool:
        """True when no entry is damaged and every record file is readable."""
        return not self.damaged and not self.unreadable_records

    @cached_property
    def consumers(self) -> dict[str, list[Entry]]:
        """Key -> the entries whose manifests name it as an input."""
        consumers: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for key in entry.inputs:
                consumers.setdefault(key, []).append(entry)
        return consumers

    def built_on(self, damaged: Entry) -> list[Entry]:
        """Entries whose manifests name ``damaged`` as an input, directly or through others."""
        reached, queue = {damaged.key}, [damaged.key]
        found: list[Entry] = []
        while queue:
            for entry in self.consumers.get(queue.pop(), []):
                if entry.key not in reached:
                    reached.add(entry.key)
                    found.append(entry)
                    queue.append(entry.key)
        return sorted(found, key=lambda entry: (entry.kind, entry.key))

    def jobs_on(self, damaged: Entry) -> list[str]:
        """Job ids whose records end in ``damaged`` or in an entry built on it."""
        keys = [damaged.key, *(entry.key for entry in self.built_on(damaged))]
        return sorted({job for key in keys for job in self.jobs_by_key.get(key, [])})


def check_workdir(workdir: Path) -> WorkdirCheck:
    """Check every cache entry and record file of ``workdir`` (see the module docstring).

    Raises:
        FileNotFoundError: ``workdir`` has no ``cache/`` folder (not a run's workdir).
    """
    workdir = Path(workdir)
    root = workdir / CACHE_DIR
    if not root.is_dir():
        raise FileNotFoundError(f"{workdir} has no {CACHE_DIR}/ folder: not the workdir of a run")
    entries = [check_entry(path) for kind in sorted(root.iterdir()) if is_kind_dir(kind)
               for path in entry_dirs(kind)]
    check = WorkdirCheck(workdir, entries)
    for path in record_files(workdir):
        record = read_record(path)
        if record is None:
            check.unreadable_records.append(path)
        else:
            check.jobs_by_key.setdefault(record.config_hash, []).append(record.job_id)
    return check


def is_kind_dir(path: Path) -> bool:
    """A folder of the cache root that may hold entries (not a ``.``-named work folder)."""
    return path.is_dir() and not path.name.startswith(".")


def entry_dirs(kind: Path) -> list[Path]:
    """The entries of the kind folder ``kind``, sorted.

    Raises:
        VerifyError: the folder may not be listed (its permissions); the message names the fix.
    """
    try:
        return sorted(path for path in kind.iterdir() if is_entry_dir(path))
    except PermissionError as error:
        raise VerifyError(f"cache folder {kind} may not be read ({error.strerror}): give this user "
                          f"read access (`chmod -R u+rwX {kind}` as its owner) and verify again") from error


def is_entry_dir(path: Path) -> bool:
    """An entry: a directory named by a stage key (64 hex digits), finished or damaged.

    Work folders (``.tmp-*``, ``.partial-*``) and what other caches keep under the cache root
    (the vocabulary search's ``spm_trainings/<corpus hash>/``) are not entries.
    """
    return (path.is_dir() or path.is_symlink()) and STAGE_KEY.fullmatch(path.name) is not None


def check_entry(path: Path) -> Entry:
    """The entry at ``path`` (``<cache>/<kind>/<key>``) with its first problem, if any.

    A symbolic link is damaged whatever it points to; what may not be read is a problem of its
    own (``manifest.json may not be read: Permission denied``), not an exception.
    """
    kind, key = path.parent.name, path.name
    if path.is_symlink():
        return Entry(kind, key, path, problem=linked_entry(path))
    try:
        return _checked_entry(path, kind, key)
    except PermissionError as error:
        denied = Path(error.filename or path)
        name = denied.relative_to(path).as_posix() if denied.is_relative_to(path) else str(denied)
        name = "the entry" if name == "." else name
        return Entry(kind, key, path, problem=f"{name} may not be read ({error.strerror})")


def _checked_entry(path: Path, kind: str, key: str) -> Entry:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except PermissionError:
        raise
    except FileNotFoundError:
        return Entry(kind, key, path, problem=f"{MANIFEST} is missing")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return Entry(kind, key, path, problem=f"{MANIFEST} is not readable JSON ({error})")
    if not isinstance(manifest, dict) or (manifest.get("kind"), manifest.get("key")) != (kind, key):
        return Entry(kind, key, path, problem=f"{MANIFEST} does not describe {kind}/{key}")
    inputs = frozenset(manifest.get("inputs", {}).values())
    files = manifest.get("files")
    if files is None:  # written before manifests had checksums: taken as it is, as runs do
        return Entry(kind, key, path, inputs)
    problem = damaged_file(path, files) or stray_file(path, files)
    return Entry(kind, key, path, inputs, problem)


def stray_file(path: Path, files: dict) -> str | None:
    """The first file under the entry ``path`` that its manifest's ``files`` do not list."""
    for file in sorted(path.rglob("*")):
        name = file.relative_to(path).as_posix()
        if file.is_file() and name != MANIFEST and name not in files:
            return f"{name} is a stray file: the stage did not write it"
    return None


def repair(check: WorkdirCheck) -> None:
    """Remove the damaged entries and unreadable record files; rebuild ``results.jsonl``.

    Nothing outside the workdir is removed: a linked entry loses the link only, and an entry
    reached through a linked kind folder is left. Example::

        repair(check_workdir(Path("runs/smoke")))

    Raises:
        VerifyError: an entry may not be removed (its permissions) or lies outside the workdir;
            the message names it and the fix. The entries before it are removed.
    """
    inside = check.workdir.resolve()
    for entry in check.damaged:
        if not entry.path.is_symlink() and not entry.path.resolve().is_relative_to(inside):
            raise VerifyError(f"damaged cache entry {entry.path} lies outside the workdir "
                              f"({entry.path.resolve()}): not removed; remove it yourself")
        try:
            remove_entry(entry.path)
        except PermissionError as error:
            raise VerifyError(f"damaged cache entry {entry.path} may not be removed "
                              f"({error.strerror}: {error.filename}): give this user access "
                              f"(`chmod -R u+rwX {entry.path}` as its owner) or remove it as its "
                              f"owner, then verify again") from error
        log.info("removed %s", entry.path)
    for path in check.unreadable_records:
        path.unlink()
    if check.unreadable_records:
        aggregate(check.workdir)
