"""Hub datasets: pinned commits, the commit an unpinned revision names, and local mirrors.

Example::

    is_commit("3e1f92c331f318af862b87e2319ed5dc26d80f5d")      # True: a pinned revision
    resolved_commit("org/data", "main")      # the commit 'main' names now (None: unknown)
    mirror_dir("unimelb-nlp/wikiann")        # $UNIBRIDGE_HUB_MIRROR/unimelb-nlp/wikiann or None

Pins. A hub revision is *pinned* when it is a full 40-hex commit id; a branch or tag (or no
revision, i.e. ``main``) can move. An unpinned source still gets an exact cache key: its
fingerprint names the commit the revision resolves to (:func:`resolved_commit`): the hub's
answer when online, else the commit the local hub cache holds for it (what ``load_dataset``
would read offline). ``validate`` warns about every unpinned hub source and names that commit,
so that it can be pasted into the suite.

Mirrors. ``UNIBRIDGE_HUB_MIRROR=DIR`` makes the harness read hub dataset ``owner/name`` from
``DIR/owner/name/`` when that folder exists: a copy of the dataset's hub repository (its
``README.md`` with the ``configs:`` metadata and its data files), loaded by the very same
``datasets.load_dataset`` call with the folder in place of the hub id. Make one with::

    hf download --repo-type dataset ORG/NAME --revision COMMIT --local-dir DIR/ORG/NAME

A repository that is a loading script (``<name>.py``, which current ``datasets`` refuses to
run) is named at ``validate`` wherever its file list is at hand: a mirror, the hub cache, the
hub's answer (:func:`loading_script`).

The commit a mirror holds is read from what ``hf download`` (``.cache/huggingface/download``)
or ``git clone`` (``.git``) leave in it (:func:`mirror_commit`); a mirror of another commit than
the one a suite pins is refused at ``validate``. A mirror that records no commit (a hand-made
copy, the test replicas in ``fixtures/replicas/hub``) is keyed by its file names, sizes and
modification times instead.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

MIRROR_ENV = "UNIBRIDGE_HUB_MIRROR"
"""Folder holding local copies of hub dataset repositories, one per ``owner/name``."""

#: Either makes ``datasets.load_dataset`` use only what is cached (datasets reads both).
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")

_COMMIT = re.compile(r"[0-9a-f]{40}")


def is_commit(revision: str | None) -> bool:
    """Whether ``revision`` is a full commit id (a pin that cannot move)."""
    return revision is not None and _COMMIT.fullmatch(revision) is not None


def offline_reason() -> str | None:
    """``'<VARIABLE> is set'`` when an offline variable forbids asking the hub, else None."""
    for name in OFFLINE_VARIABLES:
        value = os.environ.get(name)
        if value is not None and value.upper() in {"1", "ON", "YES", "TRUE"}:
            return f"{name} is set"
    return None


def mirror_dir(hub: str) -> Path | None:
    """``$UNIBRIDGE_HUB_MIRROR/<hub>`` when the variable is set and that folder exists."""
    root = os.environ.get(MIRROR_ENV)
    if not root:
        return None
    folder = Path(root).expanduser() / hub
    return folder if folder.is_dir() else None


def mirror_commit(folder: Path) -> str | None:
    """The commit a mirror holds, as recorded by ``hf download --local-dir`` or ``git clone``.

    ``hf download`` writes ``.cache/huggingface/download/<file>.metadata`` whose first line is
    the commit of every file it fetched; ``git clone`` leaves ``.git/HEAD``. None when neither
    records one commit.
    """
    metadata = Path(folder) / ".cache" / "huggingface" / "download"
    commits = {path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
               for path in metadata.rglob("*.metadata")} if metadata.is_dir() else set()
    if len(commits) == 1 and is_commit(next(iter(commits))):
        return commits.pop()
    return _git_head(Path(folder) / ".git")


def mirror_digest(folder: Path) -> str:
    """SHA-256 over the relative names, sizes and modification times of a mirror's files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if relative.parts[0] in {".cache", ".git"}:
            continue
        stat = path.stat()
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def hub_cache_commit(hub: str, revision: str | None) -> str | None:
    """The commit the local hub cache holds for ``revision`` (default ``main``), or None.

    Only a non-empty snapshot counts: ``load_dataset`` offline would not find an empty one.
    """
    snapshot = hub_cache_snapshot(hub, revision)
    return snapshot.name if snapshot is not None else None


def hub_cache_snapshot(hub: str, revision: str | None) -> Path | None:
    """The local hub cache's non-empty snapshot folder of ``revision`` (default ``main``), or None."""
    from huggingface_hub import constants

    root = Path(constants.HF_HUB_CACHE) / f"datasets--{hub.replace('/', '--')}"
    ref = root / "refs" / (revision or "main")
    commit = ref.read_text().strip() if ref.is_file() else (revision or "")
    snapshot = root / "snapshots" / commit
    return snapshot if commit and snapshot.is_dir() and any(snapshot.iterdir()) else None


def loading_script(hub: str, root_files: Iterable[str]) -> str | None:
    """The loading script of dataset ``owner/<name>`` among its repository's root files, or None.

    The script is ``<name>.py``: ``datasets.load_dataset`` (4 and later; 5.0.1 here) refuses a
    repository that holds it, whatever else the repository holds ("Dataset scripts are no longer
    supported, but found <name>.py": ``datasets.load.dataset_module_factory``, for a hub id and
    for a local folder alike). MasakhaNER 2.0's ``masakhane/masakhaner2`` is such a repository
    (its card and ``masakhaner2.py``, no data files).
    """
    script = f"{hub.rsplit('/', 1)[-1]}.py"
    return script if script in set(root_files) else None


@lru_cache(maxsize=256)
def resolved_commit(hub: str, revision: str | None) -> str | None:
    """The commit ``revision`` of hub dataset ``hub`` names: a pin itself, else looked up.

    Online the hub is asked (10 s timeout); offline, or when that fails, the local hub cache
    answers. None when neither knows. Remembered for the process, so that every stage of one
    run is keyed by the same commit.
    """
    if is_commit(revision):
        return revision
    if offline_reason() is None:
        from huggingface_hub import HfApi

        try:
            sha = HfApi().dataset_info(hub, revision=revision, timeout=10).sha
        except Exception:  # noqa: BLE001 - unreachable: fall back to the cache
            sha = None
        if sha:
            return sha
    return hub_cache_commit(hub, revision)


def _git_head(git: Path) -> str | None:
    head = git / "HEAD"
    if not head.is_file():
        return None
    text = head.read_text(encoding="utf-8").strip()
    if not text.startswith("ref: "):
        return text if is_commit(text) else None
    ref = text[len("ref: "):]
    if (git / ref).is_file():
        commit = (git / ref).read_text(encoding="utf-8").strip()
        return commit if is_commit(commit) else None
    packed = git / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and is_commit(parts[0]):
                return parts[0]
    return None


_ACCESS: dict[tuple[str, str | None], str | None] = {}
"""(hub id, revision) → why its files cannot be read here (None: they can), asked once."""


def file_access_problem(hub_id: str, revision: str | None, filename: str) -> str | None:
    """Why this machine's token cannot read ``filename`` of dataset ``hub_id`` (None: it can).

    Why: a gated dataset (FLORES+) answers ``dataset_info`` whatever the token, and refuses its
    files until the token's account has accepted the terms, so that a suite would fail at the
    first stage that reads them, after hours of training. One HEAD request of the file
    (``get_hf_file_metadata``, 10 s) per dataset and revision and process; a gated or missing
    repository (``GatedRepoError``, ``RepositoryNotFoundError``) is the problem, with how to
    accept the terms and log in. Any other failure (network) is left to the reachability check.
    """
    key = (hub_id, revision)
    if key not in _ACCESS:
        _ACCESS[key] = _ask_file_access(hub_id, revision, filename)
    return _ACCESS[key]


def _ask_file_access(hub_id: str, revision: str | None, filename: str) -> str | None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    url = hf_hub_url(hub_id, filename, repo_type="dataset", revision=revision)
    page = f"https://huggingface.co/datasets/{hub_id}"
    login = ("log in here with a token of that account (`huggingface-cli login`, `hf auth login`, "
             "or set HF_TOKEN)")
    try:
        get_hf_file_metadata(url, timeout=10)
    except GatedRepoError:
        return (f"hub dataset {hub_id!r} is gated and this machine's token may not read its files "
                f"(HEAD {url} refused): accept its terms on {page} while logged in, then {login}")
    except RepositoryNotFoundError:
        return (f"hub dataset {hub_id!r}: its files cannot be read without a token that may read "
                f"them (HEAD {url} refused); if it is gated, accept its terms on {page}, then {login}")
    except Exception:  # noqa: BLE001 - network failures are the reachability check's to report
        return None
    return None
