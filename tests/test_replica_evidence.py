"""Every replica file, archive member and sentence pair exists in its real source (evidence.yaml).

Each replica folder under ``fixtures/replicas/`` holds an ``evidence.yaml``: ``source`` (the real
source, one line), ``evidence`` (where each fact was seen), ``files`` (paths or glob patterns the
real source holds), ``members`` (for an archive: its member paths) and, for parallel data,
``pairs`` (Moses file stem → sentence pairs in the real file). :func:`replica_problems` lists
every replica file the listing lacks, every archive member (a UD treebank file) it lacks, and
every parallel file holding more lines than the real one has pairs; it must find none.
"""

import shutil
import tarfile
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
import yaml

REPLICAS = Path(__file__).resolve().parents[1] / "fixtures" / "replicas"
EVIDENCE = "evidence.yaml"
KEYS = {"source", "evidence", "files", "members", "pairs"}


def listed(name: str, patterns: list[str]) -> bool:
    """Whether ``name`` is one of ``patterns`` (``fnmatch`` globs, case-sensitive)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def listing_problems(path: Path, listing: object) -> list[str]:
    """What is malformed in one evidence file (keys, a one-line source, evidence strings)."""
    if not isinstance(listing, dict):
        return [f"{path}: not a mapping"]
    problems = [f"{path}: unknown key {key!r}; valid: {', '.join(sorted(KEYS))}"
                for key in sorted(set(listing) - KEYS)]
    source = listing.get("source")
    if not isinstance(source, str) or not source.strip() or "\n" in source.strip():
        problems.append(f"{path}: 'source' must be one line naming the real source")
    evidence = listing.get("evidence")
    if not evidence or not all(isinstance(item, str) and item for item in evidence):
        problems.append(f"{path}: 'evidence' must list where each fact was seen")
    if not isinstance(listing.get("files", []), list):
        problems.append(f"{path}: 'files' must be a list of paths or globs")
    return problems


def file_problems(folder: Path, listing: dict, files: list[Path]) -> list[str]:
    """Files of ``folder`` (and archive members, parallel line counts) the listing lacks."""
    problems = []
    pairs = listing.get("pairs") or {}
    for path in files:
        relative = path.relative_to(folder).as_posix()
        if not listed(relative, listing.get("files") or []):
            problems.append(f"{folder.name}/{relative}: not in the real source ({folder / EVIDENCE})")
            continue
        if "members" in listing and tarfile.is_tarfile(path):  # (Rarámuri's text is "train.tar")
            with tarfile.open(path) as archive:
                members = [m.name for m in archive.getmembers() if m.isfile()]
            problems += [f"{folder.name}/{relative}: member {member} not in the real archive"
                         for member in members if not listed(member, listing.get("members") or [])]
        if pairs and path.suffix:
            stem = path.name.rsplit(".", 1)[0]
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if stem not in pairs:
                problems.append(f"{folder.name}/{relative}: no pair count for {stem}")
            elif lines > pairs[stem]:
                problems.append(f"{folder.name}/{relative}: {lines} lines, but the real file has "
                                f"{pairs[stem]} sentence pairs")
    return problems


def replica_problems(root: Path) -> list[str]:
    """Every replica file, member or pair under ``root`` that its nearest evidence.yaml lacks."""
    listings = {path.parent: yaml.safe_load(path.read_text(encoding="utf-8"))
                for path in sorted(root.rglob(EVIDENCE))}
    problems = [p for folder, listing in listings.items()
                for p in listing_problems(folder / EVIDENCE, listing)]
    owned: dict[Path, list[Path]] = {folder: [] for folder in listings}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != EVIDENCE):
        owner = next((parent for parent in path.parents if parent in listings), None)
        if owner is None:
            problems.append(f"{path.relative_to(root)}: no {EVIDENCE} above it")
        else:
            owned[owner].append(path)
    for folder, files in owned.items():
        problems += file_problems(folder, listings[folder], files)
    return problems


def test_every_replica_holds_only_what_its_real_source_holds():
    assert sorted(p.parent.relative_to(REPLICAS).as_posix() for p in REPLICAS.rglob(EVIDENCE)) == [
        "hub/Davlan/sib200", "hub/facebook/xnli", "hub/nala-cub/americas_nli",
        "hub/openlanguagedata/flores_plus", "hub/unimelb-nlp/wikiann", "hub/wikimedia/wikipedia",
        "opus", "releases/americasnli", "releases/americasnlp2021", "releases/ud",
        "releases/ud_repositories", "repositories/masakhane-ner", "unibridge_alignment"]
    assert replica_problems(REPLICAS) == []


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(REPLICAS, tmp_path / "replicas")
    return tmp_path / "replicas"


def test_a_made_up_file_or_an_unlisted_folder_is_named(copy):
    (copy / "releases" / "ud_repositories" / "UD_Sindhi-MazharDootio" / "sd_mazhardootio-ud-train.conllu"
     ).write_text("made up\n")
    (copy / "parallel_pairs").mkdir()
    (copy / "parallel_pairs" / "bzd-eng.tsv").write_text("a\tb\n")
    assert replica_problems(copy) == [
        "parallel_pairs/bzd-eng.tsv: no evidence.yaml above it",
        "ud_repositories/UD_Sindhi-MazharDootio/sd_mazhardootio-ud-train.conllu: not in the real "
        f"source ({copy / 'releases' / 'ud_repositories' / EVIDENCE})"]


def test_a_made_up_treebank_in_the_tarball_is_named(copy, tmp_path):
    tarball = copy / "releases" / "ud" / "ud-treebanks-v2.13.tgz"
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    made_up = tmp_path / "unpacked" / "ud-treebanks-v2.13" / "UD_Sindhi-MazharDootio"
    made_up.mkdir()
    (made_up / "sd_mazhardootio-ud-test.conllu").write_text("1\tx\tx\tX\t_\t_\t0\troot\t_\t_\n")
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(tmp_path / "unpacked" / "ud-treebanks-v2.13", arcname="ud-treebanks-v2.13")
    assert replica_problems(copy) == [
        "ud/ud-treebanks-v2.13.tgz: member ud-treebanks-v2.13/UD_Sindhi-MazharDootio/"
        "sd_mazhardootio-ud-test.conllu not in the real archive"]


def test_more_sentence_pairs_than_the_real_file_has_are_named(copy):
    moses = copy / "opus" / "Tatoeba.ang-ar.ar"
    moses.write_text("".join(f"line {i}\n" for i in range(5)), encoding="utf-8")
    (copy / "opus" / "Tatoeba.ang-ja.ja").write_text("x\n")
    assert replica_problems(copy) == [
        "opus/Tatoeba.ang-ar.ar: 5 lines, but the real file has 4 sentence pairs",
        f"opus/Tatoeba.ang-ja.ja: not in the real source ({copy / 'opus' / EVIDENCE})"]


def test_a_malformed_listing_is_named(copy):
    path = copy / "opus" / EVIDENCE
    listing = yaml.safe_load(path.read_text())
    listing["evidence"], listing["sources"] = [], "x"
    path.write_text(yaml.safe_dump(listing))
    problems = replica_problems(copy)
    assert f"{path}: unknown key 'sources'; valid: evidence, files, members, pairs, source" in problems
    assert f"{path}: 'evidence' must list where each fact was seen" in problems
