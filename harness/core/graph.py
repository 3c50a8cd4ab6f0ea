"""Stages, content-addressed cache keys and atomic artifact directories.

Example::

    class Tokenize(Stage):
        kind = "tokenize"
        version = 1

        def run(self, ctx, inputs, out):
            corpus = (inputs["corpus"] / "text.txt").read_text()
            (out / "tokens.txt").write_text(...)

    stage = Tokenize(TokenizeConfig(size=8000), corpus=corpus_stage)
    path = Cache(workdir / "cache").materialize(stage, ctx)   # runs once, then cached

A stage is a pure function ``inputs + config -> artifact directory``. Its key is the SHA-256 of
the canonical JSON of ``{kind, version, config, inputs' keys, extra}``: a changed hyperparameter
or upstream artifact gives a new key, so a stale artifact is never reused; ``version`` is bumped
when a stage's code changes meaning. ``extra`` is for declared non-config inputs such as the
content hash of a data file.

Atomicity: a stage runs into ``<cache>/<kind>/.tmp-<key>-<uuid>/`` and the directory is renamed
to ``<cache>/<kind>/<key>/`` only after its ``manifest.json`` is written, so an entry that exists
is complete. Long stages may keep resumable state (trainer checkpoints) in
:meth:`Cache.partial_dir`, which survives a killed run and is deleted on success.

Integrity: the manifest records the size and SHA-256 of every file of the artifact
(:mod:`harness.core.manifest`); :meth:`Cache.verify` checks them before the artifact is read as
an input, so a truncated or edited weights file stops the run with one message naming the
entry and the fix, not with a library's traceback from deep inside a loader.

Concurrency: a stage is built under a lock file ``<cache>/<kind>/.lock-<key>`` (``filelock``),
so two runs on one workdir (or two workers on a shared filesystem) build each stage once: the
second waits for the first and then finds the artifact. Whoever holds the lock also removes the
``.tmp-<key>-*`` directories that killed runs left behind; no live run can own them then, and
deletes the lock file once the artifact is published (:meth:`Cache._drop_lock_file`). Each
manifest names the run that built it (``run``), so a run counts apart what another built.

Files: an artifact's files get the modes the umask gives (:func:`harness.core.workdir.follow_umask`);
a full disk stops the run with one :class:`harness.core.workdir.NoSpaceError`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from filelock import FileLock
from pydantic import BaseModel

from harness.core.heap import settle_after
from harness.core.manifest import (
    MANIFEST,
    CacheError,
    corrupt_entry,
    damaged_file,
    unreadable_entry,
    write_manifest,
)
from harness.core.origins import stage_stamp
from harness.core.stop_signals import raise_pending_stop
from harness.core.threads import stage_threads
from harness.core.workdir import follow_umask, out_of_space_stops

log = logging.getLogger(__name__)


class UnknownStageKindError(ValueError):
    """A stage kind was named (``--rerun``) that no stage of the run has."""


class RetryStageError(RuntimeError):
    """A stage changed how it runs and must start again.

    E.g. after CUDA ran out of memory it lowered its per-device batch
    (:func:`harness.training.arguments.train_resumably`).
    """


#: How often one build may start again after :class:`RetryStageError` (a batch of 256 halves
#: to 1 in 8 steps), so that a stage that keeps asking cannot loop for ever.
MAX_STAGE_RESTARTS = 8


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no whitespace: the byte string that keys are hashed from."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def hash_payload(payload: Any) -> str:
    """SHA-256 hex digest of :func:`canonical_json` of ``payload``."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def config_payload(config: BaseModel | None) -> Any:
    """The JSON form of a stage config (a pydantic model) that enters the key."""
    return None if config is None else config.model_dump(mode="json")


@dataclass
class StageContext:
    """What every stage may use besides its declared inputs: device, precision, seed, scratch space."""

    device: str = "cpu"
    seed: int = 0
    cache: Cache | None = None
    #: Mixed precision of training (``--precision``; :func:`harness.training.arguments.precision_flags`).
    #: Like ``device``, it does not enter stage keys: it says how a result is computed, not what.
    precision: str = "auto"
    progress: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    #: Which run builds: written into each manifest, so that a run can tell the stages it built
    #: from those another run on the same workdir built meanwhile.
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def partial_dir(self, stage: Stage) -> Path:
        """Persistent scratch directory for resumable state of ``stage`` (checkpoints)."""
        if self.cache is None:
            raise RuntimeError("StageContext.partial_dir needs a cache")
        return self.cache.partial_dir(stage)


class Stage(ABC):
    """One node of the job graph: ``config`` + named input stages -> an artifact directory.

    ``seed`` is given to stages whose output depends on randomness (training); it enters the key
    and is what ``ctx.seed`` holds while the stage runs (0 for seedless stages).

    Subclasses set ``kind`` (the cache folder name), ``version`` and implement :meth:`run`,
    which must read only ``inputs`` (the input stages' artifact directories), its config and
    :meth:`extra_key` material, and write only under ``out``.
    """

    kind: ClassVar[str]
    version: ClassVar[int] = 1
    #: Whether :meth:`run` puts a model on ``ctx.device``: a cluster executor gives such a stage
    #: a GPU when the run is on CUDA, and the others CPUs only.
    uses_device: ClassVar[bool] = False
    #: A job whose graph holds this stage (``method/backbone/task/lang/seed``), set by the
    #: runner for progress and failure messages; it does not enter the key.
    needed_by: str = ""

    def __init__(self, config: BaseModel | None = None, *, seed: int | None = None,
                 **inputs: Stage):
        self.config = config
        self.seed = seed
        self.inputs: dict[str, Stage] = dict(inputs)

    def extra_key(self) -> dict[str, Any]:
        """Declared non-config inputs that enter the key (e.g. data file content hashes)."""
        return {}

    def identity(self) -> dict:
        """What the key hashes (and the manifest records): kind, version, config, seed, inputs' keys, extra.

        A stage class defined by a plugin adds its plugin's stamp (package and version, or the
        included file's content hash: :mod:`harness.core.origins`), so that changed plugin
        code never reuses an artifact; a harness stage has none, and its key is as before.
        """
        identity = {
            "kind": self.kind,
            "version": self.version,
            "config": config_payload(self.config),
            "seed": self.seed,
            "inputs": {name: stage.key for name, stage in sorted(self.inputs.items())},
            "extra": self.extra_key(),
        }
        plugin = stage_stamp(type(self))
        if plugin:
            identity["plugin"] = plugin
        return identity

    @cached_property
    def key(self) -> str:
        """Content address: the hash of :meth:`identity`."""
        return hash_payload(self.identity())

    @property
    def label(self) -> str:
        """Short human-readable name used in logs and plans."""
        return f"{self.kind}:{self.key[:10]}"

    @property
    def title(self) -> str:
        """What a person reads in the progress display: the kind and a job that needs it."""
        return f"{self.kind} for {self.needed_by}" if self.needed_by else self.label

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Facts from a finished artifact worth putting in result records (override)."""
        return {}

    @abstractmethod
    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Compute the artifact into the (empty, existing) directory ``out``."""


class Cache:
    """Content-addressed artifact store: ``<root>/<kind>/<key>/``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._verified: set[str] = set()
        # a published artifact never changes (its key names its content), so its manifest and
        # summary are read once per key; invalidate() and a build of the key forget them
        self._manifests: dict[str, dict[str, Any]] = {}
        self._summaries: dict[str, dict[str, Any]] = {}
        self._done: set[str] = set()

    def path(self, stage: Stage) -> Path:
        """Where the artifact of ``stage`` lives once finished."""
        return self.root / stage.kind / stage.key

    def partial_dir(self, stage: Stage) -> Path:
        """Scratch directory that survives interruption; removed when the stage finishes."""
        path = self.root / stage.kind / f".partial-{stage.key}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def is_done(self, stage: Stage) -> bool:
        """True when the finished artifact of ``stage`` exists (once seen, until invalidated).

        Raises:
            CacheError: the entry may not be read (its permissions): one message naming it and
                the fix (:func:`harness.core.manifest.unreadable_entry`).
        """
        if stage.key not in self._done:
            try:
                found = (self.path(stage) / MANIFEST).is_file()
            except PermissionError as error:
                raise unreadable_entry(stage.title, self.path(stage), error) from error
            if found:
                self._done.add(stage.key)
        return stage.key in self._done

    def manifest(self, stage: Stage) -> dict[str, Any]:
        """The manifest of a finished artifact, read once; a corrupt one raises :class:`CacheError`."""
        if stage.key not in self._manifests:
            path = self.path(stage) / MANIFEST
            try:
                self._manifests[stage.key] = json.loads(path.read_text(encoding="utf-8"))
            except PermissionError as error:
                raise unreadable_entry(stage.title, path.parent, error) from error
            except (OSError, json.JSONDecodeError) as error:
                raise corrupt_entry(stage.title, path.parent, str(error)) from error
        return self._manifests[stage.key]

    def summary(self, stage: Stage) -> dict[str, Any]:
        """:meth:`Stage.summary` of the finished artifact of ``stage``, read once per key.

        A stage shared by many jobs (a backbone, a corpus) is summarised into each job's record.
        """
        if stage.key not in self._summaries:
            self._summaries[stage.key] = stage.summary(self.path(stage))
        return self._summaries[stage.key]

    def _forget(self, stage: Stage) -> None:
        """Drop what was read of ``stage``'s artifact: it is being removed or built anew."""
        for memo in (self._manifests, self._summaries):
            memo.pop(stage.key, None)
        self._verified.discard(stage.key)
        self._done.discard(stage.key)

    def verify(self, stage: Stage) -> None:
        """Check a finished artifact's files against its manifest's checksums (once per key).

        Entries written before manifests had ``files`` are taken as they are.

        Raises:
            CacheError: a file is missing, or its size or SHA-256 differs (truncated, edited),
                the entry is a symbolic link, or a file may not be read (permissions).
        """
        if stage.key in self._verified:
            return
        entry = self.path(stage)
        try:
            problem = damaged_file(entry, self.manifest(stage).get("files", {}))
        except PermissionError as error:
            raise unreadable_entry(stage.title, entry, error) from error
        if problem:
            raise corrupt_entry(stage.title, entry, problem)
        self._verified.add(stage.key)

    def materialize(self, stage: Stage, ctx: StageContext) -> Path:
        """Return the artifact directory of ``stage``, running it if it is not cached.

        Input stages must already be materialized (the runner orders them).

        Raises:
            NoSpaceError: the cache's filesystem is full (the run must stop, see
                :mod:`harness.core.workdir`).
        """
        final = self.path(stage)
        if self.is_done(stage):
            return final
        raise_pending_stop()  # not one stage more once asked to stop
        with out_of_space_stops(self.root, f"building {stage.title}"):
            final.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(self.lock_path(stage)):
                try:
                    if self.is_done(stage):  # another run built it while this one waited
                        return final
                    for leftover in final.parent.glob(f".tmp-{stage.key}-*"):
                        shutil.rmtree(leftover, ignore_errors=True)
                    return self._build_restarting(stage, ctx)
                finally:
                    self._drop_lock_file(stage)

    def lock_path(self, stage: Stage) -> Path:
        """The lock file under which ``stage`` is built."""
        return self.path(stage).parent / f".lock-{stage.key}"

    def _drop_lock_file(self, stage: Stage) -> None:
        """Delete the lock file of a published stage, while still holding the lock.

        ``filelock`` keeps lock files on Unix, since a process waiting on the unlinked file and
        one creating a new file could both hold "the" lock. Here that overlap is harmless: the
        artifact is published before the file goes, and whoever gets a lock checks
        :meth:`is_done` before building, so no stage is built twice; and filelock 4 notices a
        lock whose file was unlinked and takes it again. A stage that failed or was stopped
        keeps its lock file until it is built, so the files do not accumulate.
        """
        if self.is_done(stage):
            with contextlib.suppress(OSError):  # Windows: an open file cannot be unlinked
                self.lock_path(stage).unlink(missing_ok=True)

    def _build_restarting(self, stage: Stage, ctx: StageContext) -> Path:
        """:meth:`_build`, started again when the stage raises :class:`RetryStageError`."""
        for _ in range(MAX_STAGE_RESTARTS):
            try:
                return self._build(stage, ctx)
            except RetryStageError as retry:
                log.warning("%s: %s", stage.label, retry)
            gc.collect()  # the failed attempt's model and optimizer, before the next one loads
        return self._build(stage, ctx)

    def _build(self, stage: Stage, ctx: StageContext) -> Path:
        """Run ``stage`` into a temporary directory and publish it (caller holds the lock)."""
        final = self.path(stage)
        inputs = {}
        for name, upstream in stage.inputs.items():
            if not self.is_done(upstream):
                raise CacheError(f"{stage.label}: input {name!r} ({upstream.label}) is not built")
            self.verify(upstream)
            inputs[name] = self.path(upstream)
        tmp = final.parent / f".tmp-{stage.key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        self._forget(stage)
        started = time.time()
        try:
            seed_everything(stage.seed or 0)
            with stage_threads(stage) as threads:
                stage.run(replace(ctx, seed=stage.seed or 0), inputs, tmp)
            settle_after(stage.kind)  # the heap it imported, out of every later full gc pass
            follow_umask(tmp)
            write_manifest(stage.identity(), stage.key, tmp, started, ctx.run_id, threads)
            self._publish(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self.discard_partial(stage)
        return final

    def discard_partial(self, stage: Stage) -> None:
        """Remove the scratch directory of ``stage`` (its checkpoints), if any.

        Done once its artifact is published, and by the runner for a published stage whose
        scratch a run killed right after publishing left behind: nothing reads it again.
        """
        shutil.rmtree(self.root / stage.kind / f".partial-{stage.key}", ignore_errors=True)

    def invalidate(self, stage: Stage) -> None:
        """Remove a finished artifact so that the next run recomputes it."""
        self._forget(stage)
        remove_entry(self.path(stage), ignore_errors=True)

    @staticmethod
    def _publish(tmp: Path, final: Path) -> None:
        if final.is_symlink() or final.exists():  # a crashed attempt's directory without a manifest
            remove_entry(final)
        os.rename(tmp, final)


def remove_entry(path: Path, ignore_errors: bool = False) -> None:
    """Remove the cache entry at ``path`` without ever following a link out of the workdir.

    A symbolic link is unlinked (its target stays); a directory is removed with its files (a
    link inside it is unlinked, as :func:`shutil.rmtree` does). Example::

        remove_entry(cache.path(stage))   # the next run rebuilds it
    """
    if path.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=ignore_errors)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (``transformers.set_seed``).

    Called before every stage runs, so that whatever a stage draws before it seeds anything
    itself (a model's or task head's initialisation) is decided by its seed, not by what ran
    before it in the same process.
    """
    from transformers import set_seed

    set_seed(seed)


def topological_order(finals: list[Stage]) -> list[Stage]:
    """All stages reachable from ``finals``, deduplicated by key, inputs before consumers."""
    order: list[Stage] = []
    seen: set[str] = set()

    def visit(stage: Stage) -> None:
        if stage.key in seen:
            return
        for upstream in stage.inputs.values():
            visit(upstream)
        seen.add(stage.key)
        order.append(stage)

    for final in finals:
        visit(final)
    return order
